#!/usr/bin/env bash
# Every test: the Rust suite (release profile, so it shares its build with
# `cargo run --release`), then the Python package built into ./.venv and its pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --release --locked

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet maturin numpy pytest scipy ray
VIRTUAL_ENV="$PWD/.venv" .venv/bin/maturin develop --release --locked --quiet -m python/Cargo.toml
.venv/bin/python -m pytest python/tests -q
