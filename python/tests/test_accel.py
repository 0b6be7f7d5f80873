"""accel and energy against the command line, the SymPy references and a hand-derived formula."""

import numpy as np
import pytest

import lagc
from conftest import EXAMPLES, REFERENCE, columns, ddot, parse_csv, read_csv, write_csv

BACKENDS = ["jit", "interp"]
LAG_FILES = sorted(EXAMPLES.glob("*.lag")) + [REFERENCE / "systems.lag"]
REF_CSVS = sorted(REFERENCE.glob("*.csv"))


def same(a, b):
    """Equal up to the last bits (the same kernel on the same doubles)."""
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def cli_accel(cli, tmp_path, lag, system, backend, header, rows):
    """`lagc accel` on the given states: (accelerations (n, dof), energies (n,))."""
    states = tmp_path / "states.csv"
    write_csv(states, header, rows)
    out = cli("accel", lag, "--system", system, "--states", states, "--backend", backend).stdout
    h, data = parse_csv(out)
    assert h[-1] == "energy"
    # Constraint multipliers (`lambda_NAME`) sit between the rates and the energy.
    rates = next(k for k, name in enumerate(h) if "'" not in name)
    return data[:, :rates], data[:, -1]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("lag", LAG_FILES, ids=lambda p: p.stem)
def test_matches_cli_on_every_system_without_nets(cli, tmp_path, lag, backend):
    m = lagc.load(lag)
    checked = 0
    for name in m.systems:
        s = m.system(name, backend=backend)
        # accel of a system with measured inputs is the command line's only (test_simulate).
        if s.nets or s.measured:
            continue
        n, d = 12, s.dof
        rng = np.random.default_rng(len(name))
        x64 = np.hstack([rng.uniform(-1.5, 1.5, (n, d)), rng.uniform(-0.5, 0.5, (n, d))])
        t = rng.uniform(0, 3, n)
        x32 = x64.astype(np.float32)
        rows = np.column_stack([np.vstack([x64, x32.astype(np.float64)]), np.concatenate([t, t])])
        a_cli, e_cli = cli_accel(cli, tmp_path, lag, name, backend, s.inputs + ["t"], rows)
        a64, e64, a32, e32 = a_cli[:n], e_cli[:n], a_cli[n:], e_cli[n:]

        a, e = s.accel(x64, t=t), s.energy(x64, t=t)
        assert a.shape == (n, d) and a.dtype == np.float64 and e.shape == (n,)
        same(a, a64)
        same(e, e64)
        same(s.accel(x32, t=t), a32)
        same(s.energy(x32, t=t), e32)
        same(s.accel(np.asfortranarray(x64), t=t), a64)
        wide = np.zeros((2 * n, 4 * d))
        wide[::2, ::2] = x64
        strided = wide[::2, ::2]
        assert not strided.flags.c_contiguous
        same(s.accel(strided, t=t), a64)
        same(s.energy(strided, t=t), e64)
        t_rev = t[::-1].copy()
        same(s.accel(x64, t=t_rev[::-1]), a64)  # a negative-stride t
        for i in range(3):
            one = s.accel(x64[i], t=t[i])
            assert one.shape == (d,)
            same(one, a64[i])
            same(float(s.energy(x64[i], t=t[i])), e64[i])
        checked += 1
    measured = all(m.system(n).measured for n in m.systems)
    assert checked > 0 or measured, f"no system without nets in {lag}"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("csv", REF_CSVS, ids=lambda p: p.stem)
def test_reference_values(cli, tmp_path, csv, backend):
    """tests/data/reference/NAME.csv holds SymPy values for system NAME of systems.lag."""
    lag = REFERENCE / "systems.lag"
    s = lagc.load(lag).system(csv.stem, backend=backend)
    header, data = read_csv(csv)
    states = columns(header, data, s.inputs)
    want_a = columns(header, data, [ddot(c) for c in s.coords])
    want_e = columns(header, data, ["energy"])[:, 0]
    a, e = s.accel(states), s.energy(states)
    tol = 1e-10 * np.maximum(np.abs(want_a), 1.0)
    assert np.all(np.abs(a - want_a) <= tol)
    assert np.all(np.abs(e - want_e) <= 1e-10 * np.maximum(np.abs(want_e), 1.0))
    a_cli, e_cli = cli_accel(cli, tmp_path, lag, csv.stem, backend, s.inputs, states)
    same(a, a_cli)
    same(e, e_cli)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("g", [None, 3.0])
def test_pendulum_formula(backend, g):
    """theta'' = -(g/l) sin(theta), E = theta'^2/2 - g cos(theta) (m = l = 1)."""
    m = lagc.load(EXAMPLES / "pendulum.lag", set=None if g is None else {"g": g})
    s = m.system("pendulum", backend=backend)
    g = 9.81 if g is None else g
    assert s.params["g"] == g and s.coords == ["theta"] and s.inputs == ["theta", "theta'"]
    th = np.linspace(-3, 3, 41)
    w = np.linspace(-2, 2, 41)
    x = np.column_stack([th, w])
    np.testing.assert_allclose(s.accel(x)[:, 0], -g * np.sin(th), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(s.energy(x), w**2 / 2 - g * np.cos(th), rtol=1e-14, atol=1e-14)


def test_time_defaults_to_zero():
    s = lagc.load(EXAMPLES / "driven_oscillator.lag")["driven_oscillator"]
    x = np.array([[0.3, -0.2], [1.0, 0.5]])
    np.testing.assert_array_equal(s.accel(x), s.accel(x, t=np.zeros(2)))
    np.testing.assert_array_equal(s.accel(x, t=1.5), s.accel(x, t=np.full(2, 1.5)))
    # m x'' = -k x - b x' + F0 cos(omega t) with m = k = 1, b = 0.1, F0 = 0.5, omega = 1.2
    want = -x[:, 0] - 0.1 * x[:, 1] + 0.5 * np.cos(1.2 * 1.5)
    np.testing.assert_allclose(s.accel(x, t=1.5)[:, 0], want, rtol=1e-14, atol=1e-14)
