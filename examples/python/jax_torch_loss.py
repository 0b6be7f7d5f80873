"""lagc accelerations inside JAX and PyTorch losses, through numpy.

    python examples/python/jax_torch_loss.py

A small model (a linear map of features sin t1, sin t2, ...) is fitted to the double
pendulum's q'' as computed by `System.accel`. lagc is not differentiated here: its
output is data (the targets), handed over as numpy arrays. Under `jax.jit` the call goes
through `jax.pure_callback`. Each framework is optional; a missing one is skipped.
"""

from pathlib import Path

import numpy as np

import lagc

LAG = Path(__file__).resolve().parent.parent / "double_pendulum.lag"


def features(x, lib):
    t1, t2, w1, w2 = (x[:, k] for k in range(4))
    d = t1 - t2
    return lib.stack([lib.sin(t1), lib.sin(t2), lib.sin(d) * w1**2, lib.sin(d) * w2**2], 1)


def with_jax(s, x):
    import jax
    import jax.numpy as jnp

    def targets(states):
        shape = jax.ShapeDtypeStruct((states.shape[0], s.dof), jnp.float32)
        return jax.pure_callback(lambda a: s.accel(np.asarray(a)).astype(np.float32), shape, states)

    @jax.jit
    def loss(w, states):
        return jnp.mean((features(states, jnp) @ w - targets(states)) ** 2)

    w = jnp.zeros((4, 2))
    states = jnp.asarray(x, dtype=jnp.float32)
    grad = jax.jit(jax.grad(loss))
    for _ in range(300):
        w = w - 0.5 * grad(w, states)
    print(f"jax:   loss {float(loss(w, states)):.4f}")


def with_torch(s, x):
    import torch

    states = torch.tensor(x)
    targets = torch.from_numpy(s.accel(states.numpy()))
    w = torch.zeros((4, 2), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        loss = torch.mean((features(states, torch) @ w - targets) ** 2)
        loss.backward()
        opt.step()
    print(f"torch: loss {loss.item():.4f}")


def main():
    s = lagc.load(LAG)["double_pendulum"]
    rng = np.random.default_rng(0)
    x = np.hstack([rng.uniform(-np.pi, np.pi, (4096, 2)), rng.uniform(-1, 1, (4096, 2))])
    print(f"variance of the targets: {s.accel(x).var():.4f}")
    for name, run in (("jax", with_jax), ("torch", with_torch)):
        try:
            run(s, x)
        except ImportError:
            print(f"{name} is not installed: skipped")


if __name__ == "__main__":
    main()
