"""Fit the hybrid spring pendulum (known kinetic energy, a net V(r), a fitted g).

    python examples/python/fit_hybrid.py [--steps 8000] [--save hybrid.safetensors]

The data are exact accelerations of the truth system at random states, drawn by
`System.sample`; training is `lagc train`'s trainer (same numbers for the same data and
seed). Prints the fitted g (truth 9.81).
"""

import argparse
from pathlib import Path

import numpy as np

import lagc

LAG = Path(__file__).resolve().parent.parent / "hybrid_spring_pendulum.lag"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--save", help="write the trained weights (safetensors)")
    args = ap.parse_args()

    m = lagc.load(LAG)
    truth, hybrid = m["spring_pendulum"], m["hybrid"]
    states, targets = truth.sample(
        20000, seed=0,
        r=("uniform", 0.5, 1.5), theta=("uniform", -np.pi, np.pi),
        **{"r'": ("normal", 0.0, 1.0), "theta'": ("normal", 0.0, 2.0)},
    )
    print(f"{len(states)} samples; first guess g = {hybrid.learn['g']}")
    res = hybrid.train(data=(states, targets), steps=args.steps, batch=64, lr=1e-2, lr_decay=0.01,
                       loss="mse", seed=0, val=0.1, progress=True)
    g = hybrid.learn["g"]
    print(f"fitted g = {g:.6f} (truth {truth.params['g']}, error {abs(g / truth.params['g'] - 1):.2e})")
    print(f"final training loss {res.loss[-1]:.3e}, validation loss {res.val_loss[-1]:.3e}")
    if args.save:
        hybrid.save_weights(args.save)
        print(f"wrote {args.save}")


if __name__ == "__main__":
    main()
