"""Writes tests/data/numeric/elementary.csv: arguments of exp, log, tanh, atan and atan2
with their correctly rounded values (mpmath at 60 significant digits, rounded once to
the nearest double, subnormals included), as the hex bits of each double. Columns:
function, x (y for atan2), the second argument (x for atan2, else 0), the value.

The sweeps (seeded, about 2,500 rows per function):
- exp: uniform in [-745.2, 709.8], [-1, 1]; |x| log-spaced from 1e-300 to 1 (both
  signs); near overflow [709, 709.79] and in the subnormal range [-745.14, -708.4];
  near the reduction's boundaries (k + 1/2) ln 2.
- log: random doubles with exponents uniform over the whole range, subnormals
  included; [0.5, 2] uniform; 1 +- 10^-k; near sqrt(2)/2 and sqrt(2) (mantissa
  reduction boundaries); 1e308 to the largest double.
- tanh: uniform in [-1, 1], [-25, 25]; near ln(3)/2 (the switch between the rational
  and the exp form); |x| log-spaced from 1e-300 to 1 (both signs).
- atan: uniform in [-3, 3]; near the reduction points 7/16, 11/16, 19/16, 39/16;
  |x| log-spaced from 1e-300 to 1e300 (both signs).
- atan2: y and x with log-uniform magnitudes from 1e-300 to 1e300 and random signs;
  both uniform in [-1, 1]; x < 0 with |y| much smaller (near +-pi); quotients near the
  reduction points.

    pip install mpmath && python scripts/make_elementary_table.py
"""

import math
import random
import struct
from pathlib import Path

import mpmath

mpmath.mp.dps = 60
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "numeric" / "elementary.csv"


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def to_double(v):
    """v rounded once to the nearest double (subnormals on the 2^-1074 grid)."""
    if v == 0 or abs(v) >= mpmath.mpf(2) ** -1022:
        return float(v)
    return float(mpmath.nint(v * mpmath.mpf(2) ** 1074)) * 2.0**-1074


def log_spaced(rng, lo, hi, n):
    return [10 ** rng.uniform(lo, hi) for _ in range(n)]


def both_signs(xs):
    return [s * x for x in xs for s in (1, -1)]


def exp_args(rng):
    xs = [rng.uniform(-745.2, 709.8) for _ in range(800)]
    xs += [rng.uniform(-1, 1) for _ in range(400)]
    xs += both_signs(log_spaced(rng, -300, 0, 250))
    xs += [rng.uniform(709, 709.79) for _ in range(200)]
    xs += [rng.uniform(-745.14, -708.4) for _ in range(300)]
    for _ in range(300):
        k = rng.randrange(-1070, 1020)
        xs.append((k + 0.5) * math.log(2) * (1 + rng.uniform(-1e-15, 1e-15)))
    return [(x, 0.0) for x in xs]


def log_args(rng):
    xs = []
    for _ in range(900):
        e = rng.randrange(-1074, 1024)
        xs.append(math.ldexp(1 + rng.random(), e) if e > -1022 else math.ldexp(rng.random(), -1022))
    xs += [rng.uniform(0.5, 2) for _ in range(500)]
    for k in range(1, 17):
        for _ in range(15):
            d = rng.uniform(0.1, 1) * 10.0**-k
            xs += [1 + d, 1 - d]
    for _ in range(150):
        e = rng.randrange(-1000, 1000)
        d = rng.uniform(-1e-12, 1e-12)
        xs += [math.ldexp(math.sqrt(0.5) + d, e), math.ldexp(math.sqrt(2) + d, e)]
    xs += [rng.uniform(1e308, 1.7976931348623157e308) for _ in range(100)]
    return [(x, 0.0) for x in xs]


def tanh_args(rng):
    xs = [rng.uniform(-1, 1) for _ in range(800)]
    xs += [rng.uniform(-25, 25) for _ in range(600)]
    h = math.log(3) / 2
    xs += both_signs([h + rng.uniform(-0.02, 0.02) for _ in range(250)])
    xs += both_signs(log_spaced(rng, -300, 0, 250))
    return [(x, 0.0) for x in xs]


def atan_args(rng):
    xs = [rng.uniform(-3, 3) for _ in range(800)]
    for b in (7 / 16, 11 / 16, 19 / 16, 39 / 16):
        xs += both_signs([b + rng.uniform(-1e-3, 1e-3) for _ in range(100)])
    xs += both_signs(log_spaced(rng, -300, 300, 450))
    return [(x, 0.0) for x in xs]


def atan2_args(rng):
    sign = lambda: rng.choice((1.0, -1.0))
    ps = [(sign() * 10 ** rng.uniform(-300, 300), sign() * 10 ** rng.uniform(-300, 300)) for _ in range(1000)]
    ps += [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in range(800)]
    ps += [(sign() * rng.uniform(0, 1) * 10.0 ** -rng.randrange(0, 20), -rng.uniform(0.1, 10)) for _ in range(300)]
    for b in (7 / 16, 11 / 16, 19 / 16, 39 / 16):
        for _ in range(100):
            x = sign() * rng.uniform(0.1, 10)
            ps.append((sign() * abs(x) * (b + rng.uniform(-1e-3, 1e-3)), x))
    return ps


FUNCS = {
    "exp": (exp_args, lambda a, b: mpmath.exp(a)),
    "log": (log_args, lambda a, b: mpmath.log(a)),
    "tanh": (tanh_args, lambda a, b: mpmath.tanh(a)),
    "atan": (atan_args, lambda a, b: mpmath.atan(a)),
    "atan2": (atan2_args, lambda a, b: mpmath.atan2(a, b)),
}


def main():
    rng = random.Random(20261203)
    with OUT.open("w") as f:
        f.write("f,a,b,value\n")
        for name, (args, fn) in FUNCS.items():
            for a, b in args(rng):
                v = to_double(fn(mpmath.mpf(a), mpmath.mpf(b)))
                f.write(f"{name},{bits(a):016x},{bits(b):016x},{bits(v):016x}\n")


if __name__ == "__main__":
    main()
