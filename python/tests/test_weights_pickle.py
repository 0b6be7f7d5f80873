"""Weights (get, set, files) and pickling of systems."""

import pickle

import numpy as np
import pytest

import lagc
from conftest import EXAMPLES, random_states

HYBRID = EXAMPLES / "hybrid_spring_pendulum.lag"


def hybrid(backend="jit"):
    return lagc.load(HYBRID).system("hybrid", backend=backend)


def states(n=64):
    rng = np.random.default_rng(3)
    return np.column_stack([rng.uniform(0.5, 1.5, n), rng.uniform(-3, 3, n), rng.normal(size=(n, 2))])


def perturbed(w, seed=7):
    rng = np.random.default_rng(seed)
    return {k: v + 0.01 * rng.normal(size=np.shape(v)) for k, v in w.items()}


def assert_same_weights(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_weights_layout():
    w = hybrid().weights()
    shapes = {k: np.shape(v) for k, v in w.items()}
    assert shapes == {
        "V.w0": (1, 64), "V.b0": (64,), "V.w1": (64, 64), "V.b1": (64,),
        "V.w2": (64, 1), "V.b2": (1,), "g": (),
    }
    assert all(np.asarray(v).dtype == np.float64 for v in w.values())
    assert float(w["g"]) == 5.0


def test_set_weights_round_trip():
    h = hybrid()
    x = states()
    before = h.accel(x)
    new = perturbed(h.weights())
    new["unused.w0"] = np.zeros(3)  # unknown keys are ignored
    h.set_weights(new)
    del new["unused.w0"]
    assert_same_weights(h.weights(), new)
    assert h.learn["g"] == float(new["g"])
    assert not np.array_equal(h.accel(x), before)


def test_set_weights_float32():
    h = hybrid()
    w32 = {k: np.asarray(v, dtype=np.float32) for k, v in perturbed(h.weights()).items()}
    h.set_weights(w32)
    assert_same_weights(h.weights(), {k: v.astype(np.float64) for k, v in w32.items()})


def test_save_and_load_weights(tmp_path):
    h = hybrid()
    h.set_weights(perturbed(h.weights()))
    h.save_weights(tmp_path / "w.safetensors")
    other = hybrid("interp")
    other.load_weights(tmp_path / "w.safetensors")
    assert_same_weights(other.weights(), h.weights())
    np.testing.assert_allclose(other.accel(states()), h.accel(states()), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", ["jit", "interp"])
def test_pickle_round_trip(backend):
    m = lagc.load(EXAMPLES / "double_pendulum.lag", set={"g": 1.62})
    s = m.system("double_pendulum", backend=backend)
    x = random_states(s, 100, seed=4)
    t = pickle.loads(pickle.dumps(s))
    assert (t.name, t.coords, t.inputs, t.params) == (s.name, s.coords, s.inputs, s.params)
    assert t.params["g"] == 1.62
    np.testing.assert_array_equal(t.accel(x), s.accel(x))
    np.testing.assert_array_equal(t.energy(x), s.energy(x))


def test_pickle_keeps_weights_and_inline_source():
    h = lagc.loads(HYBRID.read_text(), name="hybrid.lag")["hybrid"]
    h.set_weights(perturbed(h.weights()))
    t = pickle.loads(pickle.dumps(h))
    assert_same_weights(t.weights(), h.weights())
    np.testing.assert_array_equal(t.accel(states()), h.accel(states()))
