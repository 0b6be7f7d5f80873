"""derive() in every format against `lagc derive`."""

import json

import pytest

import lagc
from conftest import EXAMPLES

CASES = [
    ("pendulum", "pendulum"),
    ("double_pendulum", "double_pendulum"),
    ("driven_oscillator", "driven_oscillator"),
    ("hybrid_spring_pendulum", "hybrid"),
    ("lnn_double_pendulum", "baseline"),
    ("wave", "wave"),
]


@pytest.mark.parametrize("file,name", CASES)
def test_derive_matches_cli(cli, file, name):
    lag = EXAMPLES / f"{file}.lag"
    s = lagc.load(lag)[name]
    text = cli("derive", lag, "--system", name).stdout
    assert s.derive() == text
    assert s.derive(format="text") == text
    latex = cli("derive", lag, "--system", name, "--format", "latex").stdout
    assert s.derive(format="latex") == latex
    d = s.derive(format="json")
    assert isinstance(d, dict)
    assert d == json.loads(cli("derive", lag, "--system", name, "--format", "json").stdout)[name]


def test_derive_follows_set(cli):
    lag = EXAMPLES / "pendulum.lag"
    s = lagc.load(lag, set={"g": 3.0})["pendulum"]
    assert s.derive() == cli("derive", lag, "--system", "pendulum", "--set", "g=3").stdout
    assert s.derive() != lagc.load(lag)["pendulum"].derive()


def test_repr_latex():
    s = lagc.load(EXAMPLES / "double_pendulum.lag")["double_pendulum"]
    r = s._repr_latex_()
    assert r.lstrip().startswith(("$", "\\begin"))
    assert r.startswith("\\begin{align*}") and r.rstrip().endswith("\\end{align*}")
    assert "%" not in r  # comment lines would hide the block in a notebook
    body = s.derive(format="latex")
    assert all(line in body for line in r.splitlines())
