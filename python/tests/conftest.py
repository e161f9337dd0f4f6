"""Shared helpers: the repository's paths, the Rust `repro` binary, and a
reader of safetensors files (the format is a length-prefixed JSON header and
raw little-endian tensors, so no extra package is needed)."""

import json
import os
import shutil
import struct
import subprocess

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "tests", "data", "golden_v1.json")


def cargo_run(*args):
    """Runs a binary or example of the Rust workspace and returns its stdout."""
    if shutil.which("cargo") is None:
        pytest.skip("cargo is needed to run the Rust side")
    cmd = ["cargo", "run", "-q", *args]
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout


_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BF16": np.uint16}


def read_safetensors(path):
    """{name: numpy array} of a safetensors file (bfloat16 as uint16 bits)."""
    with open(path, "rb") as fh:
        data = fh.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(body[start:end], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
    return out
