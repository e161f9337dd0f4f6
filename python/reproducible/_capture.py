"""Capture of a model's own init code, with every fill it makes keyed.

While a capture is active, the fill functions that init code calls
(``torch.nn.init.*`` wherever they are bound, timm's ``trunc_normal_`` and
``trunc_normal_tf_``, the torch functions transformers' ``initialization``
module routes to, and the in-place ``Tensor`` methods ``normal_``,
``uniform_``, ``zero_``, ``fill_``) are replaced. A call whose target is (a
view of) a parameter becomes the SPEC scheme the call implies, drawn from the
stream of the parameter's path, for exactly the elements the call writes; a
call on any other tensor runs unchanged. Random draws that no SPEC scheme
expresses (``bernoulli_``, ``random_``, ...) are errors naming the parameter
and the call.

Two modes:

* ``live``: the module tree exists, so every parameter's path is known; a
  fill is generated before anything else touches the parameter (a
  whole-tensor fill waits for that, so that one a later fill replaces costs
  nothing), and whatever the code does next (``mul_`` by a scale,
  ``clamp_``) acts on the keyed values.
* ``defer``: a model is being built; parameter paths exist only once the
  tree does. Fills on parameters are recorded (with the in-place operations
  that follow them on the same storage) and replayed, keyed, in code order,
  once the model is built.
"""

import math
import sys
import threading

import torch
from torch import nn

from . import _native

_LOCK = threading.RLock()
_ACTIVE = threading.local()

#: the wrapper segments that are not part of a parameter's path
_WRAPPER_SEGMENTS = ("_orig_mod", "_fsdp_wrapped_module", "_checkpoint_wrapped_module")

#: Tensor methods that draw from torch's generator with no SPEC scheme
_UNKEYABLE = ("bernoulli_", "random_", "exponential_", "cauchy_", "log_normal_", "geometric_")

#: in-place Tensor methods recorded after a deferred fill (so that they act on
#: the keyed values when replayed) and that mark a parameter as written
_INPLACE = (
    "copy_", "__setitem__", "mul_", "div_", "add_", "sub_", "clamp_", "clamp_min_", "clamp_max_",
    "erfinv_", "neg_", "abs_", "sqrt_", "exp_", "masked_fill_", "fill_diagonal_", "index_fill_",
    "addcmul_", "addcdiv_", "t_", "tanh_", "sign_",
)


class CaptureError(ValueError):
    """A fill of the model's init code that cannot be keyed."""


def _fans(shape):
    """``torch.nn.init._calculate_fan_in_and_fan_out`` for a shape."""
    if len(shape) < 2:
        raise ValueError("fan in and fan out need a tensor of at least 2 dimensions")
    r = math.prod(shape[2:])
    return shape[1] * r, shape[0] * r


def _gain(nonlinearity, param=None):
    return nn.init.calculate_gain(nonlinearity, param)


def _num(x):
    """A scheme argument as a float (0-d tensors included), for the text form."""
    if isinstance(x, torch.Tensor):
        x = x.item()
    return float(x)


def _constant(val):
    """``constant(val)``, written ``zeros()`` or ``ones()`` where it is one
    (the same draw, SPEC 7.1; the names the layer presets use)."""
    val = _num(val)
    if val == 0.0 and math.copysign(1.0, val) > 0:
        return "zeros()"
    if val == 1.0:
        return "ones()"
    return f"constant({val!r})"


def _uniform(a, b):
    a, b = _num(a), _num(b)
    if a == b:
        return _constant(a)
    return f"uniform({a!r}, {b!r})"


class _Call:
    """What one intercepted call asks for: the scheme as a function of the
    written tensor's shape and whether it covers the whole parameter."""

    def __init__(self, name, scheme, structured=False, random=True):
        self.name = name  # e.g. "torch.nn.init.kaiming_uniform_"
        self.scheme = scheme  # (shape, whole) -> scheme text
        self.structured = structured  # orthogonal, eye, dirac, sparse: whole tensors only
        self.random = random  # False for constants


def _kaiming(kind, a, mode, nonlinearity):
    def scheme(shape, whole):
        if whole:
            return f"kaiming_{kind}(a={_num(a)!r}, mode={mode}, nonlinearity={nonlinearity})"
        fan_in, fan_out = _fans(shape)
        fan = fan_in if mode == "fan_in" else fan_out
        std = _gain(nonlinearity, a) / math.sqrt(fan)
        return f"normal(0.0, {std!r})" if kind == "normal" else _uniform(-math.sqrt(3.0) * std, math.sqrt(3.0) * std)

    return scheme


def _xavier(kind, gain):
    def scheme(shape, whole):
        if whole:
            return f"xavier_{kind}(gain={_num(gain)!r})"
        fan_in, fan_out = _fans(shape)
        std = _num(gain) * math.sqrt(2.0 / float(fan_in + fan_out))
        return f"normal(0.0, {std!r})" if kind == "normal" else _uniform(-math.sqrt(3.0) * std, math.sqrt(3.0) * std)

    return scheme


def _const(text):
    return lambda shape, whole: text


# What each of torch.nn.init's functions asks for, from its arguments, with
# PyTorch's defaults.
def _init_uniform(a=0.0, b=1.0, generator=None):
    return _Call("torch.nn.init.uniform_", _const(_uniform(a, b)))


def _init_normal(mean=0.0, std=1.0, generator=None):
    return _Call("torch.nn.init.normal_", _const(f"normal({_num(mean)!r}, {_num(std)!r})"))


def _init_trunc_normal(mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    text = f"trunc_normal({_num(mean)!r}, {_num(std)!r}, {_num(a)!r}, {_num(b)!r})"
    return _Call("torch.nn.init.trunc_normal_", _const(text))


def _init_constant(val):
    return _Call("torch.nn.init.constant_", _const(_constant(val)), random=False)


def _init_ones():
    return _Call("torch.nn.init.ones_", _const("ones()"), random=False)


def _init_zeros():
    return _Call("torch.nn.init.zeros_", _const("zeros()"), random=False)


def _init_eye():
    return _Call("torch.nn.init.eye_", _const("eye()"), structured=True, random=False)


def _init_dirac(groups=1):
    return _Call("torch.nn.init.dirac_", _const(f"dirac({int(groups)})"), structured=True, random=False)


def _init_xavier_uniform(gain=1.0, generator=None):
    return _Call("torch.nn.init.xavier_uniform_", _xavier("uniform", gain))


def _init_xavier_normal(gain=1.0, generator=None):
    return _Call("torch.nn.init.xavier_normal_", _xavier("normal", gain))


def _init_kaiming_uniform(a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    return _Call("torch.nn.init.kaiming_uniform_", _kaiming("uniform", a, mode, nonlinearity))


def _init_kaiming_normal(a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    return _Call("torch.nn.init.kaiming_normal_", _kaiming("normal", a, mode, nonlinearity))


def _init_orthogonal(gain=1, generator=None):
    return _Call("torch.nn.init.orthogonal_", _const(f"orthogonal({_num(gain)!r})"), structured=True)


def _init_sparse(sparsity, std=0.01, generator=None):
    return _Call("torch.nn.init.sparse_", _const(f"sparse({_num(sparsity)!r}, {_num(std)!r})"), structured=True)


def _timm_trunc_normal(mean=0.0, std=1.0, a=-2.0, b=2.0):
    text = f"trunc_normal({_num(mean)!r}, {_num(std)!r}, {_num(a)!r}, {_num(b)!r})"
    return _Call("timm.layers.trunc_normal_", _const(text))


def _timm_trunc_normal_tf(mean=0.0, std=1.0, a=-2.0, b=2.0):
    # timm's "tf" variant truncates the standard normal at (a, b), then scales
    # and shifts: the truncated normal of (mean, std) at mean + (a, b) * std.
    mean, std, a, b = _num(mean), _num(std), _num(a), _num(b)
    text = f"trunc_normal({mean!r}, {std!r}, {mean + a * std!r}, {mean + b * std!r})"
    return _Call("timm.layers.trunc_normal_tf_", _const(text))


_TORCH_INIT = {
    "uniform_": _init_uniform,
    "normal_": _init_normal,
    "trunc_normal_": _init_trunc_normal,
    "constant_": _init_constant,
    "ones_": _init_ones,
    "zeros_": _init_zeros,
    "eye_": _init_eye,
    "dirac_": _init_dirac,
    "xavier_uniform_": _init_xavier_uniform,
    "xavier_normal_": _init_xavier_normal,
    "kaiming_uniform_": _init_kaiming_uniform,
    "kaiming_normal_": _init_kaiming_normal,
    "orthogonal_": _init_orthogonal,
    "sparse_": _init_sparse,
}

#: the original Tensor methods (the C implementations), saved at import
_ORIG = {name: getattr(torch.Tensor, name) for name in ("normal_", "uniform_", "zero_", "fill_", *_UNKEYABLE, *_INPLACE)}


def _tensor_normal(self, mean=0.0, std=1.0, *, generator=None):
    text = f"normal({_num(mean)!r}, {_num(std)!r})"
    return _method_fill(self, "normal_", _Call("Tensor.normal_", _const(text)), (mean, std), {"generator": generator})


def _tensor_uniform(self, a=0.0, b=1.0, *, generator=None):
    return _method_fill(self, "uniform_", _Call("Tensor.uniform_", _const(_uniform(a, b))), (a, b), {"generator": generator})


def _tensor_zero(self):
    return _method_fill(self, "zero_", _Call("Tensor.zero_", _const("zeros()"), random=False), (), {})


def _tensor_fill(self, value):
    return _method_fill(self, "fill_", _Call("Tensor.fill_", lambda shape, whole: _constant(value), random=False), (value,), {})


def _unkeyable(name):
    def method(self, *args, **kwargs):
        cap = _current()
        target = cap.lookup(self, f"Tensor.{name}") if cap is not None else None
        if target is None:
            return _ORIG[name](self, *args, **kwargs)
        if cap.mode == "defer":
            # The path is known once the model is: the replay names it.
            cap.log.append(("unkeyable", self, f"Tensor.{name}"))
            return self
        raise _unkeyable_error(target[0].path, f"Tensor.{name}")

    method.__name__ = name
    return method


def _unkeyable_error(path, call):
    return CaptureError(
        f"parameter `{path}`: {call} draws from torch's generator and no SPEC scheme gives its law; "
        "give a rule for it"
    )


def _inplace(name):
    def method(self, *args, **kwargs):
        cap = _current()
        if cap is not None and not cap.suspended:
            if cap.write(self, name, args, kwargs):
                return self
        return _ORIG[name](self, *args, **kwargs)

    method.__name__ = name
    return method


_TENSOR = {"normal_": _tensor_normal, "uniform_": _tensor_uniform, "zero_": _tensor_zero, "fill_": _tensor_fill}
_TENSOR.update({n: _unkeyable(n) for n in _UNKEYABLE})
_TENSOR.update({n: _inplace(n) for n in _INPLACE})


def _current():
    return getattr(_ACTIVE, "capture", None)


def _method_fill(self, name, call, args, kwargs):
    cap = _current()
    if cap is not None and not cap.suspended:
        target = cap.lookup(self, call.name)
        if target is not None:
            cap.fill(self, target, call)
            return self
        if cap.mode == "defer":
            cap.temp_fill(self, call)
            if "generator" in kwargs and kwargs["generator"] is None:
                kwargs = {**kwargs, "generator": cap.private()}
    if kwargs.get("generator", 1) is None:
        kwargs = {}
    return _ORIG[name](self, *args, **kwargs)


def _replacement(name, make, orig):
    """The keyed stand-in for the init function ``orig``: a call on a
    parameter becomes a keyed fill, any other call runs ``orig`` unchanged."""

    def replacement(tensor, *args, **kwargs):
        cap = _current()
        if cap is not None and not cap.suspended:
            target = cap.lookup(tensor, name)
            if target is not None:
                cap.fill(tensor, target, make(*args, **kwargs))
                return tensor
            if cap.mode == "defer":
                cap.temp_fill(tensor, make(*args, **kwargs))
                cap.temp_depth += 1
                try:
                    return orig(tensor, *args, **kwargs)
                finally:
                    cap.temp_depth -= 1
        return orig(tensor, *args, **kwargs)

    replacement.__name__ = replacement.__qualname__ = name.rpartition(".")[2]
    replacement.__wrapped__ = orig
    return replacement


_TORCH_ORIGINALS = {n: getattr(nn.init, n) for n in _TORCH_INIT}


class Group:
    """One parameter of the model (all the names a tie gives it): its
    canonical path, its tensors, and the fills its init made."""

    def __init__(self, path, names, param, owners):
        self.path = path
        self.names = names  # every path that names it, canonical ones, sorted
        self.param = param
        self.owners = owners  # modules that hold it (one per name)
        self.shape = list(param.shape)
        self.fills = []  # {"call", "init", "region"} in code order
        self.written = []  # names of other in-place writes (copy_, ...)
        self.skip = False  # filled by a rule, or not part of this init: values untouched
        self.version = 1
        self.local = None  # the tensor written (a throwaway when skipped)
        self.pending = None  # a whole-tensor fill not generated yet
        self.shard = None  # this rank's local tensor of a DTensor (`local` is then a meta stand-in)
        self.region = None  # this rank's region of a DTensor
        self.global_shape = list(param.shape)


def _is_dtensor(t):
    mod = sys.modules.get("torch.distributed.tensor")
    return mod is not None and isinstance(t, mod.DTensor)


def _storage_key(t):
    if _is_dtensor(t):
        t = t._local_tensor
    if t.numel() == 0:
        return None
    if t.device.type == "meta":
        # No memory, but views share the storage object: the stand-in of a
        # sharded parameter (see `Group.shard`).
        return ("meta", t.untyped_storage()._cdata)
    return t.untyped_storage().data_ptr()


def canonical_paths(module):
    """{module: canonical path} for every module of the tree (wrapper
    segments dropped) and {id(param): [canonical names]} in
    ``named_parameters`` order."""
    from torch.nn.parallel import DataParallel, DistributedDataParallel

    canon = {"": ""}
    mods = {"": module}
    for path, m in module.named_modules(remove_duplicate=False):
        if path == "":
            continue
        parent_path, _, seg = path.rpartition(".")
        parent = mods[parent_path]
        base = canon[parent_path]
        wrapper = seg in _WRAPPER_SEGMENTS or (seg == "module" and isinstance(parent, (DataParallel, DistributedDataParallel)))
        canon[path] = base if wrapper else (f"{base}.{seg}" if base else seg)
        mods[path] = m
    return canon, mods


def groups_of(module):
    """The parameters of ``module`` as tie groups, in ``named_parameters``
    order of their first name: a tie's canonical path is the
    lexicographically smallest of its names, whatever order the modules were
    registered in."""
    canon, mods = canonical_paths(module)
    by_key = {}
    order = []
    for path, param in module.named_parameters(remove_duplicate=False):
        owner_path, _, name = path.rpartition(".")
        cpath = f"{canon[owner_path]}.{name}" if canon[owner_path] else name
        skey = _storage_key(param)
        key = ("id", id(param)) if skey is None or _is_dtensor(param) else ("s", skey, param.storage_offset(), tuple(param.shape), tuple(param.stride()))
        if key not in by_key:
            by_key[key] = ([], param, [])
            order.append(key)
        names, _, owners = by_key[key]
        if cpath not in names:
            names.append(cpath)
            owners.append(mods[owner_path])
    out = []
    for key in order:
        names, param, owners = by_key[key]
        pairs = sorted(zip(names, owners), key=lambda p: p[0])
        out.append(Group(pairs[0][0], [n for n, _ in pairs], param, [o for _, o in pairs]))
    return out


class Capture:
    """The interception of one init run (see the module docs)."""

    def __init__(self, mode, seed, groups=None, versions=None):
        self.mode = mode  # "live" or "defer"
        self.seed = seed
        self.suspended = 0
        self.owner = None  # the module whose own init is running, where known
        self.by_storage = {}
        self.by_id = {}
        self.groups = []
        self.log = []  # defer: (kind, tensor, payload) in code order
        self.created = []  # defer: the parameters made during the build
        self.deferred = set()  # defer: storages with recorded operations
        self.patched = []
        self.temp_depth = 0
        self._private = None
        self.unconverted = []  # defer: random fills of tensors that never became parameters
        if groups is not None:
            self.set_groups(groups)

    # -- parameters -------------------------------------------------------
    def set_groups(self, groups):
        self.groups = groups
        self.by_storage.clear()
        self.by_id.clear()
        for g in groups:
            t = g.local if g.local is not None else g.param
            self.by_id[id(g.param)] = g
            self.by_id[id(t)] = g
            key = None if _is_dtensor(t) else _storage_key(t)
            if key is not None:
                self.by_storage.setdefault(key, []).append((g, t))

    def lookup(self, tensor, call):
        """The parameter a call writes to and how: ``(group, tensor of the
        parameter, whole)``; None when the target is no parameter."""
        if self.mode == "defer":
            return self._lookup_defer(tensor, call)
        if tensor.numel() == 0:
            return None
        g = self.by_id.get(id(tensor))
        if g is not None:
            return g, (g.local if g.local is not None else g.param), True
        key = _storage_key(tensor)
        if key is None:
            return None
        for g, t in self.by_storage.get(key, ()):
            if (tensor.storage_offset(), tuple(tensor.shape), tensor.stride()) == (t.storage_offset(), tuple(t.shape), t.stride()):
                return g, t, True
            if _overlaps(t, tensor):
                return g, t, False
        return None

    def _lookup_defer(self, tensor, call):
        key = _storage_key(tensor)
        if key is None or key not in self.created_storages:
            return None
        return ("deferred", key), None, None

    # -- fills --------------------------------------------------------------
    def temp_fill(self, tensor, call):
        """A fill, while building, of a tensor that is no parameter yet
        (``nn.Parameter(torch.empty(n).normal_())``): it runs, on a private
        generator so that torch's is left alone, and is replayed keyed if the
        tensor turns out to be a parameter of the model."""
        if self.temp_depth == 0 and tensor.numel() > 0:
            self.log.append(("temp", tensor, call))

    def private(self):
        if self._private is None:
            self._private = torch.Generator(device="cpu")
            self._private.manual_seed(0)
        return self._private

    def fill(self, tensor, target, call):
        g, t, whole = target
        if self.mode == "defer":
            self.deferred.add(g[1])
            self.log.append(("fill", tensor, call))
            return
        self._fill_live(tensor, g, t, whole, call)

    def _fill_live(self, tensor, g, t, whole, call):
        if self.owner is not None and len(g.owners) > 1 and self.owner in g.owners:
            # A tie: only the init of the module that owns its canonical name
            # decides it, whatever order the modules were registered in.
            if g.owners[g.names.index(g.path)] is not self.owner:
                return
        shape = list(tensor.shape)
        if call.structured and not whole:
            raise CaptureError(f"parameter `{g.path}`: {call.name} on a part of it cannot be keyed (it is not elementwise)")
        try:
            text = _native.scheme_text(call.scheme(shape, whole))
        except ValueError as e:
            raise CaptureError(f"parameter `{g.path}`: {call.name} cannot be keyed: {e}") from None
        region = None if whole else _region(t, tensor)
        g.fills.append({"call": call.name, "init": text, "region": region})
        if g.skip:
            return
        if g.shard is not None and not whole:
            # The stand-in's view, in global coordinates: this rank writes the
            # elements of it that lie in its shard.
            self.flush(g)
            self._generate(g, call.name, lambda: _fill_shard_part(g, _coords(t, tensor), self.seed, text))
            return
        if whole:
            # Generated when something next touches the parameter (or when
            # the capture ends): a layer default that the model's own init
            # then replaces is never generated at all.
            g.pending = (t, text, call.name)
            return
        self.flush(g)
        self._generate(g, call.name, lambda: _fill_view(t, tensor, region, self.seed, g.path, g.shape, text, g.version))

    def flush(self, g):
        """Generates the whole-tensor fill of ``g`` still pending."""
        if g.pending is None:
            return
        t, text, name = g.pending
        g.pending = None
        from .torch import _fill

        if g.region is not None:
            self._generate(g, name, lambda: _fill(g.shard, self.seed, g.path, g.global_shape, text, g.version, g.region))
        else:
            self._generate(g, name, lambda: _fill(t, self.seed, g.path, g.shape, text, g.version, None))

    def flush_all(self):
        for g in self.groups:
            self.flush(g)

    def _generate(self, g, name, run):
        self.suspended += 1
        try:
            with torch.no_grad():
                run()
        except ValueError as e:
            raise CaptureError(f"parameter `{g.path}`: {name} cannot be keyed: {e}") from None
        finally:
            self.suspended -= 1

    def write(self, tensor, name, args, kwargs):
        """An in-place write other than a fill; True when it was recorded
        (deferred) instead of run."""
        if self.mode == "defer":
            key = _storage_key(tensor)
            if key is not None and key in self.deferred:
                self.log.append(("op", tensor, (name, args, kwargs)))
                return True
            return False
        target = self.lookup(tensor, f"Tensor.{name}")
        if target is None:
            return False
        g, _, whole = target
        self.flush(g)
        if name in ("copy_", "__setitem__"):
            g.written.append(f"Tensor.{name}")
        if g.shard is not None and not g.skip:
            # The stand-in has no values: an elementwise operation with plain
            # arguments over the whole parameter acts on this rank's shard.
            plain = not any(isinstance(a, torch.Tensor) for a in (*args, *kwargs.values()))
            if not (whole and plain and name not in ("copy_", "__setitem__", "t_")):
                raise CaptureError(
                    f"parameter `{g.path}`: Tensor.{name} on a sharded (DTensor) parameter cannot be applied shard by shard"
                )
            self.suspended += 1
            try:
                with torch.no_grad():
                    _ORIG[name](g.shard, *args, **kwargs)
            finally:
                self.suspended -= 1
            return True
        return False

    # -- patching -----------------------------------------------------------
    def __enter__(self):
        _LOCK.acquire()
        if _current() is not None:
            _LOCK.release()
            raise RuntimeError("reproducible: an init capture is already running in this thread")
        _ACTIVE.capture = self
        try:
            self._patch()
        except BaseException:
            self._unpatch()
            _ACTIVE.capture = None
            _LOCK.release()
            raise
        self.rng = _rng_state()
        return self

    def __exit__(self, *exc):
        try:
            self.rng_drawn = _rng_state() != self.rng
            if exc[0] is None and self.mode == "live":
                self.flush_all()
        finally:
            self._unpatch()
            _ACTIVE.capture = None
            _LOCK.release()
        return False

    def _set(self, owner, name, value):
        had = name in vars(owner) if isinstance(owner, type) else True
        old = vars(owner).get(name) if isinstance(owner, type) else getattr(owner, name)
        self.patched.append((owner, name, had, old))
        setattr(owner, name, value)

    def _patch(self):
        replacements = {}
        for name, f in _TORCH_INIT.items():
            orig = _TORCH_ORIGINALS[name]
            replacements[id(orig)] = (orig, _replacement(f"torch.nn.init.{name}", f, orig))
        timm = sys.modules.get("timm.layers.weight_init")
        if timm is not None:
            for name, f in (("trunc_normal_", _timm_trunc_normal), ("trunc_normal_tf_", _timm_trunc_normal_tf)):
                orig = getattr(timm, name, None)
                if orig is not None:
                    replacements[id(orig)] = (orig, _replacement(f"timm.layers.{name}", f, orig))
        # Every module that bound one of them by name (`from torch.nn.init
        # import xavier_uniform_`, `from timm.layers import trunc_normal_`).
        for modname, mod in list(sys.modules.items()):
            if mod is None or not modname.startswith(_SCAN_PREFIXES) and modname not in self.extra_modules:
                continue
            d = getattr(mod, "__dict__", None)
            if not d:
                continue
            for k, v in list(d.items()):
                r = replacements.get(id(v))
                if r is not None and r[0] is v:
                    self._set(mod, k, r[1])
        hf = sys.modules.get("transformers.initialization")
        if hf is not None:
            table = getattr(hf, "TORCH_INIT_FUNCTIONS", None)
            if isinstance(table, dict):
                for k, v in list(table.items()):
                    r = replacements.get(id(v))
                    if r is not None and r[0] is v:
                        self.patched.append((table, k, True, v))
                        table[k] = r[1]
        for name, f in _TENSOR.items():
            self._set(torch.Tensor, name, f)
        if self.mode == "defer":
            self._patch_parameter()

    def _patch_parameter(self):
        orig = vars(nn.Parameter)["__new__"]
        new = orig.__func__ if isinstance(orig, staticmethod) else orig
        cap = self
        cap.created_storages = set()

        def __new__(cls, data=None, requires_grad=True):
            p = new(cls, data, requires_grad)
            cap.created.append(p)
            key = _storage_key(p)
            if key is not None:
                cap.created_storages.add(key)
            return p

        self._set(nn.Parameter, "__new__", staticmethod(__new__))

    def _unpatch(self):
        while self.patched:
            owner, name, had, old = self.patched.pop()
            if isinstance(owner, dict):
                owner[name] = old
            elif had:
                setattr(owner, name, old)
            else:
                delattr(owner, name)

    extra_modules = frozenset()

    # -- the replay of a build ------------------------------------------------
    def replay(self, groups):
        """Runs the recorded fills keyed (and the writes after them) in code
        order, now that every parameter's path is known."""
        self.mode = "live"
        self.set_groups(groups)
        for kind, tensor, payload in self.log:
            if kind == "fill":
                target = self.lookup(tensor, payload.name)
                if target is not None:  # else a tensor the model dropped (a tie)
                    self.fill(tensor, target, payload)
            elif kind == "temp":
                target = self.lookup(tensor, payload.name)
                if target is not None:
                    self.fill(tensor, target, payload)
                elif payload.random:
                    self.unconverted.append(payload.name)
            elif kind == "unkeyable":
                target = self.lookup(tensor, payload)
                if target is not None:
                    raise _unkeyable_error(target[0].path, payload)
            else:
                name, args, kwargs = payload
                target = self.lookup(tensor, f"Tensor.{name}")
                if target is not None:
                    self.flush(target[0])
                    self.suspended += 1
                    try:
                        with torch.no_grad():
                            _ORIG[name](tensor, *args, **kwargs)
                    finally:
                        self.suspended -= 1
        self.log = []
        self.flush_all()


#: the packages whose modules may bind an init function by name; the modules
#: that define the model's own classes are scanned too (`extra_modules`).
#: Scanning every loaded module would cost more than the init itself.
_SCAN_PREFIXES = ("torch.nn", "timm", "transformers", "torchvision", "peft")


def _rng_state():
    states = [bytes(torch.random.get_rng_state().numpy())]
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states += [bytes(s.numpy()) for s in torch.cuda.get_rng_state_all()]
    return states


def _coords(param, tensor):
    """The coordinates in ``param`` (rows of an int64 tensor, in ``tensor``'s
    row-major element order) of every element of ``tensor``, a view into
    ``param``'s storage; None when some element lies outside ``param``."""
    idx = torch.full((), tensor.storage_offset() - param.storage_offset(), dtype=torch.int64)
    for n, s in zip(tensor.shape, tensor.stride()):
        idx = idx.unsqueeze(-1) + torch.arange(n, dtype=torch.int64) * s
    idx = idx.reshape(-1)
    # Undo the parameter's strides, largest first.
    dims = sorted(range(param.dim()), key=lambda d: -param.stride(d))
    coords = torch.empty((idx.numel(), param.dim()), dtype=torch.int64)
    rest = idx.clone()
    for d in dims:
        s = param.stride(d)
        if s == 0:
            coords[:, d] = 0
            continue
        coords[:, d] = torch.div(rest, s, rounding_mode="floor")
        rest = rest - coords[:, d] * s
    inside = (rest == 0) & (idx >= 0)
    for d in range(param.dim()):
        inside &= (coords[:, d] >= 0) & (coords[:, d] < param.shape[d])
    if not bool(inside.all()):
        return None
    return coords


def _overlaps(param, tensor):
    start = tensor.storage_offset()
    end = start + sum((n - 1) * s for n, s in zip(tensor.shape, tensor.stride())) + 1
    pstart = param.storage_offset()
    pend = pstart + sum((n - 1) * s for n, s in zip(param.shape, param.stride())) + 1
    return start < pend and pstart < end


def _region(param, tensor):
    """The bounding box in ``param`` of the view ``tensor``, as (start, end)
    pairs; the view must lie inside the parameter."""
    coords = _coords(param, tensor)
    if coords is None:
        raise CaptureError("a view reaching outside its parameter")
    lo = coords.min(0).values.tolist()
    hi = coords.max(0).values.tolist()
    return [(int(a), int(b) + 1) for a, b in zip(lo, hi)]


def _fill_view(param, tensor, region, seed, path, shape, text, version):
    """Generates the elements of the view ``tensor`` of ``param``: its
    bounding box, then each element from its coordinates."""
    from .torch import _fill

    box = torch.empty([b - a for a, b in region], dtype=param.dtype)
    _fill(box, seed, path, shape, text, version, region)
    coords = _coords(param, tensor)
    starts = torch.tensor([a for a, _ in region], dtype=torch.int64)
    local = coords - starts
    flat = torch.zeros(local.shape[0], dtype=torch.int64)
    for d, (a, b) in enumerate(region):
        flat = flat * (b - a) + local[:, d]
    values = box.reshape(-1)[flat].reshape(tensor.shape).to(tensor.device)
    _ORIG["copy_"](tensor, values)


def _fill_shard_part(g, coords, seed, text):
    """Writes the elements at global ``coords`` that lie in this rank's
    shard ``g.region`` of a DTensor parameter."""
    from .torch import _fill

    starts = torch.tensor([a for a, _ in g.region], dtype=torch.int64)
    ends = torch.tensor([b for _, b in g.region], dtype=torch.int64)
    inside = ((coords >= starts) & (coords < ends)).all(1)
    coords = coords[inside]
    if coords.numel() == 0:
        return
    lo, hi = coords.min(0).values, coords.max(0).values
    region = [(int(a), int(b) + 1) for a, b in zip(lo.tolist(), hi.tolist())]
    box = torch.empty([b - a for a, b in region], dtype=g.shard.dtype)
    _fill(box, seed, g.path, g.global_shape, text, g.version, region)
    values = box[tuple((coords - lo).t())]
    local = tuple((coords - starts).t())
    g.shard.index_put_(local, values.to(g.shard.device))
