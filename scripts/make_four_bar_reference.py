"""Writes tests/data/constraints/four_bar.csv: the four-bar linkage of
examples/four_bar.lag integrated as a one-coordinate system in the crank angle, with no
constraints and no multipliers, as an independent reference for the constrained run
(tests/it/four_bar.rs). Columns: t, a1 (crank angle), a1' (crank velocity); 51 rows,
t = 0, 0.1, ..., 5.

The linkage: ground from O = (0, 0) to D = (l0, 0), crank O -> B at angle a1, coupler
B -> C at angle a2, rocker D -> C at angle a3 (angles from the +x axis, y up), each a
uniform rod of mass m_i, length l_i and inertia m_i l_i^2 / 12 about its centre. The loop

    F(a1, a2, a3) = l1 e(a1) + l2 e(a2) - l3 e(a3) - (l0, 0) = 0,   e(a) = (cos a, sin a)

fixes a2 and a3 given a1 (on the branch with C above the ground at a1 = 0). The reduced
model:

- a2(a1), a3(a1): Newton on F = 0 in (a2, a3), started from the triangle B-C-D.
- Their derivatives by implicit differentiation: with J = dF/d(a2, a3),
  J (a2_1, a3_1) = -dF/da1, and differentiating once more,
  J (a2_11, a3_11) = -(d2F/da1^2 + l2 a2_1^2 d2e(a2) - l3 a3_1^2 d2e(a3)), d2e = -e.
- Link centres c1 = l1/2 e(a1), c2 = l1 e(a1) + l2/2 e(a2), c3 = (l0, 0) + l3/2 e(a3):
  their velocities are G_i(a1) a1' with G_i = dc_i/da1 and the links turn at
  k_i(a1) a1' with k = (1, a2_1, a3_1). So T = M(a1) a1'^2 / 2 with
  M = sum_i m_i |G_i|^2 + I_i k_i^2, and V(a1) = g sum_i m_i c_i[1].
- Lagrange's equation of L = M a1'^2 / 2 - V: M a1'' + M'/2 a1'^2 + V' = 0, with
  M' = sum_i 2 m_i G_i . G_i' + 2 I_i k_i k_i' (G_i' from a2_11, a3_11) and
  V' = g sum_i m_i G_i[1].

It is integrated with SciPy's solve_ivp (DOP853, rtol = atol = 1e-13). The script
checks M' against a central difference of M, that the energy M a1'^2 / 2 + V stays
constant, and that the crank turns fully; it also prints the initial state of
examples/four_bar.lag (a2, a3, a2', a3' from the loop at a1 = 0).

    python scripts/make_four_bar_reference.py
"""

import math
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

# examples/four_bar.lag
L0, L1, L2, L3 = 4.0, 1.0, 3.5, 3.0
M1, M2, M3 = 1.0, 2.0, 1.5
G = 9.81
I1, I2, I3 = M1 * L1**2 / 12, M2 * L2**2 / 12, M3 * L3**2 / 12
A1_0, W_0 = 0.0, 6.0  # initial crank angle and velocity
T_END, ROWS = 5.0, 51

OUT = Path(__file__).resolve().parent.parent / "tests/data/constraints/four_bar.csv"


def e(a):
    return np.array([math.cos(a), math.sin(a)])


def d1e(a):  # de/da
    return np.array([-math.sin(a), math.cos(a)])


def closure(a1):
    """a2, a3 with F(a1, a2, a3) = 0 on the branch with C above BD."""
    b = L1 * e(a1)
    bd = np.array([L0, 0.0]) - b
    d = math.hypot(bd[0], bd[1])
    # Triangle B-C-D: the angle at B between BD and BC by the law of cosines.
    gamma = math.acos((L2**2 + d**2 - L3**2) / (2 * L2 * d))
    a2 = math.atan2(bd[1], bd[0]) + gamma
    c = b + L2 * e(a2)
    a3 = math.atan2(c[1], c[0] - L0)
    # Newton on F in (a2, a3) to the last bits.
    for _ in range(4):
        f = L1 * e(a1) + L2 * e(a2) - L3 * e(a3) - np.array([L0, 0.0])
        jac = np.column_stack([L2 * d1e(a2), -L3 * d1e(a3)])
        da2, da3 = np.linalg.solve(jac, -f)
        a2, a3 = a2 + da2, a3 + da3
    return a2, a3


def kinematics(a1):
    """a2, a3 and their first and second derivatives with respect to a1."""
    a2, a3 = closure(a1)
    jac = np.column_stack([L2 * d1e(a2), -L3 * d1e(a3)])
    a2_1, a3_1 = np.linalg.solve(jac, -L1 * d1e(a1))
    # d2F/da1^2 along the loop: -l1 e(a1) - l2 a2_1^2 e(a2) + l3 a3_1^2 e(a3) + J (a2_11, a3_11)
    rest = -L1 * e(a1) - L2 * a2_1**2 * e(a2) + L3 * a3_1**2 * e(a3)
    a2_11, a3_11 = np.linalg.solve(jac, -rest)
    return a2, a3, a2_1, a3_1, a2_11, a3_11


def reduced(a1):
    """M(a1), M'(a1), V(a1), V'(a1)."""
    a2, a3, a2_1, a3_1, a2_11, a3_11 = kinematics(a1)
    # G_i = dc_i/da1 and G_i' = d2c_i/da1^2 (d2e/da2 = -e).
    g1 = L1 / 2 * d1e(a1)
    g2 = L1 * d1e(a1) + L2 / 2 * a2_1 * d1e(a2)
    g3 = L3 / 2 * a3_1 * d1e(a3)
    dg1 = -L1 / 2 * e(a1)
    dg2 = -L1 * e(a1) + L2 / 2 * (a2_11 * d1e(a2) - a2_1**2 * e(a2))
    dg3 = L3 / 2 * (a3_11 * d1e(a3) - a3_1**2 * e(a3))
    mass = M1 * g1 @ g1 + M2 * g2 @ g2 + M3 * g3 @ g3 + I1 + I2 * a2_1**2 + I3 * a3_1**2
    dmass = 2 * (M1 * g1 @ dg1 + M2 * g2 @ dg2 + M3 * g3 @ dg3) + 2 * (
        I2 * a2_1 * a2_11 + I3 * a3_1 * a3_11
    )
    heights = (
        M1 * L1 / 2 * math.sin(a1)
        + M2 * (L1 * math.sin(a1) + L2 / 2 * math.sin(a2))
        + M3 * L3 / 2 * math.sin(a3)
    )
    return mass, dmass, G * heights, G * (M1 * g1[1] + M2 * g2[1] + M3 * g3[1])


def rhs(_t, y):
    a1, w = y
    mass, dmass, _, dpot = reduced(a1)
    return [w, -(dmass / 2 * w**2 + dpot) / mass]


def energy(a1, w):
    mass, _, pot, _ = reduced(a1)
    return mass * w**2 / 2 + pot


def main():
    # M' against a central difference of M, and V' against one of V.
    for a1 in np.linspace(0, 2 * math.pi, 13):
        h = 1e-5
        mp, _, vp, _ = reduced(a1 + h)
        mm, _, vm, _ = reduced(a1 - h)
        _, dmass, _, dpot = reduced(a1)
        assert abs((mp - mm) / (2 * h) - dmass) < 1e-7 * max(1, abs(dmass)), a1
        assert abs((vp - vm) / (2 * h) - dpot) < 1e-7 * max(1, abs(dpot)), a1

    times = np.linspace(0, T_END, ROWS)
    sol = solve_ivp(
        rhs, (0, T_END), [A1_0, W_0], method="DOP853", rtol=1e-13, atol=1e-13,
        t_eval=times, dense_output=False,
    )
    assert sol.success, sol.message
    e0 = energy(A1_0, W_0)
    drift = max(abs(energy(a, w) - e0) for a, w in zip(sol.y[0], sol.y[1]))
    assert drift < 1e-10 * abs(e0), drift
    assert sol.y[1].min() > 0 and sol.y[0][-1] > 2 * math.pi, "the crank must turn fully"

    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w") as f:
        f.write("t,a1,a1'\n")
        for t, a, w in zip(times, sol.y[0], sol.y[1]):
            f.write(f"{t:.15g},{a:.17g},{w:.17g}\n")

    a2, a3, a2_1, a3_1, _, _ = kinematics(A1_0)
    print(f"wrote {OUT}: {ROWS} rows; energy {e0:.17g}, drift {drift:.3e}")
    print(f"crank turns {sol.y[0][-1] / (2 * math.pi):.3f} times; "
          f"a1' in [{sol.y[1].min():.4f}, {sol.y[1].max():.4f}]")
    print("init for examples/four_bar.lag:")
    print(f"  a1 = {A1_0!r}, a2 = {float(a2)!r}, a3 = {float(a3)!r},")
    print(f"  a1' = {W_0!r}, a2' = {float(a2_1 * W_0)!r}, a3' = {float(a3_1 * W_0)!r};")


if __name__ == "__main__":
    main()
