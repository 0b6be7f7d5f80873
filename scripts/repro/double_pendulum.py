"""The LNN paper's double-pendulum energy metric for the models of
examples/repro_double_pendulum.lag, from their weights files (numpy, independent of lagc).

40 initial conditions (angles U[0, 2 pi), velocities U[0, 0.1)), each model integrated to
t = 100 (RK4, dt = 0.01); metric = mean |E_true(final) - E_true(initial)| / 29.4.
Writes results/repro/dp_metric.csv (one row per start) and dp_energy.csv (the mean
error over time). Run from the repository root:
  python3 scripts/repro/double_pendulum.py [LNN_WEIGHTS [BASELINE_WEIGHTS]]
(with weights given, only the printed summary).
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import lagnn  # noqa: E402

G = 9.8
OUT = "results/repro"


def FEAT(q, v):
    """The nets' inputs: cos and sin of the angles, velocities / 10."""
    return lagnn.angle_features(q, v, 0.1)


def true_accel(q, v):
    """Exact q'' of the double pendulum with unit masses and lengths."""
    d = q[:, 0] - q[:, 1]
    c, s = np.cos(d), np.sin(d)
    a = np.stack([np.stack([2 * np.ones_like(c), c], -1), np.stack([c, np.ones_like(c)], -1)], -2)
    rhs = np.stack(
        [-s * v[:, 1] ** 2 - 2 * G * np.sin(q[:, 0]), s * v[:, 0] ** 2 - G * np.sin(q[:, 1])], -1
    )
    return np.linalg.solve(a, rhs[..., None])[..., 0]


def true_energy(q, v):
    """T + V of the double pendulum."""
    t = v[:, 0] ** 2 + 0.5 * v[:, 1] ** 2 + v[:, 0] * v[:, 1] * np.cos(q[:, 0] - q[:, 1])
    return t - 2 * G * np.cos(q[:, 0]) - G * np.cos(q[:, 1])


def main():
    rng = np.random.default_rng(1)
    n = 40
    q0 = rng.uniform(0, 2 * np.pi, (n, 2))
    v0 = rng.uniform(0, 0.1, (n, 2))
    y0 = np.concatenate([q0, v0], 1)
    e0 = true_energy(q0, v0)
    os.makedirs(OUT, exist_ok=True)
    np.savetxt(
        f"{OUT}/dp_ics.csv", y0, delimiter=",", header="t1,t2,t1',t2'", comments="", fmt="%.17g"
    )
    models = {"truth (RK4 dt 0.01)": true_accel}
    args = sys.argv[1:]
    w = args[0] if args else f"{OUT}/dp_lnn.weights"
    if os.path.exists(w):
        net = lagnn.Mlp(lagnn.load_weights(w), "lagrangian", "softplus")
        models["lnn"] = lambda q, v: lagnn.lnn_accel(net, q, v, FEAT)
    w = args[1] if len(args) > 1 else f"{OUT}/dp_baseline.weights"
    if os.path.exists(w):
        base = lagnn.Mlp(lagnn.load_weights(w), "f", "relu")
        models["baseline"] = lambda q, v: base(FEAT(q, v)[0])
    rows, curves = [], {}
    for name, acc in models.items():
        with np.errstate(all="ignore"):
            ts, ys = lagnn.rk4(lagnn.second_order(acc, 2), y0, 100.0, 0.01, every=100)
        et = true_energy(ys[:, :, :2].reshape(-1, 2), ys[:, :, 2:].reshape(-1, 2)).reshape(
            len(ts), n
        )
        rel = np.abs(et - e0) / (3 * G)
        final = rel[-1]
        finite = np.isfinite(final)
        curves[name] = np.nanmean(rel, axis=1)
        rows.append(final)
        diverged = ~(final < 1.0)
        print(
            f"{name:22s} diverged (error > 100% or non-finite) {diverged.sum()}/{n};"
            f" mean of the others {100 * np.mean(final[~diverged]):.4f}%"
        )
        print(
            f"{name:22s} mean {100 * np.nanmean(final):8.4f}%  median {100 * np.nanmedian(final):8.4f}%"
            f"  max {100 * np.nanmax(final):8.4f}%  (finite {finite.sum()}/{n})"
        )
    names = list(models)
    if args:
        return
    with open(f"{OUT}/dp_metric.csv", "w") as f:
        f.write("start," + ",".join(n.split(" ")[0] for n in names) + "\n")
        for i in range(n):
            f.write(f"{i}," + ",".join(f"{r[i]:.6g}" for r in rows) + "\n")
    with open(f"{OUT}/dp_energy.csv", "w") as f:
        f.write("t," + ",".join(n.split(" ")[0] for n in names) + "\n")
        for k, t in enumerate(ts):
            f.write(f"{t:g}," + ",".join(f"{curves[m][k]:.6g}" for m in names) + "\n")


if __name__ == "__main__":
    main()
