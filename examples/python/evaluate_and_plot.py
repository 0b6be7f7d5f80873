"""Evaluate the double pendulum on numpy arrays, integrate it, and plot the result.

    python examples/python/evaluate_and_plot.py [out.png]

Prints q'' and the energy at a few states, then integrates one trajectory with rk4 and
with the variational integrator and plots the angles and the relative energy error
(matplotlib, if installed; otherwise the numbers only).
"""

import sys
from pathlib import Path

import numpy as np

import lagc

EXAMPLES = Path(__file__).resolve().parent.parent


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "double_pendulum.png"
    s = lagc.load(EXAMPLES / "double_pendulum.lag")["double_pendulum"]
    print(f"{s.name}: coords {s.coords}, state columns {s.inputs}, params {s.params}")

    states = np.array([[0.5, 1.0, 0.0, 0.0], [3 * np.pi / 7, 3 * np.pi / 4, 0.0, 0.0], [0.1, -0.1, 1.0, -1.0]])
    for x, a, e in zip(states, s.accel(states), s.energy(states)):
        print(f"state {x} -> q'' = {a}, E = {e:.6f}")

    init = {"t1": 3 * np.pi / 7, "t2": 3 * np.pi / 4}
    runs = {m: s.simulate(init, 20.0, 0.01, method=m) for m in ("rk4", "variational")}
    for m, tr in runs.items():
        drift = np.abs(tr.energy - tr.energy[0]).max() / abs(tr.energy[0])
        print(f"{m}: {len(tr.t)} rows, max |E - E0|/|E0| = {drift:.2e}")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 6))
    for m, tr in runs.items():
        for k, c in enumerate(s.coords):
            top.plot(tr.t, tr.q[:, k], label=f"{c} ({m})")
        bottom.plot(tr.t, (tr.energy - tr.energy[0]) / abs(tr.energy[0]), label=m)
    top.set_ylabel("angle (rad)")
    top.legend(fontsize="small")
    bottom.set_ylabel("(E - E0)/|E0|")
    bottom.set_xlabel("t")
    bottom.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
