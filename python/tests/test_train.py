"""Training: the same numbers as `lagc train` on the same data, and the hybrid's fitted g."""

import numpy as np
import pytest

import lagc
from conftest import EXAMPLES, ddot, read_csv, write_csv

LAG = EXAMPLES / "hybrid_spring_pendulum.lag"
RANGES = {
    "r": ("uniform", 0.5, 1.5),
    "theta": ("uniform", -np.pi, np.pi),
    "r'": ("normal", 0.0, 1.0),
    "theta'": ("normal", 0.0, 2.0),
}
SETTINGS = dict(batch=64, lr=1e-2, lr_decay=0.01, loss="mse", val=0.1, progress=False)


def fresh(name="hybrid"):
    """A newly compiled system (training changes a system's weights in place)."""
    return lagc.load(LAG)[name]


def sample(n, seed=0):
    return fresh("spring_pendulum").sample(n, seed=seed, **RANGES)


def test_sample_shapes_and_targets():
    truth = fresh("spring_pendulum")
    states, targets = sample(500)
    assert states.shape == (500, 4) and targets.shape == (500, 2)
    assert np.all((states[:, 0] >= 0.5) & (states[:, 0] < 1.5))
    assert np.all((states[:, 1] >= -np.pi) & (states[:, 1] < np.pi))
    np.testing.assert_array_equal(targets, truth.accel(states))
    again, _ = sample(500)
    np.testing.assert_array_equal(states, again)
    other, _ = sample(500, seed=1)
    assert not np.array_equal(states, other)


def test_same_loss_curve_and_weights_as_cli(cli, tmp_path):
    steps = 400
    states, targets = sample(2000)
    truth = fresh("spring_pendulum")
    data = tmp_path / "data.csv"
    write_csv(data, truth.inputs + [ddot(c) for c in truth.coords], np.hstack([states, targets]))
    h = fresh()
    h.save_weights(tmp_path / "init.safetensors")
    cli("train", LAG, "--system", "hybrid", "--data", data, "--steps", steps, "--seed", 0,
        "--weights", tmp_path / "init.safetensors", "--save", tmp_path / "w.safetensors",
        "--quiet", cwd=tmp_path)

    res = h.train(data=(states, targets), steps=steps, seed=0, **SETTINGS)
    assert res.loss.shape == (steps,) and res.val_loss.shape == (steps,)
    assert np.all(np.isfinite(res.loss))
    header, curve = read_csv(tmp_path / "w.loss.csv")
    assert header == ["step", "loss", "val_loss", "lr"]
    # each curve point: the mean training loss since the previous point (summed in step order)
    prev = 0
    for step, loss, val_loss, _ in curve:
        window = res.loss[prev:int(step)]
        acc = 0.0
        for x in window:
            acc += float(x)
        assert acc / len(window) == loss, f"step {int(step)}"
        assert res.val_loss[int(step) - 1] == val_loss, f"step {int(step)}"
        prev = int(step)
    assert prev == steps

    trained = fresh()
    trained.load_weights(tmp_path / "w.safetensors")
    mine, theirs = h.weights(), trained.weights()
    assert sorted(mine) == sorted(theirs)
    for k in mine:
        np.testing.assert_array_equal(mine[k], theirs[k], err_msg=k)
    assert h.learn["g"] == float(theirs["g"])


def test_seed_changes_the_run():
    data = sample(1000)
    a = fresh().train(data=data, steps=20, seed=0, **SETTINGS)
    b = fresh().train(data=data, steps=20, seed=0, **SETTINGS)
    c = fresh().train(data=data, steps=20, seed=1, **SETTINGS)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert not np.array_equal(a.loss, c.loss)


def test_hybrid_recovers_g():
    """The example's own settings: g from 5 to 9.81 (docs/results.md, reproduction 3)."""
    h = fresh()
    assert h.learn["g"] == 5.0 and set(h.nets) == {"V"}
    n_in, hidden, n_out, act = h.nets["V"]
    assert (n_in, list(hidden), n_out, act) == (1, [64, 64], 1, "softplus")
    res = h.train(data=sample(20000), steps=8000, seed=0, **SETTINGS)
    assert res.loss[-100:].mean() < res.loss[:100].mean()
    assert h.learn["g"] == pytest.approx(9.81, rel=0.01)
    assert float(h.weights()["g"]) == h.learn["g"]


CTRL_C = """
import os, signal, sys, threading
import lagc
h = lagc.load(sys.argv[1])
data = h["spring_pendulum"].sample(2000, r=("uniform", 0.5, 1.5), theta=("uniform", -3, 3))
s = h["hybrid"]
threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    s.train(data=data, steps=10**8)
except KeyboardInterrupt:
    print("interrupted", s.learn["g"])
"""


def test_ctrl_c_stops_training_and_keeps_the_weights():
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-c", CTRL_C, str(LAG)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    word, g = p.stdout.split()
    assert word == "interrupted" and float(g) != 5.0  # some steps were taken and kept
