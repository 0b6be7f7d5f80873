"""rhs (the first-order form) and terms (H, M, dL/dq) against hand-derived expressions."""

import numpy as np
import pytest

import lagc
from conftest import EXAMPLES, random_states

P = {"m1": 1.5, "m2": 0.8, "l1": 1.2, "l2": 0.7, "g": 9.8}


@pytest.fixture(scope="module")
def dp():
    return lagc.load(EXAMPLES / "double_pendulum.lag", set=P)["double_pendulum"]


@pytest.mark.parametrize("backend", ["jit", "interp"])
def test_double_pendulum_terms(backend):
    s = lagc.load(EXAMPLES / "double_pendulum.lag", set=P).system("double_pendulum", backend=backend)
    x = random_states(s, 50, seed=1) * 2
    t1, t2, w1, w2 = x.T
    m1, m2, l1, l2, g = (P[k] for k in ("m1", "m2", "l1", "l2", "g"))
    c, sn = np.cos(t1 - t2), np.sin(t1 - t2)
    k = m2 * l1 * l2
    H_want = np.empty((50, 2, 2))
    H_want[:, 0, 0] = (m1 + m2) * l1**2
    H_want[:, 0, 1] = H_want[:, 1, 0] = k * c
    H_want[:, 1, 1] = m2 * l2**2
    # M[i, j] = d2L / dq'_i dq_j
    M_want = np.stack([np.stack([-k * w2 * sn, k * w2 * sn], -1), np.stack([-k * w1 * sn, k * w1 * sn], -1)], 1)
    g_want = np.stack([-k * w1 * w2 * sn - (m1 + m2) * g * l1 * np.sin(t1), k * w1 * w2 * sn - m2 * g * l2 * np.sin(t2)], -1)

    H, M, dLdq = s.terms(x)
    assert H.shape == (50, 2, 2) and M.shape == (50, 2, 2) and dLdq.shape == (50, 2)
    np.testing.assert_allclose(H, H_want, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(M, M_want, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(dLdq, g_want, rtol=1e-13, atol=1e-13)
    # no forces, no explicit t: q'' = H^-1 (dL/dq - M q')
    v = x[:, 2:]
    want = np.linalg.solve(H, (dLdq - np.einsum("nij,nj->ni", M, v))[..., None])[..., 0]
    np.testing.assert_allclose(s.accel(x), want, rtol=1e-11, atol=1e-11)


def test_rhs_is_velocity_then_accel(dp):
    x = random_states(dp, 20, seed=2)
    for t, y in zip(np.linspace(0, 1, 20), x):
        f = dp.rhs(t, y)
        assert f.shape == (4,)
        np.testing.assert_array_equal(f, np.concatenate([y[2:], dp.accel(y, t=t)]))


def test_rhs_with_time():
    s = lagc.load(EXAMPLES / "driven_oscillator.lag")["driven_oscillator"]
    y = np.array([0.4, -0.3])
    np.testing.assert_array_equal(s.rhs(2.0, y), [y[1], s.accel(y, t=2.0)[0]])
    assert s.rhs(2.0, y)[1] != s.rhs(0.0, y)[1]


def test_solve_ivp_agrees_with_simulate(dp):
    integrate = pytest.importorskip("scipy.integrate", reason="scipy is not installed")
    y0 = np.array([1.0, 2.0, 0.0, 0.0])
    t_eval = np.linspace(0, 2, 21)
    sol = integrate.solve_ivp(dp.rhs, (0, 2), y0, method="DOP853", t_eval=t_eval, rtol=1e-12, atol=1e-12)
    assert sol.success
    tr = dp.simulate(y0, 2.0, 0.1, method="dopri5", rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.t, t_eval, atol=1e-12)
    np.testing.assert_allclose(tr.q, sol.y[:2].T, atol=1e-7)
    np.testing.assert_allclose(tr.v, sol.y[2:].T, atol=1e-7)
