"""`reproducible.sample`: the golden vectors (from the independent Python
implementation of SPEC.md), `repro sample --format bits`, and bad input."""

import json

import numpy as np
import pytest

import reproducible
from conftest import GOLDEN, cargo_run

_NP = {"f32": "float32", "f64": "float64", "f16": "float16", "bf16": "bfloat16"}
_BITS = {"f32": (np.uint32, 8), "f64": (np.uint64, 16), "f16": (np.uint16, 4), "bf16": (np.uint16, 4)}


def hex_bits(values, dtype):
    kind, width = _BITS[dtype]
    return ["%0*x" % (width, b) for b in np.ascontiguousarray(values).reshape(-1).view(kind)]


def golden_cases():
    with open(GOLDEN) as fh:
        return json.load(fh)["cases"]


def test_the_golden_vectors_match_bit_for_bit():
    cases = golden_cases()
    assert len(cases) >= 100
    failures = []
    for c in cases:
        values = reproducible.sample(
            int(c["seed"]), c["path"], c["shape"], c["init"], _NP[c["dtype"]], c["version"], c["region"]
        )
        if hex_bits(values, c["dtype"]) != c["bits"]:
            failures.append(c["name"])
    assert not failures, failures


@pytest.mark.parametrize(
    "seed,path,shape,init,dtype",
    [
        (0, "w", [2, 3], "normal(0, 1)", "f32"),
        (42, "blocks.0.attn.qkv.weight", [192, 64], "kaiming_uniform(a=2.23606797749979)", "f32"),
        (7, "head.bias", [10], "uniform(-0.1, 0.1)", "f64"),
        (3, "emb.weight", [5, 7], "trunc_normal(0, 0.02, -0.04, 0.04)", "bf16"),
        (9, "q", [4, 4], "orthogonal(2.0)", "f16"),
    ],
)
def test_sample_equals_repro_sample(seed, path, shape, init, dtype):
    out = cargo_run(
        "-p", "reproducible-cli", "--bin", "repro", "--", "sample", "--seed", str(seed), "--path", path,
        "--shape", ",".join(map(str, shape)), "--init", init, "--dtype", dtype, "--format", "bits",
    )
    want = out.split()
    got = hex_bits(reproducible.sample(seed, path, shape, init, _NP[dtype]), dtype)
    assert got == want


def test_a_region_is_the_slice_of_the_whole():
    whole = reproducible.sample(5, "w", [9, 10], "normal(0, 1)")
    part = reproducible.sample(5, "w", [9, 10], "normal(0, 1)", region=[(2, 7), (3, 10)])
    assert np.array_equal(part.view(np.uint32), whole[2:7, 3:10].view(np.uint32))


@pytest.mark.parametrize(
    "call,error,words",
    [
        (lambda: reproducible.sample(-1, "w", [2], "zeros()"), ValueError, ["seed"]),
        (lambda: reproducible.sample(2**64, "w", [2], "zeros()"), ValueError, ["seed"]),
        (lambda: reproducible.sample("1", "w", [2], "zeros()"), TypeError, ["seed"]),
        (lambda: reproducible.sample(0, "fc.weight", [2, 3], "gauss(0, 1)"), ValueError, ["fc.weight", "gauss"]),
        (lambda: reproducible.sample(0, "fc.weight", [2, 0], "normal(0, 1)"), ValueError, ["fc.weight"]),
        (lambda: reproducible.sample(0, "fc.weight", [2, -1], "normal(0, 1)"), ValueError, ["fc.weight"]),
        (lambda: reproducible.sample(0, "fc.weight", [2.5], "normal(0, 1)"), ValueError, ["fc.weight"]),
        (lambda: reproducible.sample(0, "fc.weight", [4], "normal(0, 1)", "int8"), TypeError, ["int8"]),
        (lambda: reproducible.sample(0, "fc.weight", [4], "normal(0, 1)", version=-1), ValueError, ["fc.weight", "version"]),
        (lambda: reproducible.sample(0, "fc.weight", [4, 4], "normal(0, 1)", region=[(0, 5), (0, 4)]), ValueError, ["fc.weight", "region"]),
        (lambda: reproducible.sample(0, "fc.weight", [4, 4], "normal(0, 1)", region=[(0, 4)]), ValueError, ["fc.weight", "region"]),
        (lambda: reproducible.sample(0, "fc.weight", [4], "orthogonal()"), ValueError, ["fc.weight"]),
    ],
)
def test_bad_input_is_a_python_error_naming_it(call, error, words):
    with pytest.raises(error) as e:
        call()
    for w in words:
        assert w in str(e.value), str(e.value)
