"""Errors: located .lag diagnostics, wrong shapes and names, and no crash on mutated sources."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lagc
from conftest import EXAMPLES, ROOT

BAD = "system p {\n    coord x;\n    L = x'^2/2 - mass*x^2;\n}\n"


@pytest.fixture(scope="module")
def pendulum():
    return lagc.load(EXAMPLES / "pendulum.lag")["pendulum"]


def test_lag_error_is_located():
    with pytest.raises(lagc.LagError) as info:
        lagc.loads(BAD, name="bad.lag")
    err = info.value
    assert isinstance(err, ValueError)
    col = BAD.splitlines()[2].index("mass") + 1
    d = err.diagnostics[0]
    assert (d["line"], d["col"]) == (3, col) and "mass" in d["message"]
    text = str(err)
    assert f"bad.lag:3:{col}" in text and "^" in text and "mass*x^2" in text


def test_lag_error_text_is_the_cli_text(cli, tmp_path):
    (tmp_path / "bad.lag").write_text(BAD)
    p = cli("check", "bad.lag", cwd=tmp_path, ok=False)
    assert p.returncode == 1
    with pytest.raises(lagc.LagError) as info:
        lagc.loads(BAD, name="bad.lag")
    assert str(info.value).rstrip() == p.stderr.rstrip()


def test_wrong_shapes(pendulum):
    s = pendulum
    for bad in (np.zeros((3, 3)), np.zeros(3), np.zeros((2, 2, 2)), np.zeros((0, 1))):
        with pytest.raises(ValueError):
            s.accel(bad)
    with pytest.raises(ValueError):
        s.energy(np.zeros((4, 3)))
    with pytest.raises(ValueError):
        s.terms(np.zeros((4, 3)))
    with pytest.raises(ValueError):
        s.accel(np.zeros((3, 2)), t=np.zeros(4))
    with pytest.raises(ValueError):
        s.rhs(0.0, np.zeros(3))
    with pytest.raises(ValueError):
        s.simulate(np.zeros(3), 1.0, 0.1)
    with pytest.raises(ValueError):
        s.simulate(np.zeros((2, 2, 2)), 1.0, 0.1)


def test_bad_options(pendulum):
    m = lagc.load(EXAMPLES / "pendulum.lag")
    with pytest.raises(ValueError):
        m.system("pendulum", backend="gpu")
    with pytest.raises(ValueError):
        pendulum.simulate({"theta": 1.0}, 1.0, 0.1, method="euler")
    with pytest.raises(ValueError):
        pendulum.simulate({"theta": 1.0}, 1.0, -0.1)
    with pytest.raises((KeyError, ValueError)):
        pendulum.simulate({"phi": 1.0}, 1.0, 0.1)
    with pytest.raises((KeyError, ValueError)):
        lagc.load(EXAMPLES / "pendulum.lag", set={"nope": 1.0})


def test_unknown_system():
    m = lagc.load(EXAMPLES / "pendulum.lag")
    with pytest.raises(KeyError):
        m["nope"]
    with pytest.raises(KeyError):
        m.system("nope")


def test_set_weights_checks_shapes():
    h = lagc.load(EXAMPLES / "hybrid_spring_pendulum.lag")["hybrid"]
    w = h.weights()
    w["V.w0"] = np.zeros((2, 64))
    with pytest.raises(ValueError, match="V.w0"):
        h.set_weights(w)
    with pytest.raises(ValueError, match="g"):
        h.set_weights({"g": np.zeros(2)})


FUZZ = textwrap.dedent(
    """
    import random, sys
    from pathlib import Path
    import numpy as np
    import lagc

    root = Path(sys.argv[1])
    names = ["pendulum", "double_pendulum", "driven_oscillator", "falling_ball",
             "hybrid_spring_pendulum", "two_body"]
    sources = [(root / "examples" / f"{n}.lag").read_text() for n in names]
    alphabet = "abgxyz0129.,;:=+-*/^()[]{}'#_ \\n"
    rng = random.Random(20240601)
    loaded = refused = 0
    for i in range(200):
        text = list(rng.choice(sources))
        for _ in range(rng.randint(1, 4)):
            k = rng.randrange(len(text))
            op = rng.randrange(3)
            if op == 0:
                del text[k]
            elif op == 1:
                text.insert(k, rng.choice(alphabet))
            else:
                text[k] = rng.choice(alphabet)
        try:
            m = lagc.loads("".join(text), name=f"fuzz{i}.lag")
        except lagc.LagError as e:
            assert e.diagnostics and all(d["line"] >= 1 and d["col"] >= 1 for d in e.diagnostics)
            refused += 1
            continue
        loaded += 1
        for name in m.systems:
            try:
                s = m[name]
                s.accel(np.full(2 * s.dof, 0.1))
            except (ValueError, KeyError, RuntimeError):
                pass  # a refusal is fine; a panic (a BaseException) would end the process
    print(loaded, refused)
    """
)


def test_mutated_sources_never_crash():
    p = subprocess.run([sys.executable, "-c", FUZZ, str(ROOT)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    loaded, refused = map(int, p.stdout.split())
    assert loaded + refused == 200 and loaded > 0 and refused > 0
