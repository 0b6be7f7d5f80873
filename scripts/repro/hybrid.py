"""The hybrid spring pendulum (examples/hybrid_spring_pendulum.lag): the fitted g and the
learned spring potential V(r) against the truth k/2 (r - l0)^2 (k = 40, l0 = 1), up to the
constant no motion can see. Numpy, independent of lagc.

  python3 scripts/repro/hybrid.py [WEIGHTS]   (default results/repro/hybrid_spring_pendulum.weights)
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import lagnn  # noqa: E402


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "results/repro/hybrid_spring_pendulum.weights"
    w = lagnn.load_weights(path)
    g = float(w["g"])
    print(f"fitted g = {g:.5f} (truth 9.81, error {100 * abs(g - 9.81) / 9.81:.3f}%)")
    net = lagnn.Mlp(w, "V", "softplus")
    r = np.linspace(0.5, 1.5, 101)[:, None]
    v = net(r)[:, 0]
    truth = 20 * (r[:, 0] - 1) ** 2
    v = v - np.mean(v - truth)
    print(
        f"V(r) on [0.5, 1.5] after removing the constant: max |V - 20 (r - 1)^2| = "
        f"{np.max(np.abs(v - truth)):.3g} (V ranges 0..5)"
    )


if __name__ == "__main__":
    main()
