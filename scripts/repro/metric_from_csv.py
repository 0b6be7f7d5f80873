"""The paper's energy metric from a lagc trajectory CSV with many runs:

  python3 scripts/repro/metric_from_csv.py results/repro/dp_lnn.csv [COLUMN] [SCALE]

mean over runs of |E(final row) - E(first row)| / SCALE, E the column COLUMN
(default truth_energy, else energy), SCALE 29.4 (the double pendulum's max potential).
"""

import sys

import numpy as np


def main():
    path = sys.argv[1]
    names = open(path).readline().strip().split(",")
    col = sys.argv[2] if len(sys.argv) > 2 else ("truth_energy" if "truth_energy" in names else "energy")
    scale = float(sys.argv[3]) if len(sys.argv) > 3 else 29.4
    d = np.loadtxt(path, delimiter=",", skiprows=1)
    run, e, t = d[:, names.index("run")], d[:, names.index(col)], d[:, names.index("t")]
    errs, ends = [], []
    for r in np.unique(run):
        rows = run == r
        errs.append(abs(e[rows][-1] - e[rows][0]) / scale)
        ends.append(t[rows][-1])
    errs = np.array(errs)
    print(
        f"{path}: {len(errs)} runs (last time min {min(ends):g}), {col}: mean {100 * errs.mean():.4f}%"
        f"  median {100 * np.median(errs):.4f}%  max {100 * errs.max():.4f}%"
    )


if __name__ == "__main__":
    main()
