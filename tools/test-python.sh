#!/usr/bin/env bash
# The Python package's tests: builds `python/` with maturin into a virtual
# environment (pip install "./python[test]": numpy, pytest, blake3 and torch
# from PyPI, whose Linux wheel is the CUDA build, about 3 GB with its
# libraries; the tests use CPU tensors only), then runs pytest and the seed
# story in PyTorch. The environment is kept under target/ and reused; set
# REPRODUCIBLE_VENV to use another one.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${REPRODUCIBLE_VENV:-$PWD/target/python-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q "./python[test]"
"$venv/bin/python" -m pytest -q python/tests
"$venv/bin/python" python/examples/seed_story.py | tail -n 2
