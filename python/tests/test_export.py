"""`lagc export --format shared`: the double pendulum's library loaded with ctypes.

lagc_S_accel against `lagc accel` (to 1e-12 relative), and an ODE solver over
lagc_S_rhs against `lagc simulate --method dopri5`: SciPy's solve_ivp when SciPy is
installed, else a fine fixed-step RK4 in numpy. Needs a C compiler `cc` to link the
library (skipped, saying so, without one).
"""

import ctypes
import shutil

import numpy as np
import pytest

from conftest import EXAMPLES, columns, ddot, read_csv, write_csv

try:
    from scipy.integrate import solve_ivp
except ImportError:  # pragma: no cover - depends on the environment
    solve_ivp = None

FILE = EXAMPLES / "double_pendulum.lag"
NAMES = ["t1", "t2", "t1'", "t2'"]


@pytest.fixture(scope="module")
def lib(cli, tmp_path_factory):
    """The exported double pendulum, loaded, with argument types set."""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler `cc` to link the shared library")
    out = tmp_path_factory.mktemp("export")
    cli("export", FILE, "--system", "double_pendulum", "--out", out, "--format", "shared", "--quiet")
    dll = ctypes.CDLL(str(out / "libdouble_pendulum.so"))
    p = ctypes.POINTER(ctypes.c_double)
    dll.lagc_double_pendulum_accel.argtypes = [p, p, ctypes.c_uint64]
    dll.lagc_double_pendulum_accel.restype = ctypes.c_int
    dll.lagc_double_pendulum_rhs.argtypes = [ctypes.c_double, p, p, p]
    dll.lagc_double_pendulum_rhs.restype = ctypes.c_int
    header = (out / "double_pendulum.h").read_text()
    return dll, header


def ptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def test_header_names_the_columns(lib):
    _, header = lib
    assert '{"t1", "t2", "t1\'", "t2\'", "t"}' in header


def test_accel_matches_the_cli(lib, cli, tmp_path):
    dll, _ = lib
    rng = np.random.default_rng(3)
    n = 100
    states = np.hstack([rng.uniform(-2, 2, (n, 2)), rng.uniform(-1, 1, (n, 2)), rng.uniform(0, 5, (n, 1))])
    write_csv(tmp_path / "s.csv", NAMES + ["t"], states)
    cli("accel", FILE, "--system", "double_pendulum", "--states", tmp_path / "s.csv", "--out", tmp_path / "a.csv")
    header, want = read_csv(tmp_path / "a.csv")
    inp = np.ascontiguousarray(states)
    out = np.zeros((n, 3))
    assert dll.lagc_double_pendulum_accel(ptr(inp), ptr(out), n) == 0
    want = columns(header, want, [ddot("t1"), ddot("t2"), "energy"])
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=0)


def rk4(f, y, t_end, steps):
    h = t_end / steps
    t = 0.0
    for _ in range(steps):
        k1 = f(t, y)
        k2 = f(t + h / 2, y + h / 2 * k1)
        k3 = f(t + h / 2, y + h / 2 * k2)
        k4 = f(t + h, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t += h
    return y


def test_ode_solver_over_rhs_matches_simulate(lib, cli, tmp_path):
    dll, _ = lib
    y0 = np.array([1.0, 0.5, 0.0, 0.0])
    t_end = 2.0
    cli(
        "simulate", FILE, "--system", "double_pendulum", "--init",
        "t1=1.0,t2=0.5,t1'=0.0,t2'=0.0", "--t-end", t_end, "--dt", 0.5,
        "--method", "dopri5", "--rtol", 1e-12, "--atol", 1e-12, "--out", tmp_path / "traj.csv",
    )
    header, traj = read_csv(tmp_path / "traj.csv")
    want = columns(header, traj, NAMES)[-1]
    assert columns(header, traj, ["t"])[-1, 0] == pytest.approx(t_end)

    def f(t, y):
        y = np.ascontiguousarray(y, dtype=np.float64)
        dy = np.empty(4)
        assert dll.lagc_double_pendulum_rhs(t, ptr(y), ptr(dy), None) == 0
        return dy

    if solve_ivp is not None:
        got = solve_ivp(f, (0, t_end), y0, method="DOP853", rtol=1e-11, atol=1e-11).y[:, -1]
    else:
        got = rk4(f, y0, t_end, 4000)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
