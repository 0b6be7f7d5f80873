"""Writes tests/data/numeric/sin_cos.csv: arguments and their correctly rounded sine and
cosine (mpmath at 60 significant digits, rounded once to the nearest double), as the
hex bits of each double. The sweep: 2,000 uniform points in [-pi, pi], 1,000 in
[-100, 100], 1,000 in [-1e5, 1e5], 500 log-spaced magnitudes from 1e-300 to 8e5 (both
signs), and the 300 doubles nearest to k*pi/2 for k up to 5e5 (the hardest reductions).

    pip install mpmath && python scripts/make_sin_cos_table.py
"""

import random
import struct
from pathlib import Path

import mpmath

mpmath.mp.dps = 60
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "numeric" / "sin_cos.csv"


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def main():
    rng = random.Random(20261203)
    xs = [rng.uniform(-3.141592653589793, 3.141592653589793) for _ in range(2000)]
    xs += [rng.uniform(-100, 100) for _ in range(1000)]
    xs += [rng.uniform(-1e5, 1e5) for _ in range(1000)]
    for k in range(250):
        m = 10 ** (-300 + k * (305.9 / 249))
        xs += [m, -m]
    for _ in range(300):
        k = rng.randrange(1, 500_000)
        xs.append(float(mpmath.mpf(k) * mpmath.pi / 2))
    with OUT.open("w") as f:
        f.write("x,sin,cos\n")
        for x in xs:
            s, c = mpmath.sin(mpmath.mpf(x)), mpmath.cos(mpmath.mpf(x))
            f.write(f"{bits(x):016x},{bits(float(s)):016x},{bits(float(c)):016x}\n")


if __name__ == "__main__":
    main()
