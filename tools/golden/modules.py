"""Golden values of a model whose submodules declare versions (SPEC.md 12).

Written from SPEC.md alone, on top of golden.py: each parameter's effective
version is its declared version plus, for every enclosing submodule, that
submodule's `version` minus one. The Rust test builds the same model with
`#[reproducible_model]` and checks every parameter's bits against this file.

    python3 tools/golden/modules.py   # writes tests/data/golden_modules_v1.json
"""

import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402

S = golden.Scheme
SEED = 7


def linear(prefix, fan_in, fan_out, bump):
    """`nn.Linear(fan_in, fan_out)` under `prefix`, declared version 1."""
    bound = 1.0 / math.sqrt(fan_in)
    return [
        (prefix + ".weight", [fan_out, fan_in], S("kaiming_uniform", a=math.sqrt(5.0), mode="fan_in",
                                                  nonlinearity="leaky_relu"), 1 + bump),
        (prefix + ".bias", [fan_out], S("uniform", a=-bound, b=bound), 1 + bump),
    ]


def model():
    """The test's `Versioned` model: (path, shape, scheme, effective version)."""
    params = []
    params += linear("stem", 4, 3, 0)                      # no version: unchanged
    params += linear("head", 3, 2, 2 - 1)                  # version = 2
    for i in range(2):                                     # blocks: version = 3
        params += linear("blocks.%d.fc" % i, 3, 3, 3 - 1)  # Inner.fc: default
        # Inner.scale: declared version 2, inside blocks (3) and Inner.extra (2).
        params += [("blocks.%d.extra.scale" % i, [3], S("normal", mean=0.0, std=1.0), 2 + (3 - 1) + (2 - 1))]
    return params


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.normpath(os.path.join(here, "..", "..", "tests", "data", "golden_modules_v1.json"))
    cases = []
    for path, shape, scheme, version in model():
        vals = golden.generate(SEED, path, version, shape, None, "f32", scheme)
        cases.append({"name": path, "seed": str(SEED), "path": path, "version": version, "shape": shape,
                      "region": None, "dtype": "f32", "init": scheme.text(), "bits": golden.to_hex(vals, "f32")})
    doc = {"spec_version": golden.SPEC_VERSION, "generated_by": "tools/golden/modules.py", "keys": [],
           "cases": cases}
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    print("wrote %s: %d parameters" % (out, len(cases)))


if __name__ == "__main__":
    main()
