"""Shared fixtures: the repository root, the `lagc` command-line binary, CSV helpers.

Tests that compare with the command line need `target/release/lagc`
(`cargo build --release`); they are skipped, saying so, when it is missing.
"""

import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
REFERENCE = ROOT / "tests" / "data" / "reference"
LAGC_BIN = ROOT / "target" / "release" / "lagc"


@pytest.fixture(scope="session")
def root():
    """The repository root (two levels above this folder)."""
    return ROOT


@pytest.fixture(scope="session")
def cli():
    """Runs the `lagc` binary: cli(*args, cwd=None, ok=True) -> CompletedProcess.

    With ok=True a non-zero exit status fails the test, showing stderr.
    """
    if not LAGC_BIN.is_file():
        pytest.skip(f"{LAGC_BIN} is missing: run `cargo build --release` to compare with the CLI")

    def run(*args, cwd=None, ok=True):
        p = subprocess.run(
            [str(LAGC_BIN), *map(str, args)],
            cwd=cwd or ROOT,
            capture_output=True,
            text=True,
        )
        if ok:
            assert p.returncode == 0, f"lagc {' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr}"
        return p

    return run


def parse_csv(text):
    """A numeric CSV (one header line, `nan` allowed) -> (header list, (rows, cols) array)."""
    lines = [l for l in text.splitlines() if l.strip()]
    header = [c.strip() for c in lines[0].split(",")]
    rows = [[float(c) for c in l.split(",")] for l in lines[1:]]
    return header, np.array(rows, dtype=np.float64).reshape(len(rows), len(header))


def read_csv(path):
    """parse_csv of a file."""
    return parse_csv(Path(path).read_text())


def write_csv(path, header, rows):
    """Writes rows with repr() floats, which the CLI parses back to the same doubles."""
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in np.asarray(rows, dtype=np.float64):
            f.write(",".join(repr(float(x)) for x in r) + "\n")


def columns(header, data, names):
    """The columns of `data` named `names`, as an (rows, len(names)) array."""
    return data[:, [header.index(n) for n in names]]


def ddot(coord):
    """The acceleration column name of a coordinate: theta -> theta'', phi[3] -> phi''[3]."""
    base, bracket, rest = coord.partition("[")
    return f"{base}''{bracket}{rest}"


def random_states(system, n, seed):
    """n states of `system`: coordinates in [-1.5, 1.5), velocities in [-0.5, 0.5)."""
    rng = np.random.default_rng(seed)
    d = system.dof
    return np.hstack([rng.uniform(-1.5, 1.5, (n, d)), rng.uniform(-0.5, 0.5, (n, d))])


def init_flag(names, values):
    """The CLI's --init value: a=1.0,a'=0.0 (repr floats, so exact)."""
    return ",".join(f"{k}={float(v)!r}" for k, v in zip(names, values))

