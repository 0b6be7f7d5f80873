"""The relativistic-particle reproduction (examples/repro_relativistic.lag), numpy,
independent of lagc: each trained model's trajectory from rest at g = 0.5 next to the
truth, and its acceleration error on 10,000 fresh states of the training distribution.

  python3 scripts/repro/relativistic.py       (from the repository root)

For the HNNs the state is (q, p); their velocity is q' = dH/dp, and their "acceleration"
at a state (q, q') is taken where they were trained: the velocity HNN at p = q' (its
p' is its q''), the canonical HNN at p = q'(1 - q'^2)^(-3/2), with
q'' = d/dt dH/dp = H_pq q' + H_pp p'. Writes results/repro/rel_traj.csv.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import lagnn  # noqa: E402

OUT = os.environ.get("REPRO_OUT", "results/repro")
SCALE = [0.1, 1.0, 0.1]


def true_accel(v, g):
    return g * (1 - v**2) ** 2.5 / (1 + 2 * v**2)


def main():
    models = {}
    w = lambda k: f"{OUT}/rel_{k}.weights"  # noqa: E731
    if os.path.exists(w("lnn")):
        models["lnn"] = lagnn.Mlp(lagnn.load_weights(w("lnn")), "rel_lnn", "softplus")
    if os.path.exists(w("hnn_velocity")):
        models["hnn_velocity"] = lagnn.Mlp(
            lagnn.load_weights(w("hnn_velocity")), "rel_hnn_v", "softplus"
        )
    if os.path.exists(w("hnn_canonical")):
        models["hnn_canonical"] = lagnn.Mlp(
            lagnn.load_weights(w("hnn_canonical")), "rel_hnn_c", "softplus"
        )

    # Acceleration error on fresh states (the training distribution, another seed).
    rng = np.random.default_rng(7)
    n = 10000
    q = rng.uniform(-10, 10, (n, 1))
    v = 0.99 * np.tanh(2 * rng.normal(0, 1, (n, 1)))
    g = 10 * rng.normal(0, 1, (n, 1))
    a_true = true_accel(v, g)
    print(f"{'model':14s} accel MSE on fresh states   (mean square of q'': {np.mean(a_true**2):.3g})")
    for name, net in models.items():
        feat = lagnn.linear_features(SCALE, extra=g)
        if name == "lnn":
            a = lagnn.lnn_accel(net, q, v, feat)
        else:
            p = v if name == "hnn_velocity" else v * (1 - v**2) ** -1.5
            _, gr, h = net.jet2(*feat(q, p))
            gr, h = gr[..., 0], h[..., 0]
            if name == "hnn_velocity":
                a = -gr[:, :1]
            else:
                qd, pd = gr[:, 1:2], -gr[:, :1]
                a = h[:, 1:2, 0] * qd + h[:, 1:2, 1] * pd
        print(f"{name:14s} {np.mean((a - a_true) ** 2):.3e}")

    # Trajectories from rest at g = 0.5, t in [0, 10].
    g0 = 0.5
    dt, t_end = 0.001, 10.0
    y0 = np.zeros((1, 2))
    ts, truth = lagnn.rk4(
        lambda y: np.concatenate([y[:, 1:], true_accel(y[:, 1:], g0)], 1), y0, t_end, dt, 100
    )
    cols = {"t": ts, "q_truth": truth[:, 0, 0], "v_truth": truth[:, 0, 1]}
    gcol = np.full((1, 1), g0)
    for name, net in models.items():
        feat = lagnn.linear_features(SCALE, extra=gcol)
        if name == "lnn":
            rate = lagnn.second_order(lambda q, v: lagnn.lnn_accel(net, q, v, feat), 1)
        else:

            def rate(y, net=net, feat=feat):
                qd, pd = lagnn.hnn_rates(net, y[:, :1], y[:, 1:], feat)
                return np.concatenate([qd, pd], 1)

        with np.errstate(all="ignore"):
            _, ys = lagnn.rk4(rate, y0, t_end, dt, 100)
        qs = ys[:, 0, 0]
        if name == "lnn":
            vs = ys[:, 0, 1]
        else:
            vs = lagnn.hnn_rates(net, ys[:, 0, :1], ys[:, 0, 1:], lagnn.linear_features(
                SCALE, extra=np.full((len(ys), 1), g0)))[0][:, 0]
        cols[f"q_{name}"], cols[f"v_{name}"] = qs, vs
        print(
            f"{name:14s} trajectory at g = 0.5: |q - q_true| at t = 10: "
            f"{abs(qs[-1] - cols['q_truth'][-1]):.3g} (q_true {cols['q_truth'][-1]:.4g}),"
            f" max |q' - q'_true| {np.max(np.abs(vs - cols['v_truth'])):.3g},"
            f" max q' {np.max(vs):.4g}"
        )
    names = list(cols)
    with open(f"{OUT}/rel_traj.csv", "w") as f:
        f.write(",".join(names) + "\n")
        for k in range(len(ts)):
            f.write(",".join(f"{cols[c][k]:.6g}" for c in names) + "\n")


if __name__ == "__main__":
    main()
