#!/usr/bin/env bash
# The Python package's tests: builds `python/` with maturin into a virtual
# environment, then runs pytest (transformers, timm, torchvision and PEFT
# models among them, from small configs, offline) and the seed story in
# PyTorch. The environment is kept under target/ and reused; set
# REPRODUCIBLE_VENV to use another one.
#
# Everything comes from PyPI, whose Linux torch wheel is the CUDA build: with
# its NVIDIA libraries (which `import torch` loads) about 3 GB. Triton, the GPU
# kernel compiler, is the one dependency left out: the tests use CPU tensors
# only. A download that is cut off is resumed, and each pip command is tried up
# to five times.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${REPRODUCIBLE_VENV:-$PWD/target/python-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"

# `pip <command> <args>`, tried again when a download is cut off.
pip_retry() {
    local attempt
    for attempt in 1 2 3 4 5; do
        "$py" -m pip "$@" -q --retries 10 --timeout 60 && return 0
        echo "pip $* failed (attempt $attempt of 5)" >&2
        [ "$attempt" -lt 5 ] && sleep $((attempt * 20))
    done
    return 1
}

pip_retry install --upgrade pip
pip_retry install --resume-retries 20 numpy pytest blake3 packaging
if ! "$py" -c "import torch" 2>/dev/null; then
    # torch's wheel first, to read its requirements for this platform (less
    # triton); they are installed one at a time, so that only one download
    # waits on disk to be unpacked, and torch itself last, so that pip never
    # sees it with a requirement missing but triton's.
    wheels="$(mktemp -d "$venv/torch-wheel.XXXXXX")"
    trap 'rm -rf "$wheels"' EXIT
    pip_retry download --resume-retries 20 --no-deps --dest "$wheels" "torch>=2.5"
    mapfile -t torch_deps < <("$py" - "$wheels"/torch-*.whl <<'PY'
import sys
import zipfile
from email.parser import Parser
from packaging.requirements import Requirement

with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(wheel.read(name).decode())
for line in metadata.get_all("Requires-Dist") or []:
    req = Requirement(line)
    if req.name == "triton" or (req.marker and not req.marker.evaluate({"extra": ""})):
        continue
    req.marker = None
    print(req)
PY
    )
    for dep in "${torch_deps[@]}"; do
        pip_retry install --resume-retries 20 "$dep"
    done
    echo "(triton, which only GPU kernels use, is left out on purpose)"
    pip_retry install --no-deps "$wheels"/torch-*.whl
fi
# The model zoos whose own init code the tests capture. torch is pinned to the
# one installed above, so that pip picks the torchvision built for it rather
# than fetching another torch.
torch_version="$("$py" -c 'import torch; print(torch.__version__.split("+")[0])')"
pip_retry install --resume-retries 20 "torch==$torch_version" "transformers>=5" "timm>=1" torchvision peft
pip_retry install --no-deps ./python
HF_HUB_OFFLINE=1 "$py" -m pytest -q python/tests
"$py" python/examples/seed_story.py | tail -n 2
