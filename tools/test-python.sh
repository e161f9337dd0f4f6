#!/usr/bin/env bash
# The Python package's tests: builds `python/` with maturin into a virtual
# environment, then runs pytest and the seed story in PyTorch. The environment
# is kept under target/ and reused; set REPRODUCIBLE_VENV to use another one.
#
# Everything comes from PyPI, whose Linux torch wheel is the CUDA build: with
# its NVIDIA libraries (which `import torch` loads) about 3 GB. Triton, the GPU
# kernel compiler, is the one dependency left out: the tests use CPU tensors
# only. Each install is tried again when a download is cut off; finished wheels
# stay in pip's cache, so a retry fetches only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${REPRODUCIBLE_VENV:-$PWD/target/python-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"

pip_install() {
    local attempt
    for attempt in 1 2 3 4 5; do
        "$py" -m pip install -q --retries 10 --timeout 60 "$@" && return 0
        echo "pip install $* failed (attempt $attempt of 5)" >&2
        [ "$attempt" -lt 5 ] && sleep $((attempt * 20))
    done
    return 1
}

pip_install --upgrade pip
pip_install --resume-retries 20 numpy pytest blake3 packaging
if ! "$py" -c "import torch" 2>/dev/null; then
    pip_install --resume-retries 20 --no-deps "torch>=2.5"
    # torch's own requirements for this platform, less triton.
    mapfile -t torch_deps < <("$py" - <<'PY'
import importlib.metadata
from packaging.requirements import Requirement

for line in importlib.metadata.requires("torch") or []:
    req = Requirement(line)
    if req.name == "triton" or (req.marker and not req.marker.evaluate({"extra": ""})):
        continue
    req.marker = None
    print(req)
PY
    )
    # One at a time: only one download waits on disk to be unpacked.
    for dep in "${torch_deps[@]}"; do
        pip_install --resume-retries 20 "$dep"
    done
fi
pip_install --no-deps ./python
"$py" -m pytest -q python/tests
"$py" python/examples/seed_story.py | tail -n 2
