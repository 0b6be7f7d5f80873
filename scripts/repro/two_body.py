"""The two-body reproduction (examples/repro_two_body.lag), numpy, independent of lagc.

  python3 scripts/repro/two_body.py ics   writes the initial conditions: 50 training orbits
                                          (seed 1) and 40 unseen test orbits (seed 2), and
                                          200,000 random states in the annulus (training data)
  python3 scripts/repro/two_body.py own   the same on the single training orbit only
  python3 scripts/repro/two_body.py       flies the 40 test orbits with the truth and the
                                          two trained LNNs (RK4, dt = 0.002, t = 10) and
                                          reports the true-energy error of their states

Distribution: x ~ U[0.9, 1.1), y ~ U[-0.1, 0.1), x' ~ U[-0.1, 0.1), y' ~ U[1.3, 1.5).
Energy error of a run: |E_true(state) - E_true(initial)| / |E_true(initial)|, at t = 10
and its maximum over the run. Writes results/repro/tb_metric.csv.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import lagnn  # noqa: E402

MU, K = 0.5, 1.0
OUT = os.environ.get("REPRO_OUT", "results/repro")


def sample(n, seed):
    """n initial states [x, y, x', y'] from the orbit distribution."""
    rng = np.random.default_rng(seed)
    return np.stack(
        [
            rng.uniform(0.9, 1.1, n),
            rng.uniform(-0.1, 0.1, n),
            rng.uniform(-0.1, 0.1, n),
            rng.uniform(1.3, 1.5, n),
        ],
        1,
    )


def true_accel(q, v):
    """Kepler: q'' = -k q / (mu r^3)."""
    r = np.linalg.norm(q, axis=1, keepdims=True)
    return -K * q / (MU * r**3)


def true_energy(q, v):
    """mu |q'|^2 / 2 - k / r."""
    return MU / 2 * np.sum(v * v, 1) - K / np.linalg.norm(q, axis=1)


def write_ics(path, y):
    np.savetxt(path, y, delimiter=",", header="x,y,x',y'", comments="", fmt="%.17g")


def main():
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[1:] == ["ics"]:
        write_ics(f"{OUT}/tb_train_ics.csv", sample(50, 1))
        write_ics(f"{OUT}/tb_test_ics.csv", sample(40, 2))
        # Random states in the annulus 0.6 <= r < 1.6 the test orbits live in, velocities
        # U[-1.8, 1.8) per component, with their exact accelerations.
        rng = np.random.default_rng(3)
        m = 200000
        r = np.sqrt(rng.uniform(0.6**2, 1.6**2, m))
        phi = rng.uniform(0, 2 * np.pi, m)
        q = np.stack([r * np.cos(phi), r * np.sin(phi)], 1)
        v = rng.uniform(-1.8, 1.8, (m, 2))
        a = true_accel(q, v)
        np.savetxt(
            f"{OUT}/tb_states_data.csv",
            np.concatenate([q, v, a], 1),
            delimiter=",",
            header="x,y,x',y',x'',y''",
            comments="",
            fmt="%.17g",
        )
        return
    if sys.argv[1:] == ["own"]:
        # The one-orbit LNN on the orbit it was trained on.
        y0 = np.array([[1.0, 0.0, 0.0, 1.4]])
    else:
        y0 = np.loadtxt(f"{OUT}/tb_test_ics.csv", delimiter=",", skiprows=1)
    n = len(y0)
    e0 = true_energy(y0[:, :2], y0[:, 2:])
    models = {"truth": true_accel}
    for key, net_name in [("one", "tb_one"), ("many", "tb_many"), ("states", "tb_states")]:
        w = f"{OUT}/tb_{key}.weights"
        if os.path.exists(w):
            net = lagnn.Mlp(lagnn.load_weights(w), net_name, "softplus")
            feat = lagnn.linear_features(None)
            models[f"lnn_{key}"] = lambda q, v, net=net, feat=feat: lagnn.lnn_accel(net, q, v, feat)
    finals = {}
    for name, acc in models.items():
        with np.errstate(all="ignore"):
            ts, ys = lagnn.rk4(lagnn.second_order(acc, 2), y0, 10.0, 0.002, every=50)
        e = true_energy(ys[:, :, :2].reshape(-1, 2), ys[:, :, 2:].reshape(-1, 2)).reshape(
            len(ts), n
        )
        rel = np.abs(e - e0) / np.abs(e0)
        final, peak = rel[-1], np.max(np.where(np.isfinite(rel), rel, np.inf), axis=0)
        finals[name] = (final, peak)
        diverged = ~(final < 1.0)
        mean_ok = np.mean(final[~diverged]) if np.any(~diverged) else np.nan
        print(
            f"{name:10s} diverged (error > 100% or non-finite) {diverged.sum()}/{n};"
            f" energy error at t=10 of the others: mean {100 * mean_ok:.4f}%"
        )
        print(
            f"{name:10s} energy error at t=10: mean {100 * np.nanmean(final):9.4f}%"
            f"  median {100 * np.nanmedian(final):9.4f}%  max {100 * np.nanmax(final):9.4f}%;"
            f"  max over the run, mean over orbits {100 * np.mean(peak):9.4f}%"
            f"  (finite {np.isfinite(final).sum()}/{n})"
        )
    if sys.argv[1:] == ["own"]:
        return
    with open(f"{OUT}/tb_metric.csv", "w") as f:
        f.write("orbit," + ",".join(f"{m}_final,{m}_max" for m in finals) + "\n")
        for i in range(n):
            f.write(
                f"{i},"
                + ",".join(f"{finals[m][0][i]:.6g},{finals[m][1][i]:.6g}" for m in finals)
                + "\n"
            )


if __name__ == "__main__":
    main()
