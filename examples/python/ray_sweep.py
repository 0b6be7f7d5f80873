"""Scale-out with Ray: a parameter sweep, an ensemble and a training-seed sweep.

Each is run as Ray tasks that receive pickled `lagc.System` objects (source text, name,
overrides, weights and backend; they recompile on arrival), and each result is compared
with the same computation done serially here. Exits 1 on any mismatch.

    python examples/python/ray_sweep.py                  # local: ray.init(num_cpus=2)
    RAY_ADDRESS=auto python examples/python/ray_sweep.py # an existing cluster
    python examples/python/ray_sweep.py --size small     # a quick run (the test suite's)

On a cluster every worker needs the `lagc` package installed.
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import ray

import lagc

EXAMPLES = Path(__file__).resolve().parent.parent
SIZES = {
    # g values, ensemble states, ensemble chunks, training seeds, training steps, samples
    "small": dict(n_g=4, n_init=100, chunks=2, seeds=2, steps=100, n_data=2000),
    "full": dict(n_g=8, n_init=1000, chunks=8, seeds=4, steps=2000, n_data=20000),
}
RANGES = {
    "r": ("uniform", 0.5, 1.5),
    "theta": ("uniform", -np.pi, np.pi),
    "r'": ("normal", 0.0, 1.0),
    "theta'": ("normal", 0.0, 2.0),
}


def pendulum_end(s, t_end, dt):
    """Final angle and energy of a pendulum released at theta = 2."""
    tr = s.simulate({"theta": 2.0}, t_end, dt, method="variational")
    return tr.q[-1, 0], tr.energy[-1]


def ensemble_end(s, inits, t_end, dt):
    """Final (q, v) of an ensemble, one row per initial state."""
    tr = s.simulate(inits, t_end, dt, method="rk4")
    return np.hstack([tr.q[:, -1], tr.v[:, -1]])


def train_run(s, data, seed, steps):
    """Loss curve and fitted g of one training run (s is trained in place)."""
    res = s.train(data=data, steps=steps, batch=64, lr=1e-2, lr_decay=0.01, seed=seed, progress=False)
    return res.loss, s.learn["g"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    size = SIZES[ap.parse_args().size]
    if os.environ.get("RAY_ADDRESS"):
        ray.init(address=os.environ.get("RAY_ADDRESS"))
    else:
        ray.init(num_cpus=2)
    ok = True

    # 1. parameter sweep: one system per g (set=...), one task each
    gs = np.linspace(1.0, 20.0, size["n_g"])
    systems = [lagc.load(EXAMPLES / "pendulum.lag", set={"g": float(g)})["pendulum"] for g in gs]
    task = ray.remote(pendulum_end)
    remote = ray.get([task.remote(s, 5.0, 0.01) for s in systems])
    same = all(np.array_equal(r, pendulum_end(s, 5.0, 0.01)) for r, s in zip(remote, systems))
    print(f"g sweep: {len(gs)} values of g, final theta from {min(r[0] for r in remote):.4f} "
          f"to {max(r[0] for r in remote):.4f}: {'match' if same else 'MISMATCH'}")
    ok &= same

    # 2. ensemble: initial states split over tasks
    dp = lagc.load(EXAMPLES / "double_pendulum.lag")["double_pendulum"]
    rng = np.random.default_rng(0)
    inits = np.hstack([rng.uniform(0, 2 * np.pi, (size["n_init"], 2)), rng.uniform(0, 0.1, (size["n_init"], 2))])
    task = ray.remote(ensemble_end)
    parts = ray.get([task.remote(dp, chunk, 2.0, 0.01) for chunk in np.array_split(inits, size["chunks"])])
    same = np.array_equal(np.vstack(parts), ensemble_end(dp, inits, 2.0, 0.01))
    print(f"ensemble: {len(inits)} double pendulums in {size['chunks']} tasks: {'match' if same else 'MISMATCH'}")
    ok &= same

    # 3. training seeds: the same data, one task per seed
    m = lagc.load(EXAMPLES / "hybrid_spring_pendulum.lag")
    data = m["spring_pendulum"].sample(size["n_data"], seed=0, **RANGES)
    data_ref = ray.put(data)
    seeds = list(range(size["seeds"]))
    hybrid = m["hybrid"]
    task = ray.remote(train_run)
    remote = ray.get([task.remote(hybrid, data_ref, k, size["steps"]) for k in seeds])
    for k, (loss, g) in zip(seeds, remote):
        fresh = lagc.load(EXAMPLES / "hybrid_spring_pendulum.lag")["hybrid"]
        serial_loss, serial_g = train_run(fresh, data, k, size["steps"])
        same = np.array_equal(loss, serial_loss) and g == serial_g
        print(f"seed {k}: g = {g:.5f}, final loss {loss[-1]:.3e}: {'match' if same else 'MISMATCH'}")
        ok &= same

    print("all results match" if ok else "MISMATCH between Ray and serial results")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
