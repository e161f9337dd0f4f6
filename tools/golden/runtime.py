#!/usr/bin/env python3
"""Golden vectors for SPEC.md section 10 (runtime streams: dropout masks, data order).

Built on golden.py's independent implementation of sections 2-6 (imported), with
section 10 implemented here from SPEC.md. Writes tests/data/golden_runtime_v1.json.

    tools/golden/.venv/bin/python tools/golden/runtime.py
"""
import itertools
import json
import os
import struct
import sys

import blake3
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden as g  # noqa: E402

RUNTIME_CONTEXT = "reproducible 2026-11-26 runtime stream key v1"


def runtime_digest(seed, path, step):
    pb = path.encode("utf-8")
    material = struct.pack("<I", 1) + struct.pack("<Q", seed) + struct.pack("<Q", len(pb)) + pb + struct.pack("<Q", step)
    return blake3.blake3(material, derive_key_context=RUNTIME_CONTEXT).digest()


def runtime_key(seed, path, step):
    d = struct.unpack("<8I", runtime_digest(seed, path, step))
    return (d[0], d[1])


def dropout_mask(seed, path, step, p, shape):
    """Section 10: keep (scale) where the f32 uniform(0, 1) draw is >= p, else 0."""
    key = runtime_key(seed, path, step)
    draw = g.make_draw("f32", "uniform", (0.0, 1.0))
    indices = list(itertools.product(*[range(n) for n in shape]))
    u = g.elementwise_values(draw, "f32", shape, indices, key)
    p32 = np.float32(p)
    scale = np.float32(1.0) / (np.float32(1.0) - p32)
    return [scale if v >= p32 else np.float32(0.0) for v in u]


def permutation(seed, name, epoch, n):
    key = runtime_key(seed, name, epoch)
    keyed = []
    for i in range(n):
        x = g.philox((0, 0, (i >> 32) & g.MASK32, i & g.MASK32), key)
        keyed.append((((x[0] << 32) | x[1]), i))
    keyed.sort()
    return [i for _, i in keyed]


def main():
    keys = [
        {"seed": str(s), "path": p, "step": t, "digest": runtime_digest(s, p, t).hex()}
        for s, p, t in [(0, "blocks.0.drop", 0), (42, "blocks.0.drop", 1), (42, "data.train", 7),
                        (18446744073709551615, "", 18446744073709551615), (1, "ünïcødé.drop", 3)]
    ]
    dropout = []
    for seed, path, step, p, shape in [(0, "drop", 0, 0.5, [3, 7]), (42, "blocks.3.attn.drop", 11, 0.1, [2, 3, 5]),
                                       (7, "mlp.drop", 1, 0.9, [13])]:
        mask = dropout_mask(seed, path, step, p, shape)
        dropout.append({"seed": str(seed), "path": path, "step": step, "p": p, "shape": shape,
                        "bits": g.to_hex(mask, "f32")})
    perms = [{"seed": str(s), "name": nm, "epoch": e, "n": n, "order": permutation(s, nm, e, n)}
             for s, nm, e, n in [(42, "data.train", 0, 20), (42, "data.train", 1, 20), (0, "x", 5, 1), (9, "data.val", 3, 64)]]
    out = {"spec_version": 1, "generated_by": "tools/golden/runtime.py", "keys": keys, "dropout": dropout,
           "permutations": perms}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data", "golden_runtime_v1.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
