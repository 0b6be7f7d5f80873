"""examples/python/ray_sweep.py at a small size (needs ray)."""

import subprocess
import sys

import pytest

from conftest import ROOT


def test_ray_sweep():
    pytest.importorskip("ray", reason="ray is not installed (pip install 'ray[default]')")
    p = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python" / "ray_sweep.py"), "--size", "small"],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    assert "all results match" in p.stdout
