"""Reproducible-by-construction parameter initialisation, for Python.

Every parameter is filled from its own counter-based random stream, keyed by
(seed, parameter path, declared version), exactly as the Rust crate
``reproducible`` fills it: the values come from the same compiled generator,
so they are the Rust side's bits by construction, on every machine.

``sample`` returns a numpy array; ``reproducible.torch`` (which needs torch)
re-initialises ``torch.nn.Module`` parameters in place, DTensor shards
included, and writes lockfiles.
"""

import numpy as np

from . import _native

__all__ = ["SPEC_VERSION", "sample", "scheme_text"]

SPEC_VERSION = _native.SPEC_VERSION

#: numpy dtypes by name; bfloat16 has none, so its values come back as the
#: uint16 bit patterns.
_NUMPY = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "bfloat16": np.uint16}


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    seed = int(seed)
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed {seed} is not in 0 .. 2**64 - 1")
    return seed


def _check_shape(path, shape):
    try:
        dims = [int(d) for d in shape]
    except TypeError:
        raise TypeError(f"parameter `{path}`: shape must be a sequence of ints, not {shape!r}") from None
    if any(isinstance(d, bool) or d != int(d) for d in shape) or any(d < 0 for d in dims):
        raise ValueError(f"parameter `{path}`: shape {tuple(shape)} must hold non-negative ints")
    return dims


def _check_version(path, version, least=0):
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)):
        raise TypeError(f"`{path}`: version must be an int, not {type(version).__name__}")
    if not least <= int(version) < 2**32:
        raise ValueError(f"`{path}`: version must be from {least} to 2**32 - 1, not {version!r}")
    return int(version)


def _check_region(path, shape, region):
    if region is None:
        return None, list(shape)
    try:
        pairs = [tuple(r) for r in region]
    except TypeError:
        raise TypeError(f"parameter `{path}`: region must be (start, end) pairs, not {region!r}") from None
    if len(pairs) != len(shape) or any(len(r) != 2 for r in pairs):
        raise ValueError(f"parameter `{path}`: region {region} needs one (start, end) pair per dimension of {tuple(shape)}")
    if any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) for r in pairs for x in r):
        raise TypeError(f"parameter `{path}`: region {region} must hold ints")
    pairs = [(int(a), int(b)) for a, b in pairs]
    for d, ((a, b), n) in enumerate(zip(pairs, shape)):
        if not 0 <= a < b <= n:
            raise ValueError(f"parameter `{path}`: region range {a}..{b} of dimension {d} is not a non-empty part of 0..{n}")
    return pairs, [b - a for a, b in pairs]


def _check_dtype(dtype):
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in _NUMPY:
        raise TypeError(f"dtype {dtype!r} is not a parameter dtype (use float32, float64, float16 or bfloat16)")
    return name


def _check_sample(seed, path, shape, version, region):
    """The arguments of a sample, checked: seed, shape, version, region and
    the region's dimensions."""
    seed = _check_seed(seed)
    if not isinstance(path, str):
        raise TypeError(f"path must be a str, not {type(path).__name__}")
    shape = _check_shape(path, shape)
    version = _check_version(path, version)
    region, dims = _check_region(path, shape, region)
    return seed, shape, version, region, dims


def sample(seed, path, shape, init, dtype="float32", version=1, region=None):
    """The values of the parameter at ``path`` (row-major), as ``repro sample``
    gives them.

    ``init`` is a scheme in the text form of the Rust side, e.g.
    ``"normal(0.0, 0.02)"`` or ``"kaiming_uniform(a=2.23606797749979)"``;
    ``region`` a list of ``(start, end)`` pairs, one per dimension, for a part
    of the tensor alone. bfloat16 values come back as their uint16 bit
    patterns (numpy has no bfloat16); ``reproducible.torch.sample`` returns a
    torch tensor of any dtype.
    """
    seed, shape, version, region, dims = _check_sample(seed, path, shape, version, region)
    name = _check_dtype(dtype)
    out = np.empty(dims, dtype=_NUMPY[name])
    _native.fill(seed, path, shape, str(init), out.reshape(-1).view(np.uint8), name, version, region)
    return out


def scheme_text(init):
    """The canonical text of a scheme, as lockfiles record it."""
    return _native.scheme_text(str(init))
