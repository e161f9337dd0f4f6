"""The capture of a module's own init code: every fill it makes becomes the
keyed stream of the parameter's path, with the scheme the call implies,
partial fills included; paths that wrappers and registration order do not
change; and the errors for what cannot be keyed."""

import math
import os
import subprocess
import sys
from collections import OrderedDict

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import reproducible.torch as rt  # noqa: E402
from conftest import ROOT  # noqa: E402


def bits(t):
    t = t.detach().contiguous()
    return t.view(torch.int32 if t.element_size() == 4 else torch.int16).numpy().tobytes()


def text(scheme):
    return rt._native.scheme_text(scheme)


class Custom(nn.Module):
    """A layer with init code of its own: a partial fill, a scaled fill,
    a slice set."""

    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.empty(10, 6))
        self.proj = nn.Parameter(torch.empty(8, 12))
        self.scale = nn.Parameter(torch.empty(4))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.trunc_normal_(self.table, std=0.5, a=-1.0, b=1.0)
        with torch.no_grad():
            self.table[2].zero_()
            self.table[:, 5].fill_(3.0)
        nn.init.xavier_uniform_(self.proj[:4])
        nn.init.kaiming_normal_(self.proj[4:], mode="fan_out", nonlinearity="relu")
        with torch.no_grad():
            self.scale.normal_(1.0, 0.1).mul_(2.0)


def test_partial_fills_are_keyed_in_code_order_with_the_views_own_fans():
    m = Custom()
    records = {r["path"]: r for r in rt.init_module(m, 7)}
    table = records["table"]
    assert [f["call"] for f in table["fills"]] == ["torch.nn.init.trunc_normal_", "Tensor.zero_", "Tensor.fill_"]
    assert table["fills"][1]["region"] == [(2, 3), (0, 6)] and table["fills"][2]["region"] == [(0, 10), (5, 6)]
    want = rt.sample(7, "table", [10, 6], "trunc_normal(0, 0.5, -1, 1)")
    want[2] = 0
    want[:, 5] = 3.0
    assert bits(m.table) == bits(want)
    # A fill on a view takes the view's fans, as torch.nn.init computes them.
    bound = math.sqrt(3.0) * math.sqrt(2.0 / (12 + 4))
    std = math.sqrt(2.0) / math.sqrt(4)
    proj = records["proj"]["fills"]
    assert proj[0]["init"] == text(f"uniform({-bound!r}, {bound!r})") and proj[0]["region"] == [(0, 4), (0, 12)]
    assert proj[1]["init"] == text(f"normal(0.0, {std!r})") and proj[1]["region"] == [(4, 8), (0, 12)]
    whole_top = rt.sample(7, "proj", [8, 12], f"uniform({-bound!r}, {bound!r})")
    whole_bottom = rt.sample(7, "proj", [8, 12], f"normal(0.0, {std!r})")
    assert bits(m.proj[:4]) == bits(whole_top[:4]) and bits(m.proj[4:]) == bits(whole_bottom[4:])
    # What the code does after a fill acts on the keyed values.
    assert bits(m.scale) == bits(rt.sample(7, "scale", [4], "normal(1, 0.1)") * 2.0)


def test_plain_torch_layers_get_their_reset_parameters_and_a_subclass_its_own():
    class Zeroed(nn.Linear):
        def reset_parameters(self):
            nn.init.zeros_(self.weight)
            nn.init.ones_(self.bias)

    class MyAttention(nn.MultiheadAttention):
        def _reset_parameters(self):
            nn.init.normal_(self.in_proj_weight, std=0.5)
            nn.init.constant_(self.in_proj_bias, 0.25)

    m = nn.ModuleDict({"z": Zeroed(4, 3), "attn": MyAttention(8, 2), "fc": nn.Linear(5, 2)})
    records = {r["path"]: r for r in rt.init_module(m, 1)}
    assert torch.all(m["z"].weight == 0) and torch.all(m["z"].bias == 1)
    assert records["attn.in_proj_weight"]["init"] == text("normal(0, 0.5)")
    assert torch.all(m["attn"].in_proj_bias == 0.25)
    # The base class's init (Xavier) is not used for the subclass.
    assert bits(m["attn"].in_proj_weight) == bits(rt.sample(1, "attn.in_proj_weight", [24, 8], "normal(0, 0.5)"))
    assert records["fc.weight"]["init"] == text("kaiming_uniform(a=2.23606797749979)")


def test_an_unkeyable_fill_is_an_error_naming_the_parameter_and_the_call():
    class Bernoulli(nn.Module):
        def __init__(self):
            super().__init__()
            self.mask = nn.Parameter(torch.empty(4, 4))

        def reset_parameters(self):
            self.mask.data.bernoulli_(0.5)

    with pytest.raises(ValueError) as e:
        rt.init_module(Bernoulli(), 0)
    assert "mask" in str(e.value) and "bernoulli_" in str(e.value)

    class PartOrthogonal(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(6, 3))

        def reset_parameters(self):
            nn.init.orthogonal_(self.w[:3])

    with pytest.raises(ValueError) as e:
        rt.init_module(PartOrthogonal(), 0)
    assert "`w`" in str(e.value) and "orthogonal_" in str(e.value)

    class Copied(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(3, 3))

        def reset_parameters(self):
            with torch.no_grad():
                self.w.copy_(torch.randn(3, 3) * 0.1)

    with pytest.raises(ValueError) as e:
        rt.init_module(Copied(), 0)
    assert "`w`" in str(e.value) and "copy_" in str(e.value) and "generator" in str(e.value)


def test_a_deterministic_copy_is_allowed_and_kept():
    class Sincos(nn.Module):
        def __init__(self):
            super().__init__()
            self.pos = nn.Parameter(torch.empty(4, 6))

        def reset_parameters(self):
            with torch.no_grad():
                self.pos.copy_(torch.arange(24.0).reshape(4, 6).sin())

    m = Sincos()
    records = rt.init_module(m, 0)
    assert torch.equal(m.pos.detach(), torch.arange(24.0).reshape(4, 6).sin())
    assert records[0]["written"] == ["Tensor.copy_"]


def test_ties_are_filled_once_under_the_smallest_name_whatever_the_order():
    class Tied(nn.Module):
        def __init__(self, head_first):
            super().__init__()
            if head_first:
                self.head = nn.Linear(6, 10, bias=False)
                self.emb = nn.Embedding(10, 6)
            else:
                self.emb = nn.Embedding(10, 6)
                self.head = nn.Linear(6, 10, bias=False)
            self.head.weight = self.emb.weight

    a, b = Tied(False), Tied(True)
    ra, rb = rt.init_module(a, 3), rt.init_module(b, 3)
    assert [r["path"] for r in ra] == [r["path"] for r in rb] == ["emb.weight"]
    assert ra[0]["tied"] == ["emb.weight", "head.weight"]
    # The owner of the canonical name (the embedding) decides the init.
    assert ra[0]["init"] == rb[0]["init"] == text("normal(0, 1)")
    assert bits(a.emb.weight) == bits(b.emb.weight) == bits(rt.sample(3, "emb.weight", [10, 6], "normal(0, 1)"))
    assert a.head.weight is a.emb.weight


def test_a_zero_size_parameter_is_a_no_op():
    m = nn.ModuleDict({"empty": nn.Linear(0, 4), "fc": nn.Linear(3, 2)})
    records = {r["path"]: r for r in rt.init_module(m, 0)}
    assert records["empty.weight"]["shape"] == [4, 0]
    assert bits(m["fc"].weight) == bits(rt.sample(0, "fc.weight", [2, 3], "kaiming_uniform(a=2.23606797749979)"))


def test_a_rule_that_matches_nothing_is_an_error():
    with pytest.raises(ValueError) as e:
        rt.init_module(nn.Linear(2, 2), 0, rules=[("wieght", "zeros()")])
    assert "`wieght`" in str(e.value)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(12, 8, padding_idx=0)
        self.attn = nn.MultiheadAttention(8, 2)
        self.fc = nn.Linear(8, 8)
        self.norm = nn.LayerNorm(8)


class FakeFSDP(nn.Module):
    """FSDP1 and activation checkpointing hold the wrapped module under these
    reserved names."""

    def __init__(self, inner, name):
        super().__init__()
        self.add_module(name, inner)


def all_bits(model):
    return {r["path"]: r["digest"] for r in rt.init_module(model, 5, digests=True)}


def test_wrappers_do_not_change_paths_or_values():
    plain = all_bits(Block())
    assert all_bits(torch.compile(Block())) == plain
    assert all_bits(FakeFSDP(Block(), "_fsdp_wrapped_module")) == plain
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper

    wrapped = Block()
    wrapped.fc = checkpoint_wrapper(wrapped.fc)
    assert "fc._checkpoint_wrapped_module.weight" in dict(wrapped.named_parameters())
    assert all_bits(wrapped) == plain
    # A child merely named `module` is part of the path.
    holder = nn.Module()
    holder.module = Block()
    assert set(all_bits(holder)) == {f"module.{p}" for p in plain}


def test_ddp_gives_the_unwrapped_bits(tmp_path):
    import torch.distributed as dist

    if not dist.is_available():
        pytest.skip("torch without distributed")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        ddp = nn.parallel.DistributedDataParallel(Block())
        assert all_bits(ddp) == all_bits(Block())
    finally:
        dist.destroy_process_group()


def test_build_keys_a_constructor_init_as_init_module_keys_the_same_code():
    # Custom runs reset_parameters in its constructor.
    built = rt.build(Custom, 7)
    again = Custom()
    rt.init_module(again, 7)
    for (path, a), (_, b) in zip(built.named_parameters(), again.named_parameters()):
        assert bits(a) == bits(b), path
    # A constructor that draws a parameter from torch's generator is an error.
    class Drawn(nn.Module):
        def __init__(self):
            super().__init__()
            self.gamma = nn.Parameter(torch.randn(3))

    with pytest.raises(ValueError) as e:
        rt.build(Drawn, 0)
    assert "gamma" in str(e.value) and "generator" in str(e.value)
    # One made from zeros keeps them.
    class Zeros(nn.Module):
        def __init__(self):
            super().__init__()
            self.gamma = nn.Parameter(torch.zeros(3))
            self.fc = nn.Linear(3, 3)

    z = rt.build(Zeros, 0)
    assert torch.all(z.gamma == 0)


def test_adding_a_module_changes_no_other_parameter():
    def make(extra):
        parts = OrderedDict()
        if extra:
            parts["extra"] = nn.Linear(8, 8)
        parts["block"] = Block()
        return nn.Sequential(parts)

    a, b = all_bits(make(False)), all_bits(make(True))
    assert set(b) - set(a) == {"extra.weight", "extra.bias"}
    assert all(b[p] == a[p] for p in a)


def test_importing_reproducible_torch_does_not_load_dtensor():
    code = (
        "import sys, torch, reproducible.torch as rt\n"
        "rt.init_module(torch.nn.Linear(4, 4), 0)\n"
        "print('torch.distributed.tensor' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.strip() == "False"


def test_plan_runs_the_init_code_without_changing_any_value():
    m = Custom()
    before = {p: bits(v) for p, v in m.named_parameters()}
    planned = rt.plan(m, 7)
    assert {p: bits(v) for p, v in m.named_parameters()} == before
    assert planned == rt.init_module(m, 7)
    with torch.device("meta"):
        meta = Custom()
    assert rt.plan(meta, 7) == planned


def test_timms_own_fills_map_to_spec_schemes():
    weight_init = pytest.importorskip("timm.layers.weight_init")

    class Lecun(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(6, 50))
            self.u = nn.Parameter(torch.empty(4, 8))
            self.t = nn.Parameter(torch.empty(3, 7))

        def reset_parameters(self):
            weight_init.lecun_normal_(self.w)
            weight_init.variance_scaling_(self.u, scale=2.0, mode="fan_out", distribution="uniform")
            weight_init.trunc_normal_tf_(self.t, mean=1.0, std=0.5, a=-1.0, b=3.0)

    records = {r["path"]: r for r in rt.init_module(Lecun(), 0)}
    # lecun_normal_: timm's trunc_normal_tf_ at std sqrt(1 / fan_in) / 0.8796..., bounds +-2 std.
    std = math.sqrt(1 / 50) / 0.87962566103423978
    assert records["w"]["init"] == text(f"trunc_normal(0.0, {std!r}, {-2 * std!r}, {2 * std!r})")
    assert records["w"]["fills"][0]["call"] == "timm.layers.trunc_normal_tf_"
    bound = math.sqrt(3 * 2.0 / 4)
    assert records["u"]["init"] == text(f"uniform({-bound!r}, {bound!r})")
    assert records["t"]["init"] == text("trunc_normal(1.0, 0.5, 0.5, 2.5)")
