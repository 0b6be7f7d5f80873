"""Constrained systems from Python: the multipliers, projection of the initial state,
and the same rows as `lagc simulate`."""

import numpy as np
import pytest

import lagc
from conftest import EXAMPLES

CARTESIAN = EXAMPLES / "pendulum_cartesian.lag"


@pytest.fixture(scope="module")
def cartesian():
    return lagc.load(CARTESIAN).system("cartesian")


def test_accel_has_dof_columns_and_the_multiplier_is_the_tension(cartesian):
    # theta = 0.5, theta' = 0.7 on l = 1: x = sin, y = -cos.
    th, w, g = 0.5, 0.7, 9.81
    state = np.array([np.sin(th), -np.cos(th), np.cos(th) * w, np.sin(th) * w])
    a = cartesian.accel(state)
    assert a.shape == (2,)
    thdd = -g * np.sin(th)
    want = [np.cos(th) * thdd - np.sin(th) * w * w, np.sin(th) * thdd + np.cos(th) * w * w]
    np.testing.assert_allclose(a, want, rtol=1e-13, atol=1e-14)
    tr = cartesian.simulate(state, 0.1, 0.1)
    # lambda = m (l theta'^2 + g cos theta) / (2 l) with m = l = 1.
    assert tr.multipliers[0, 0] == pytest.approx((w * w + g * np.cos(th)) / 2, rel=1e-13)


def test_initial_state_off_the_rod_raises_unless_projected(cartesian):
    with pytest.raises(lagc.DivergedError, match="violates constraint `rod`"):
        cartesian.simulate({"x": 0.8, "y": -0.5}, 1.0, 0.1)
    tr = cartesian.simulate({"x": 0.8, "y": -0.5}, 1.0, 0.1, project_init=True)
    r = np.hypot(tr.q[:, 0], tr.q[:, 1])
    np.testing.assert_allclose(r, 1.0, atol=1e-12)
    assert tr.q[0, 1] / tr.q[0, 0] == pytest.approx(-0.5 / 0.8, rel=1e-13)


def test_rows_equal_the_command_line(cartesian, cli, tmp_path):
    out = tmp_path / "c.csv"
    cli(
        "simulate", str(CARTESIAN),
        "--system", "cartesian", "--init", "x=0.6,y=-0.8", "--t-end", "2", "--dt", "0.1",
        "--out", str(out),
    )
    rows = np.loadtxt(out, delimiter=",", skiprows=1)
    tr = cartesian.simulate({"x": 0.6, "y": -0.8}, 2, 0.1)
    cols = tr.to_dict()
    header = out.read_text().splitlines()[0].split(",")
    assert header == list(cols)
    for k, name in enumerate(header):
        np.testing.assert_array_equal(rows[:, k], cols[name], err_msg=name)
