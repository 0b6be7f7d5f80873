"""The double pendulum's exported kernels from Python through ctypes (no lagc needed):

    lagc export examples/double_pendulum.lag --system double_pendulum --out build --format shared
    python examples/export/pendulum.py build/libdouble_pendulum.so
"""

import ctypes
import sys

import numpy as np

lib = ctypes.CDLL(sys.argv[1] if len(sys.argv) > 1 else "build/libdouble_pendulum.so")
dp = ctypes.POINTER(ctypes.c_double)
lib.lagc_double_pendulum_accel.argtypes = [dp, dp, ctypes.c_uint64]
lib.lagc_double_pendulum_rhs.argtypes = [ctypes.c_double, dp, dp, dp]


def accel(rows):
    """q'' and the energy at each row (t1, t2, t1', t2', t)."""
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    out = np.empty((len(rows), 3))
    singular = lib.lagc_double_pendulum_accel(rows.ctypes.data_as(dp), out.ctypes.data_as(dp), len(rows))
    assert singular == 0
    return out


def rhs(t, y):
    """dy/dt for scipy.integrate.solve_ivp(rhs, (0, 10), y0)."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    dy = np.empty(4)
    lib.lagc_double_pendulum_rhs(t, y.ctypes.data_as(dp), dy.ctypes.data_as(dp), None)
    return dy


print(accel([[1.0, 0.5, 0.0, 0.0, 0.0]]))
print(rhs(0.0, [1.0, 0.5, 0.0, 0.0]))
