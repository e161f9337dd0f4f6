"""Keyed, reproducible initialisation of unmodified ``torch.nn.Module`` s,
with the init their authors wrote.

``init_module(module, seed)`` runs the module's own init code (every layer's
``reset_parameters``, which for torch's layers are PyTorch's defaults; a
transformers model's ``_init_weights``; a timm model's ``init_weights``;
PEFT's LoRA init) with every fill it makes replaced by the stream keyed by
(seed, the parameter's path, its version), with the SPEC scheme the call
implies, partial fills included (see ``_capture``). ``build(constructor,
seed)`` does the same for an init that runs in a constructor;
``init_missing`` and ``init_lora`` for fine-tuning. Rules (the Rust side's
pattern syntax: ``*`` within a path segment, ``**`` across segments) come
first; a parameter no init code fills and no rule covers is an error naming
it, never a guess.

A path is the ``named_parameters()`` name without wrapper segments
(``torch.compile``, DDP, FSDP1, activation checkpointing); a tie is keyed
once, under its lexicographically smallest name. So adding, removing or
reordering modules never changes any other parameter's values, and a
``DTensor`` parameter is filled shard by shard (each rank generates exactly
its part, with no communication) with the values of the whole tensor.
"""

import sys

import torch
from torch import nn

from . import _capture, _check_sample, _check_seed, _check_version, _native

__all__ = ["build", "init_lora", "init_missing", "init_module", "lock", "plan", "sample"]

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
    # A DTensor exists only once torch.distributed.tensor is loaded; importing
    # it here would cost every process about a second for nothing.
    dtensor = sys.modules.get("torch.distributed.tensor")
    if dtensor is None or not isinstance(param, dtensor.DTensor):
        return None
    from torch.distributed.tensor import Replicate, Shard
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




def _post_order(module):
    """Every module once, children before their parent (the order in which
    construction runs their init)."""
    seen = set()
    out = []

    def visit(m):
        if id(m) in seen:
            return
        seen.add(id(m))
        for child in m.children():
            visit(child)
        out.append(m)

    visit(module)
    return out


def _outermost(module, pred):
    """The modules satisfying ``pred`` that no other such module contains."""
    out = []

    def visit(m):
        if pred(m):
            out.append(m)
            return
        for child in m.children():
            visit(child)

    visit(module)
    return out


def _class_module(m):
    return type(m).__module__ or ""


def _is_hf(m):
    mod = sys.modules.get("transformers.modeling_utils")
    return mod is not None and isinstance(m, mod.PreTrainedModel)


def _is_zoo_model(m):
    name = _class_module(m)
    return name.startswith(("timm.models.", "torchvision.models."))


def _lora_init_setting(module, adapter):
    for m in module.modules():
        config = getattr(m, "peft_config", None)
        if isinstance(config, dict) and adapter in config:
            return getattr(config[adapter], "init_lora_weights", True)
    return True


def _hf_init(model, cap):
    """transformers' own init of ``model`` (what ``post_init`` runs:
    ``_init_weights`` over every module, sub-models dispatched to their own),
    with its "already initialised" flags cleared for the run and restored
    after, and each module's call marked so that ties are decided by the
    module owning the canonical name."""
    flags = []
    for x in (*model.modules(), *model.parameters(), *model.buffers()):
        flags.append((x, x.__dict__.get("_is_hf_initialized", _MISSING)))
        if "_is_hf_initialized" in x.__dict__:
            del x._is_hf_initialized
    wrapped = []
    for m in model.modules():
        if _is_hf(m):
            bound = m._initialize_weights

            def initialize(module, *args, _bound=bound, **kwargs):
                cap.owner = module
                try:
                    return _bound(module, *args, **kwargs)
                finally:
                    cap.owner = None

            m._initialize_weights = initialize
            wrapped.append(m)
    try:
        model.initialize_weights()
    finally:
        for m in wrapped:
            del m._initialize_weights
        for x, value in flags:
            if value is _MISSING:
                x.__dict__.pop("_is_hf_initialized", None)
            else:
                x._is_hf_initialized = value


_MISSING = object()


def _own_init(module, cap):
    """Runs the init code ``module`` carries, in the order construction runs
    it: every layer's ``reset_parameters`` (``_reset_parameters`` of
    ``nn.MultiheadAttention`` and ``nn.Transformer``, a subclass's override
    included), children first; then transformers' ``_init_weights`` for each
    transformers model, timm's ``init_weights`` for each timm model; PEFT's
    ``reset_lora_parameters`` for each LoRA adapter last (transformers'
    init would otherwise overwrite the adapters)."""
    zoo = _outermost(module, _is_zoo_model)
    for m in zoo:
        if not callable(getattr(m, "init_weights", None)):
            raise ValueError(
                f"{type(m).__module__}.{type(m).__qualname__} runs its init in its constructor, which init_module "
                "cannot run again: build it with reproducible.torch.build(...) to key that init"
            )
    for m in _post_order(module):
        cap.owner = m
        if isinstance(m, (nn.MultiheadAttention, nn.Transformer)):
            m._reset_parameters()
        elif callable(getattr(m, "reset_parameters", None)) and not hasattr(m, "reset_lora_parameters"):
            m.reset_parameters()
    cap.owner = None
    for m in _outermost(module, _is_hf):
        _hf_init(m, cap)
    for m in zoo:
        m.init_weights()
    for m in _post_order(module):
        if callable(getattr(m, "reset_lora_parameters", None)):
            adapters = [*getattr(m, "lora_A", {}).keys(), *getattr(m, "lora_embedding_A", {}).keys()]
            for adapter in dict.fromkeys(adapters):
                setting = _lora_init_setting(module, adapter)
                if setting not in (True, "gaussian"):
                    raise ValueError(
                        f"LoRA adapter `{adapter}`: init_lora_weights={setting!r} is computed from the base weights, "
                        "not drawn; only True (Kaiming A, zero B) and 'gaussian' are keyed"
                    )
                cap.owner = m
                m.reset_lora_parameters(adapter, setting)
                cap.owner = None


def _owner_name(group):
    owner = group.owners[group.names.index(group.path)]
    return f"{type(owner).__module__}.{type(owner).__qualname__}"


def _select(groups, only):
    """The groups ``only`` names (by any of their names, wrapped or not), and
    the names it gives that are no parameter."""
    names = set(only)
    chosen = [g for g in groups if names & (set(g.names) | set(g.raw))]
    known = set()
    for g in groups:
        known |= set(g.names) | set(g.raw)
    return chosen, names - known


def _prepare(module, seed, rules, versions):
    seed = _check_seed(seed)
    if not isinstance(module, nn.Module):
        raise TypeError(f"init_module needs a torch.nn.Module, not {type(module).__name__}")
    rules = _rules(rules)
    versions = dict(versions or {})
    groups = _capture.groups_of(module)
    raw = {}
    for path, param in module.named_parameters(remove_duplicate=False):
        raw.setdefault(id(param), []).append(path)
    names = set()
    used = set()
    for g in groups:
        g.raw = raw.get(id(g.param), [])
        names.update(g.names)
        hit = _native.first_match([r[0] for r in rules], g.path) if rules else None
        g.rule = rules[hit] if hit is not None else None
        if hit is not None:
            used.add(hit)
        g.version = _check_version(g.path, versions.get(g.path, (g.rule[2] if g.rule else None) or 1), least=1)
        g.dtype = _dtype_name(g.path, g.param.dtype)
    unknown = sorted(set(versions) - names)
    if unknown:
        raise ValueError(f"versions name no parameter of the module: {', '.join(unknown)}")
    unused = [rules[i][0] for i in range(len(rules)) if i not in used]
    if unused:
        raise ValueError(f"rules match no parameter of the module: {', '.join(f'`{p}`' for p in unused)}")
    return seed, groups


def _record(g):
    whole = [f for f in g.fills if f["region"] is None]
    if g.rule is not None:
        init, label = g.rule[1], g.rule[0]
    else:
        init, label = (whole[-1] if whole else g.fills[0])["init"] if g.fills else None, None
    r = {
        "path": g.path,
        "shape": list(g.global_shape),
        "dtype": g.dtype,
        "init": init,
        "version": g.version,
        "rule": label,
        "trainable": bool(g.param.requires_grad),
    }
    if g.rule is None:
        r["fills"] = [dict(f) for f in g.fills]
        if g.written:
            r["written"] = list(g.written)
    if len(g.names) > 1:
        r["tied"] = list(g.names)
    return r


def _run(module, seed, rules, versions, only=None, dry=False, digests=False):
    """The one init run behind ``plan``, ``init_module`` and
    ``init_missing``."""
    seed, groups = _prepare(module, seed, rules, versions)
    targets = groups if only is None else only(groups)
    target_ids = {id(g) for g in targets}
    for g in groups:
        if g.param.device.type == "meta" and not dry and id(g) in target_ids:
            raise ValueError(f"parameter `{g.path}` is on the meta device: materialise it first (module.to_empty(device=...))")
        sharded = _dtensor_region(g.param, g.path)
        if sharded is not None:
            g.global_shape, g.region = sharded
        g.skip = dry or g.rule is not None or id(g) not in target_ids or g.param.numel() == 0
    # Parameters this run must not change run the init code against a
    # throwaway copy, so that no write of that code (a scale, a copy) reaches
    # them; the module's buffers likewise when only some parameters are
    # initialised.
    swapped = []
    kept_buffers = []
    standins = []
    try:
        for g in groups:
            if g.region is not None and g.param.numel() > 0:
                # A sharded parameter: the init code runs against a stand-in
                # of the whole tensor on the meta device (no memory, no
                # collective), and each fill writes this rank's part of it.
                g.shard = g.param.to_local()
                g.local = nn.Parameter(torch.empty(g.global_shape, dtype=g.param.dtype, device="meta"),
                                       requires_grad=g.param.requires_grad)
                for raw in g.raw:
                    owner_path, _, name = raw.rpartition(".")
                    owner = module.get_submodule(owner_path)
                    standins.append((owner, name, owner._parameters[name]))
                    owner._parameters[name] = g.local
                continue
            if g.skip and g.param.numel() > 0:
                g.local = torch.empty_like(g.param)
                swapped.append((g.param, g.param.data))
                g.param.data = g.local
        if dry or only is not None:
            kept_buffers = [(b, b.detach().clone()) for b in module.buffers() if b.device.type != "meta"]
        cap = _capture.Capture("live", seed, groups)
        cap.extra_modules = frozenset(_class_module(m) for m in module.modules())
        with cap:
            _own_init(module, cap)
    finally:
        for param, data in swapped:
            param.data = data
        for owner, name, param in standins:
            owner._parameters[name] = param
        for g in groups:
            g.local = None
            g.shard = None
        with torch.no_grad():
            for b, saved in kept_buffers:
                b.copy_(saved)
    for g in targets:
        if g.rule is None and not g.fills and not g.written and g.param.numel() > 0:
            raise ValueError(
                f"parameter `{g.path}`: no init code of the model fills it (no reset_parameters, _init_weights or "
                f"init_weights writes `{g.path.rpartition('.')[2]}` of {_owner_name(g)}); give a rule for it"
            )
    if cap.rng_drawn:
        for g in targets:
            if g.written:
                raise ValueError(
                    f"parameter `{g.path}`: the init code writes it with {g.written[0]} and drew from torch's "
                    "generator; a value copied from a draw is not keyed: give a rule for it"
                )
    records = []
    for g in groups:
        if id(g) not in target_ids:
            continue
        if g.rule is not None and not dry and g.param.numel() > 0:
            with torch.no_grad():
                if g.region is None:
                    _fill(g.param.data, seed, g.path, g.global_shape, g.rule[1], g.version, None)
                else:
                    _fill(g.param.to_local(), seed, g.path, g.global_shape, g.rule[1], g.version, g.region)
        r = _record(g)
        if digests and not dry:
            local = g.param.to_local() if g.region is not None else g.param
            r["digest"] = _digest(local)
        records.append(r)
    return records


def plan(module, seed, rules=None, versions=None):
    """What ``init_module`` would do, without doing it: one record per
    parameter (``path``, ``shape``, ``dtype``, ``init``, ``version``, ``rule``,
    ``trainable``; ``fills``, the keyed fills the model's init code makes, in
    code order, with the ``region`` of a partial one; ``tied``, every name of
    a tied parameter), in ``named_parameters()`` order. The module's values
    are left as they are."""
    return _run(module, seed, rules, versions, dry=True)


def init_module(module, seed, rules=None, versions=None, digests=False):
    """Re-initialises every parameter of ``module`` in place with the
    module's own init code, every fill keyed, and returns the records of
    ``plan``; with ``digests``, each with the BLAKE3 ``digest`` of the bits
    written (of this rank's shard for a DTensor).

    The init code run is what the model carries: every layer's
    ``reset_parameters`` (PyTorch's layer defaults for torch's own layers),
    then a transformers model's ``_init_weights`` (as ``post_init`` runs it),
    a timm model's ``init_weights``, PEFT's LoRA init. A model whose init
    runs only in its constructor (torchvision's, some of timm's) is an error
    pointing to ``build``.

    ``rules``: ``[(pattern, init)]`` or ``[(pattern, init, version)]`` (or a
    dict ``{pattern: init}``), first match wins, ahead of the model's own
    init; a rule that matches no parameter is an error. ``versions``:
    ``{path: version}``; bumping one re-rolls that parameter alone.
    """
    records = _run(module, seed, rules, versions, digests=digests)
    # Buffers draw nothing, but a module materialised with `to_empty` holds
    # garbage in those that its init code does not write.
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._NormBase) and m.track_running_stats:
            m.reset_running_stats()
    return records


def init_missing(module, seed, missing=None, loaded=None, rules=None, versions=None):
    """Fine-tuning: initialises, keyed and with the model's own init code,
    only the parameters a checkpoint did not provide, and leaves every other
    parameter and every buffer as it is. Give either ``missing`` (names: the
    ``missing_keys`` of ``load_state_dict``, or of transformers'
    ``from_pretrained(..., output_loading_info=True)``) or ``loaded`` (the
    state dict that was loaded, or its keys). Returns the records of the
    parameters initialised."""
    if (missing is None) == (loaded is None):
        raise TypeError("init_missing needs exactly one of `missing` (names) or `loaded` (a state dict or its names)")
    buffers = {n for n, _ in module.named_buffers(remove_duplicate=False)}

    def only(groups):
        if missing is not None:
            chosen, unknown = _select(groups, missing)
            unknown -= buffers
            if unknown:
                raise ValueError(f"missing names no parameter of the module: {', '.join(sorted(unknown))}")
            return chosen
        have = set(loaded.keys() if hasattr(loaded, "keys") else loaded)
        return [g for g in groups if not have & (set(g.names) | set(g.raw))]

    return _run(module, seed, rules, versions, only=only)


def init_lora(module, seed, adapters=None, versions=None):
    """Initialises the LoRA adapters of a PEFT model (all, or those named in
    ``adapters``) with PEFT's own init (A Kaiming-uniform, B zeros, or
    'gaussian'), each keyed by its path, so that adding an adapter or
    targeting another module changes no existing adapter's values. Nothing
    else of the model changes. Returns the records of the adapters'
    parameters."""
    wanted = None if adapters is None else {adapters} if isinstance(adapters, str) else set(adapters)

    def only(groups):
        out = []
        for g in groups:
            segs = g.path.split(".")
            for i, s in enumerate(segs[:-1]):
                if s.startswith("lora_") and (wanted is None or segs[i + 1] in wanted):
                    out.append(g)
                    break
        if not out:
            raise ValueError("the module has no LoRA adapter" + ("" if wanted is None else f" named {sorted(wanted)}"))
        return out

    return _run(module, seed, None, versions, only=only)


def build(factory, seed, *args, rules=None, versions=None, **kwargs):
    """Builds a model with ``factory(*args, **kwargs)`` with its init keyed:
    for models whose init runs in their constructor (torchvision's, timm's
    ``create_model``, transformers' ``post_init``). The fills the
    constructor makes are recorded, then replayed in code order from each
    parameter's stream once the module tree, and so every path, exists. A
    parameter no fill covers keeps the value the constructor gave it (a
    ``torch.zeros``), unless the constructor drew from torch's generator,
    which is an error naming it. Returns the model."""
    seed = _check_seed(seed)
    cap = _capture.Capture("defer", seed)
    cap.extra_modules = frozenset({getattr(factory, "__module__", None) or ""})
    with cap:
        model = factory(*args, **kwargs)
    if not isinstance(model, nn.Module):
        raise TypeError(f"build needs a factory that returns a torch.nn.Module, not {type(model).__name__}")
    _, groups = _prepare(model, seed, rules, versions)
    for g in groups:
        sharded = _dtensor_region(g.param, g.path)
        if sharded is not None:
            raise ValueError(f"parameter `{g.path}`: build makes unsharded models; shard after building")
        g.skip = g.rule is not None
    cap.replay(groups)
    for g in groups:
        if g.rule is not None and g.param.numel() > 0:
            _fill(g.param.data, seed, g.path, g.global_shape, g.rule[1], g.version, None)
        elif (cap.rng_drawn or cap.unconverted) and g.param.numel() > 0 and not any(f["region"] is None for f in g.fills):
            what = f"called {cap.unconverted[0]} on a tensor that is no parameter" if cap.unconverted else "drew from torch's generator"
            raise ValueError(
                f"parameter `{g.path}`: the constructor {what} and no keyed fill covers this parameter, so its "
                "values may come from that draw; give a rule for it"
            )
    return model


def _digest(tensor):
    data = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    return _native.digest(data)


def _whole(module_param, record, seed):
    """The whole tensor of a parameter from its records, for a sharded one."""
    if record["rule"] is not None:
        return sample(seed, record["path"], record["shape"], record["init"], module_param.dtype, record["version"])
    if record.get("written"):
        raise ValueError(
            f"parameter `{record['path']}`: its init writes it with {record['written'][0]}, so the lockfile of a "
            "sharded module cannot compute its whole tensor from the streams"
        )
    t = torch.empty(record["shape"], dtype=module_param.dtype)
    for f in record["fills"]:
        if f["region"] is None:
            _fill(t, seed, record["path"], record["shape"], f["init"], record["version"], None)
        else:
            view = t[tuple(slice(a, b) for a, b in f["region"])]
            view.copy_(sample(seed, record["path"], record["shape"], f["init"], t.dtype, record["version"], f["region"]))
    return t


def lock(module, seed, file, rules=None, versions=None, model_version=1):
    """Runs ``init_module(module, seed, rules, versions)`` and writes the
    lockfile of what it gave (the Rust side's format, written atomically):
    each parameter's scheme, version and the BLAKE3 digest of its whole
    tensor (for a sharded module computed from the streams, so that every
    rank writes the whole model's lockfile); ``model_version`` is the
    model-level version it records. Returns the records."""
    _check_version("model_version", model_version, least=1)
    records = init_module(module, seed, rules, versions)
    params = {}
    for path, p in module.named_parameters(remove_duplicate=False):
        params.setdefault(path, p)
    by_path = {g.path: g for g in _capture.groups_of(module)}
    for r in records:
        param = by_path[r["path"]].param
        if r["init"] is None:
            raise ValueError(f"parameter `{r['path']}`: its init copies values into it, which a lockfile cannot name as a scheme")
        whole = _whole(param, r, int(seed)) if _dtensor_region(param) is not None else param
        r["digest"] = _digest(whole)
    # A parameter the init code also wrote otherwise (a copy of sinusoids
    # after the draw) says so in its rule label: its digest is of what was
    # written, not of the scheme alone.
    entries = [
        (r["path"], r["shape"], r["dtype"], r["init"], r["version"],
         r["rule"] if not r.get("written") else f"init code, then {r['written'][-1]}", r["trainable"], r["digest"])
        for r in records
    ]
    _native.write_lockfile(int(seed), int(model_version), entries, str(file))
    return records
