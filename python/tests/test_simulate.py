"""simulate against `lagc simulate` (bit for bit), ensembles, and divergence."""

import numpy as np
import pytest

import lagc
from conftest import EXAMPLES, columns, ddot, init_flag, read_csv

CASES = {
    "pendulum": [1.0, 0.3],
    "double_pendulum": [1.0, 2.0, 0.1, -0.2],
}
BLOW_UP = "system blow { coord x; accel x = x^3; }\n"  # from x = 1 at rest: infinite at t ~ 1.85


def system(name, backend="jit"):
    return lagc.load(EXAMPLES / f"{name}.lag").system(name, backend=backend)


def cli_simulate(cli, tmp_path, lag, name, inputs, init, t_end, dt, method, backend="jit", ok=True):
    out = tmp_path / f"{name}_{method}.csv"
    p = cli(
        "simulate", lag, "--system", name, "--init", init_flag(inputs, init),
        "--t-end", t_end, "--dt", dt, "--method", method,
        "--rtol", 1e-10, "--atol", 1e-10, "--backend", backend, "--out", out, "--quiet",
        ok=ok,
    )
    return p, read_csv(out)


@pytest.mark.parametrize("backend", ["jit", "interp"])
@pytest.mark.parametrize("method", ["rk4", "dopri5", "variational"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_cli_bit_for_bit(cli, tmp_path, name, method, backend):
    s = system(name, backend)
    init = CASES[name]
    _, (header, data) = cli_simulate(cli, tmp_path, EXAMPLES / f"{name}.lag", name, s.inputs, init, 2.0, 0.01, method, backend)
    d = s.dof
    tr = s.simulate(dict(zip(s.inputs, init)), 2.0, 0.01, method=method, rtol=1e-10, atol=1e-10)
    assert tr.t.shape == (201,) and tr.q.shape == (201, d) and tr.v.shape == (201, d)
    assert tr.a.shape == (201, d) and tr.energy.shape == (201,)
    np.testing.assert_array_equal(tr.t, np.arange(201) / 100)  # the doubles nearest to k*0.01
    np.testing.assert_array_equal(tr.t, data[:, header.index("t")])
    np.testing.assert_array_equal(tr.q, columns(header, data, s.coords))
    np.testing.assert_array_equal(tr.v, columns(header, data, s.inputs[d:]))
    np.testing.assert_array_equal(tr.a, columns(header, data, [ddot(c) for c in s.coords]))
    np.testing.assert_array_equal(tr.energy, data[:, header.index("energy")])
    table = tr.to_dict()
    assert list(table) == header
    for k, column in enumerate(header):
        np.testing.assert_array_equal(table[column], data[:, k])


def test_init_forms_agree():
    s = system("double_pendulum")
    y0 = np.array(CASES["double_pendulum"])
    a = s.simulate(y0, 0.5, 0.01)
    b = s.simulate(dict(zip(s.inputs, y0)), 0.5, 0.01)
    c = s.simulate(y0.astype(np.float32).astype(np.float64), 0.5, 0.01)
    d = s.simulate(y0.astype(np.float32), 0.5, 0.01)
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(c.q, d.q)
    # names not given start at 0
    e = s.simulate({"t1": 1.0}, 0.5, 0.01)
    np.testing.assert_array_equal(e.q, s.simulate(np.array([1.0, 0, 0, 0]), 0.5, 0.01).q)


@pytest.mark.parametrize("method", ["rk4", "dopri5", "variational"])
def test_ensemble_equals_single_runs(method):
    s = system("double_pendulum")
    rng = np.random.default_rng(0)
    inits = np.hstack([rng.uniform(-2, 2, (5, 2)), rng.uniform(-1, 1, (5, 2))])
    tr = s.simulate(inits, 1.0, 0.02, method=method)
    assert tr.q.shape == (5, 51, 2) and tr.energy.shape == (5, 51)
    for k in range(5):
        one = s.simulate(inits[k], 1.0, 0.02, method=method)
        for attr in ("q", "v", "a", "energy"):
            np.testing.assert_array_equal(getattr(tr, attr)[k], getattr(one, attr))


def test_blow_up_raises_diverged_with_finite_rows(cli, tmp_path):
    s = lagc.loads(BLOW_UP, name="blow.lag")["blow"]
    with pytest.raises(lagc.DivergedError) as info:
        s.simulate({"x": 1.0}, 5.0, 0.01)
    assert isinstance(info.value, RuntimeError)
    tr = info.value.trajectory
    assert 50 < len(tr.t) < 500 and tr.t[-1] < 5.0
    assert np.all(np.isfinite(tr.t)) and np.all(np.isfinite(tr.q)) and np.all(np.isfinite(tr.v))
    np.testing.assert_array_equal(tr.t, np.arange(len(tr.t)) / 100)
    # the same rows as the command line keeps
    lag = tmp_path / "blow.lag"
    lag.write_text(BLOW_UP)
    p, (header, data) = cli_simulate(cli, tmp_path, lag, "blow", s.inputs, [1.0, 0.0], 5.0, 0.01, "rk4", ok=False)
    assert p.returncode == 1
    np.testing.assert_array_equal(tr.t, data[:, header.index("t")])
    np.testing.assert_array_equal(tr.q[:, 0], data[:, header.index("x")])


def test_run_writes_what_simulate_returns(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = lagc.load(EXAMPLES / "falling_ball.lag")
    reports = m.run(quiet=True)
    assert len(reports) == 1 and isinstance(reports[0], dict)
    header, data = read_csv(tmp_path / "falling_ball.csv")
    tr = m["falling_ball"].simulate({"q1'": 5.0, "q2'": 1.0}, 1.0, 0.01, method="rk4")
    np.testing.assert_array_equal(tr.q, columns(header, data, ["q1", "q2"]))


@pytest.mark.parametrize("method", ["rk4", "dopri5", "variational"])
def test_dt_out_rows_and_shapes(cli, tmp_path, method):
    """dt_out: rows at k*dt_out (exact decimals), the shapes follow them, an ensemble
    too; the command line's --dt-out gives the same rows bit for bit; rk4 and
    variational write every 10th row of the run at dt."""
    s = system("double_pendulum")
    init = CASES["double_pendulum"]
    d = s.dof
    tr = s.simulate(init, 2.0, 0.01, method=method, rtol=1e-10, atol=1e-10, dt_out=0.1)
    assert tr.t.shape == (21,) and tr.q.shape == (21, d) and tr.v.shape == (21, d)
    assert tr.a.shape == (21, d) and tr.energy.shape == (21,)
    np.testing.assert_array_equal(tr.t, np.arange(21) / 10)
    every = s.simulate(init, 2.0, 0.01, method=method, rtol=1e-10, atol=1e-10)
    if method != "dopri5":
        np.testing.assert_array_equal(tr.q, every.q[::10])
        np.testing.assert_array_equal(tr.v, every.v[::10])
    else:
        np.testing.assert_allclose(tr.q, every.q[::10], atol=1e-8)
    out = tmp_path / "dt_out.csv"
    cli(
        "simulate", EXAMPLES / "double_pendulum.lag", "--system", "double_pendulum",
        "--init", init_flag(s.inputs, init), "--t-end", 2.0, "--dt", 0.01, "--dt-out", 0.1,
        "--method", method, "--rtol", 1e-10, "--atol", 1e-10, "--out", out, "--quiet",
    )
    header, data = read_csv(out)
    np.testing.assert_array_equal(tr.t, data[:, header.index("t")])
    np.testing.assert_array_equal(tr.q, columns(header, data, s.coords))
    ens = s.simulate(np.array([init, init]), 2.0, 0.01, method=method, dt_out=0.25)
    assert ens.t.shape == (9,) and ens.q.shape == (2, 9, d) and ens.energy.shape == (2, 9)


def test_dt_out_not_a_multiple_is_a_value_error():
    s = system("pendulum")
    with pytest.raises(ValueError, match="dt_out = 0.025 is not a multiple of dt = 0.01"):
        s.simulate([1.0, 0.0], 1.0, 0.01, dt_out=0.025)
    with pytest.raises(ValueError, match="dt_out must be a finite number > 0"):
        s.simulate([1.0, 0.0], 1.0, 0.01, method="dopri5", dt_out=0.0)
    assert len(s.simulate([1.0, 0.0], 1.0, 0.01, method="dopri5", dt_out=0.025).t) == 41


def test_inputs_match_the_simulate_block(cli, tmp_path):
    """A driven pendulum with a measured torque: `inputs={"t": ..., "u": ...}` gives
    the rows of `lagc simulate --inputs` bit for bit; without inputs it raises."""
    lag = EXAMPLES / "driven_pendulum.lag"
    drive = EXAMPLES.parent / "tests" / "data" / "inputs" / "drive.csv"
    data = np.genfromtxt(drive, delimiter=",", names=True)
    s = lagc.load(lag).system("truth")
    tr = s.simulate({"theta": 1.0}, t_end=2, dt=0.01, inputs={"t": data["t"], "u": data["u"]})
    out = tmp_path / "truth.csv"
    cli("simulate", lag, "--system", "truth", "--init", "theta=1", "--t-end", 2, "--dt", 0.01,
        "--inputs", drive, "--out", out, "--quiet")
    header, ref = read_csv(out)
    assert header == ["t", "theta", "theta'", "theta''", "energy", "u"]
    assert np.array_equal(tr.t, ref[:, 0])
    assert np.array_equal(tr.q[:, 0], ref[:, 1])
    assert np.array_equal(tr.v[:, 0], ref[:, 2])
    with pytest.raises(Exception, match="measured inputs"):
        s.simulate({"theta": 1.0}, t_end=2, dt=0.01)
    with pytest.raises(ValueError, match="does not increase"):
        s.simulate({"theta": 1.0}, t_end=2, dt=0.01, inputs={"t": [0, 1, 1, 3], "u": [0, 0, 0, 0]})
