"""SciPy's solve_ivp on System.rhs next to lagc's own integrator.

    python examples/python/scipy_solve_ivp.py

`rhs(t, y)` is the first-order form y' = (q', q'') of a system, ready for any ODE solver.
Both integrate the double pendulum to t = 5 at tight tolerances; their trajectories agree
closely (the motion is chaotic, so small differences grow with time), and lagc's run is
much faster (no Python call per step).
"""

import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

import lagc

LAG = Path(__file__).resolve().parent.parent / "double_pendulum.lag"


def main():
    s = lagc.load(LAG)["double_pendulum"]
    y0 = np.array([3 * np.pi / 7, 3 * np.pi / 4, 0.0, 0.0])
    t_end, dt = 5.0, 0.01
    t_eval = np.arange(round(t_end / dt) + 1) * dt

    t0 = time.perf_counter()
    sol = solve_ivp(s.rhs, (0.0, t_end), y0, method="DOP853", t_eval=t_eval, rtol=1e-11, atol=1e-11)
    t_scipy = time.perf_counter() - t0
    t0 = time.perf_counter()
    tr = s.simulate(y0, t_end, dt, method="dopri5", rtol=1e-11, atol=1e-11)
    t_lagc = time.perf_counter() - t0

    diff = np.abs(sol.y[:2].T - tr.q).max()
    print(f"solve_ivp (DOP853 on s.rhs): {sol.nfev} rhs calls, {t_scipy:.3f} s")
    print(f"s.simulate (dopri5):         {len(tr.t)} rows, {t_lagc:.3f} s")
    print(f"max |q_scipy - q_lagc| over {len(t_eval)} times: {diff:.2e}")


if __name__ == "__main__":
    main()
