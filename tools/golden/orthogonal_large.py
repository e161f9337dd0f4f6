#!/usr/bin/env python3
"""Digests of orthogonal(gain) on matrices larger than the golden vectors hold.

The golden vectors keep each case to 256 values; the fast orthogonal kernels
work on blocks of columns and rows, so these cases are big enough to span
several blocks (and ragged ones). Each digest is BLAKE3 of the values' bits,
little-endian, in row-major order, computed by golden.py (written from SPEC.md
alone). Writes tests/data/orthogonal_v1.json.
"""
import json
import os
import struct
import sys

import blake3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402

CASES = [
    # name, seed, path, shape, dtype, gain
    ("tall_f32_150x100", 7, "blocks.3.attn.qkv.weight", [150, 100], "f32", 1.0),
    ("wide_f32_70x130", 8, "head.weight", [70, 130], "f32", 1.0),
    ("rank3_f64_40x5x9", 9, "conv.weight", [40, 5, 9], "f64", 0.5),
    ("square_bf16_97x97", 10, "w", [97, 97], "bf16", 2.0),
    ("tall_f32_300x260", 11, "blocks.11.mlp.fc2.weight", [300, 260], "f32", 1.0),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "..", "tests", "data", "orthogonal_v1.json")
    cases = []
    for name, seed, path, shape, dtype, gain in CASES:
        scheme = golden.S("orthogonal", gain=gain)
        vals = golden.generate(seed, path, 1, shape, None, dtype, scheme)
        bits = golden.to_hex(vals, dtype)
        width = {"f64": 8, "f32": 4}.get(dtype, 2)
        fmt = {8: "<Q", 4: "<I", 2: "<H"}[width]
        raw = b"".join(struct.pack(fmt, int(b, 16)) for b in bits)
        cases.append({"name": name, "seed": str(seed), "path": path, "shape": shape, "dtype": dtype,
                      "init": scheme.text(), "blake3": blake3.blake3(raw).hexdigest(),
                      "first": bits[:4]})
        print(name, cases[-1]["blake3"], flush=True)
    doc = {"spec_version": golden.SPEC_VERSION, "generated_by": "tools/golden/orthogonal_large.py", "cases": cases}
    with open(os.path.normpath(out), "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
