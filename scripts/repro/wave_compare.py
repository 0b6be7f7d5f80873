"""Compares the Lagrangian graph network's wave (wave_lgn.csv) with the analytic one
(wave_truth.csv), both written by `lagc run examples/wave.lag`: the field error, where
the pulse peak is, and the energy summed over the material (lagc's `energy` column, and
`truth_energy`: the analytic system's energy along the learned trajectory).

    python3 scripts/repro/wave_compare.py [DIR]      (DIR holds the two CSVs; default .)
"""
import csv
import sys
from pathlib import Path


def load(path):
    rows = list(csv.reader(open(path)))
    header = rows[0]
    return header, [[float(x) for x in r] for r in rows[1:]]


def main():
    d = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    ht, truth = load(d / "wave_truth.csv")
    hl, lgn = load(d / "wave_lgn.csv")
    n = sum(1 for h in ht if h.startswith("phi[") )
    it = [ht.index(f"phi[{i}]") for i in range(n)]
    il = [hl.index(f"phi[{i}]") for i in range(n)]
    e_l, e_t = hl.index("energy"), hl.index("truth_energy")
    e0 = lgn[0][e_t]
    print(f"{n} points; rows {len(truth)}")
    print("    t   max|phi_lgn - phi_true|   peak true  peak lgn   E_lgn/E_lgn(0)  E_true(lgn traj)/E(0)")
    for k in [0, 10, 25, 50, 100, 200, 300, 400, 500, 600, 700]:
        if k >= len(truth):
            break
        a = [truth[k][j] for j in it]
        b = [lgn[k][j] for j in il]
        err = max(abs(x - y) for x, y in zip(a, b))
        print(f"{truth[k][0]:5.2f}   {err:12.4f}             {a.index(max(a)):4d}      {b.index(max(b)):4d}"
              f"      {lgn[k][e_l] / lgn[0][e_l]:.6f}        {lgn[k][e_t] / e0:.6f}")
    worst = max(max(abs(truth[k][i] - lgn[k][j]) for i, j in zip(it, il)) for k in range(len(truth)))
    drift = max(abs(r[e_l] / lgn[0][e_l] - 1) for r in lgn)
    tdrift = max(abs(r[e_t] / e0 - 1) for r in lgn)
    print(f"worst field error over the run: {worst:.4f} (pulse height 1)")
    print(f"learned energy drift: {drift:.2e}; analytic energy along the learned trajectory: {tdrift:.2e}")


if __name__ == "__main__":
    main()
