"""Keyed, reproducible initialisation of unmodified ``torch.nn.Module`` s.

``init_module(module, seed)`` re-initialises every parameter in place from its
own stream, keyed by (seed, the parameter's ``named_parameters()`` path, its
version), with the scheme PyTorch itself uses for the layer that owns it
(the Rust crate's layer presets: ``nn.Linear`` and ``nn.Conv*`` weights
``kaiming_uniform(a=sqrt(5))`` and fan-based uniform biases, ``nn.Embedding``
normal, norms ones and zeros, ``nn.MultiheadAttention`` Xavier, recurrent
layers ``U(-1/sqrt(hidden), 1/sqrt(hidden))``). Rules (the Rust side's
pattern syntax: ``*`` within a path segment, ``**`` across segments) come
first; a parameter no rule covers whose owner is not a known layer type is an
error naming it, never a guess.

So adding, removing or reordering modules never changes any other
parameter's values, and a ``DTensor`` parameter is filled shard by shard
(each rank generates exactly its part, with no communication) with the
values of the whole tensor.
"""

import math

import torch
from torch import nn

from . import _check_sample, _check_seed, _check_version, _native

__all__ = ["init_module", "lock", "plan", "sample"]

_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16", torch.bfloat16: "bfloat16"}


def _dtype_name(path, dtype):
    try:
        return _NAMES[dtype]
    except KeyError:
        raise TypeError(
            f"parameter `{path}`: dtype {dtype} is not a parameter dtype (use float32, float64, float16 or bfloat16)"
        ) from None


def _fill(tensor, seed, path, shape, init, version, region, digest=False):
    """Generates into ``tensor`` (the region's elements): straight into its
    memory when it is a contiguous CPU tensor, else through one CPU copy."""
    name = _dtype_name(path, tensor.dtype)
    if region is not None and any(start == end for start, end in region):
        # An empty shard (DTensor's last ranks when a dimension has fewer
        # chunks than ranks): nothing of the tensor is here.
        return _native.digest(b"") if digest else None
    if tensor.device.type == "meta":
        raise ValueError(f"parameter `{path}` is on the meta device: materialise it first (module.to_empty(device=...))")
    direct = tensor.device.type == "cpu" and tensor.is_contiguous()
    target = tensor if direct else torch.empty(tuple(tensor.shape), dtype=tensor.dtype)
    with torch.no_grad():
        buf = target.detach().reshape(-1).view(torch.uint8).numpy()
        hexdigest = _native.fill(seed, path, list(shape), init, buf, name, version, region, digest)
        if not direct:
            tensor.copy_(target)
    return hexdigest


def sample(seed, path, shape, init, dtype=torch.float32, version=1, region=None):
    """``reproducible.sample`` as a torch tensor of ``dtype`` (bfloat16 included)."""
    seed, shape, version, region, dims = _check_sample(seed, path, shape, version, region)
    out = torch.empty(dims, dtype=dtype)
    _fill(out, seed, path, shape, str(init), version, region)
    return out


def _fan_in(weight):
    """``torch.nn.init._calculate_fan_in_and_fan_out(weight)[0]``."""
    if weight.dim() < 2:
        raise ValueError("fan in needs a weight of at least 2 dimensions")
    return weight.shape[1] * math.prod(weight.shape[2:])


_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_NORMS = tuple(
    t
    for t in (
        nn.LayerNorm,
        nn.GroupNorm,
        nn.BatchNorm1d,
        nn.BatchNorm2d,
        nn.BatchNorm3d,
        nn.SyncBatchNorm,
        nn.InstanceNorm1d,
        nn.InstanceNorm2d,
        nn.InstanceNorm3d,
        getattr(nn, "RMSNorm", None),
    )
    if t is not None
)
_RECURRENT = (nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell)
_KNOWN = (nn.Linear, *_CONV, nn.Embedding, nn.EmbeddingBag, *_NORMS, nn.MultiheadAttention, *_RECURRENT, nn.Bilinear, nn.PReLU)


def _own_reset(module, base):
    """Whether ``module``'s class keeps ``base``'s init (a subclass that
    overrides ``reset_parameters`` has an init of its own, not ``base``'s)."""
    return type(module).reset_parameters is base.reset_parameters


def _default(module, parent, attr, name, param):
    """PyTorch's own init for parameter ``name`` of ``module`` (the attribute
    ``attr`` of ``parent``), as a scheme text, or None when there is none."""
    for base in _KNOWN:
        if isinstance(module, base) and hasattr(base, "reset_parameters") and not _own_reset(module, base):
            return None
    if isinstance(module, nn.Linear):
        if isinstance(parent, nn.MultiheadAttention) and attr == "out_proj":
            # MultiheadAttention._reset_parameters zeros out_proj.bias and keeps
            # the Linear's own weight init.
            return _native.preset("mha_out_proj_weight") if name == "weight" else _native.preset("mha_bias")
        if name == "weight":
            return _native.preset("linear_weight")
        if name == "bias":
            return _native.preset("linear_bias", _fan_in(module.weight))
    if isinstance(module, _CONV):
        if name == "weight":
            return _native.preset("conv_weight")
        if name == "bias":
            return _native.preset("conv_bias", _fan_in(module.weight))
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)) and name == "weight":
        return _native.preset("embedding")
    if isinstance(module, _NORMS):
        if name == "weight":
            return _native.preset("norm_weight")
        if name == "bias":
            return _native.preset("norm_bias")
    if isinstance(module, nn.MultiheadAttention):
        if name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            return _native.preset("mha_in_proj_weight")
        if name == "in_proj_bias":
            return _native.preset("mha_bias")
        if name in ("bias_k", "bias_v"):
            return _native.scheme_text("xavier_normal()")
    if isinstance(module, _RECURRENT):
        return _native.preset("rnn", module.hidden_size)
    if isinstance(module, nn.Bilinear) and name in ("weight", "bias"):
        bound = 1 / math.sqrt(module.weight.size(1))
        return _native.scheme_text(f"uniform({-bound!r}, {bound!r})")
    if isinstance(module, nn.PReLU) and name == "weight":
        return _native.scheme_text(f"constant({float(module.init)!r})")
    return None


def _rules(rules):
    """Rules as (pattern, scheme text, version or None) in order; a rule's
    label is its pattern."""
    if rules is None:
        return []
    items = rules.items() if isinstance(rules, dict) else rules
    out = []
    for rule in items:
        if not isinstance(rule, (tuple, list)) or len(rule) not in (2, 3):
            raise TypeError(f"a rule is (pattern, init) or (pattern, init, version), not {rule!r}")
        pattern, init = str(rule[0]), str(rule[1])
        version = None if len(rule) == 2 else _check_version(pattern, rule[2], least=1)
        try:
            text = _native.scheme_text(init)
        except ValueError as e:
            raise ValueError(f"rule `{pattern}`: {e}") from None
        out.append((pattern, text, version))
    _native.check_patterns([r[0] for r in out])
    return out


def _dtensor_region(param, path=""):
    """The global shape and this rank's region of a DTensor, as DTensor
    itself computes them (uneven chunks included), or None for a plain tensor.
    Placements other than ``Shard`` and ``Replicate`` are errors: a
    ``Partial`` tensor is a sum of per-rank parts, not a part of the values."""
    try:
        from torch.distributed.tensor import DTensor, Replicate, Shard
    except ImportError:  # torch built without distributed
        return None
    if not isinstance(param, DTensor):
        return None
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    for p in param.placements:
        if type(p) not in (Shard, Replicate):
            raise ValueError(
                f"parameter `{path}`: DTensor placement {type(p).__name__} ({p}) is not supported (use Shard or Replicate)"
            )
    if param.device_mesh.get_coordinate() is None:
        raise ValueError(f"parameter `{path}`: this rank is not in the DTensor's device mesh")
    shape = list(param.shape)
    local, offset = compute_local_shape_and_global_offset(param.shape, param.device_mesh, param.placements)
    return shape, [(int(o), int(o) + int(n)) for o, n in zip(offset, local)]


def _in_transformer(module, owner_path):
    """Whether an ``nn.Transformer`` contains the module at ``owner_path``:
    its ``_reset_parameters`` gives every weight of two or more dimensions
    ``xavier_uniform_``."""
    parts = owner_path.split(".") if owner_path else []
    return any(isinstance(module.get_submodule(".".join(parts[:i])), nn.Transformer) for i in range(len(parts)))


def plan(module, seed, rules=None, versions=None):
    """What ``init_module`` would do, without doing it: one record per
    parameter (``path``, ``shape``, ``dtype``, ``init``, ``version``, ``rule``,
    ``trainable``), in ``named_parameters()`` order."""
    seed = _check_seed(seed)
    if not isinstance(module, nn.Module):
        raise TypeError(f"init_module needs a torch.nn.Module, not {type(module).__name__}")
    rules = _rules(rules)
    versions = dict(versions or {})
    names = set()
    records = []
    for path, param in module.named_parameters():
        names.add(path)
        owner_path, _, name = path.rpartition(".")
        owner = module.get_submodule(owner_path)
        parent_path, _, attr = owner_path.rpartition(".")
        parent = module.get_submodule(parent_path) if owner_path else None
        hit = _native.first_match([r[0] for r in rules], path) if rules else None
        if hit is not None:
            label, init, rule_version = rules[hit]
        elif param.dim() > 1 and _in_transformer(module, owner_path):
            init, rule_version, label = _native.scheme_text("xavier_uniform()"), None, None
        else:
            init, rule_version, label = _default(owner, parent, attr, name, param), None, None
            if init is None:
                raise ValueError(
                    f"parameter `{path}`: PyTorch has no default init for `{name}` of "
                    f"{type(owner).__module__}.{type(owner).__qualname__}; give a rule for it"
                )
        version = _check_version(path, versions.get(path, rule_version or 1), least=1)
        records.append(
            {
                "path": path,
                "shape": list(param.shape),
                "dtype": _dtype_name(path, param.dtype),
                "init": init,
                "version": version,
                "rule": label,
                "trainable": bool(param.requires_grad),
            }
        )
    unknown = sorted(set(versions) - names)
    if unknown:
        raise ValueError(f"versions name no parameter of the module: {', '.join(unknown)}")
    return records


def init_module(module, seed, rules=None, versions=None, digests=False):
    """Re-initialises every parameter of ``module`` in place (see the module
    docs) and returns the provenance records of ``plan``; with ``digests``,
    each with the BLAKE3 ``digest`` of the bits written (of this rank's shard
    for a DTensor).

    ``rules``: ``[(pattern, init)]`` or ``[(pattern, init, version)]`` (or a
    dict ``{pattern: init}``), first match wins, ahead of the layer defaults.
    ``versions``: ``{path: version}``; bumping one re-rolls that parameter
    alone.
    """
    records = plan(module, seed, rules, versions)
    params = dict(module.named_parameters())
    seed = int(seed)
    for r in records:
        param = params[r["path"]]
        sharded = _dtensor_region(param, r["path"])
        with torch.no_grad():
            if sharded is None:
                local, shape, region = param.data, r["shape"], None
            else:
                local, (shape, region) = param.to_local(), sharded
            digest = _fill(local, seed, r["path"], shape, r["init"], r["version"], region, digests)
            pad = _padding_row(module, r)
            if pad is not None:
                start, end = (0, shape[0]) if region is None else region[0]
                if start <= pad < end:
                    local[pad - start].fill_(0)
                    digest = _digest(local) if digests else None
            if digests:
                r["digest"] = digest
    # Buffers are not parameters and draw nothing, but a module materialised
    # with `to_empty` holds garbage in them: the norms' running statistics
    # get PyTorch's own reset (zeros, ones, a zero count).
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._NormBase) and m.track_running_stats:
            m.reset_running_stats()
    return records


def _padding_row(module, record):
    """The row an ``nn.Embedding`` or ``nn.EmbeddingBag`` zeroes after drawing
    (its ``padding_idx``, or None), when its default init applies."""
    owner = module.get_submodule(record["path"].rpartition(".")[0])
    if record["rule"] is None and isinstance(owner, (nn.Embedding, nn.EmbeddingBag)):
        return owner.padding_idx  # made non-negative by the layer
    return None


def _digest(tensor):
    data = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    return _native.digest(data)


def lock(module, seed, file, rules=None, versions=None, model_version=1):
    """Writes the lockfile of what ``init_module(module, seed, rules,
    versions)`` gives (the Rust side's format, written atomically): each
    parameter's scheme, version and the BLAKE3 digest of its whole tensor,
    computed from the stream (so a sharded module's lockfile is the whole
    model's); ``model_version`` is the model-level version it records.
    Returns the records."""
    _check_version("model_version", model_version, least=1)
    records = plan(module, seed, rules, versions)
    params = dict(module.named_parameters())
    for r in records:
        t = sample(seed, r["path"], r["shape"], r["init"], params[r["path"]].dtype, r["version"])
        pad = _padding_row(module, r)
        if pad is not None:
            t[pad].fill_(0)
        r["digest"] = _digest(t)
    entries = [
        (r["path"], r["shape"], r["dtype"], r["init"], r["version"], r["rule"], r["trainable"], r["digest"])
        for r in records
    ]
    _native.write_lockfile(int(seed), int(model_version), entries, str(file))
    return records
