"""`reproducible.torch`: unmodified torch modules get keyed, in-place init
with PyTorch's own per-layer schemes; the story's attention block gets the
Rust side's bits; bad input is a clear Python error."""

import math
import os
import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import reproducible.torch as rt  # noqa: E402
from conftest import ROOT, cargo_run, read_safetensors  # noqa: E402


class Attention(nn.Module):
    """The story's attention block, version 2, as PyTorch code writes it:
    `gamma` and an unused `extra` Linear declared first."""

    def __init__(self, dim=64, num_heads=4, extra=True):
        super().__init__()
        self.gamma = nn.Parameter(torch.empty(1, num_heads, 1, 1))
        if extra:
            self.extra = nn.Linear(dim, dim)
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.attn_drop = nn.Dropout(0.1)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.1)


class Blocks(nn.Module):
    def __init__(self, depth=4, extra=True):
        super().__init__()
        self.blocks = nn.ModuleList([Attention(extra=extra) for _ in range(depth)])


GAMMA = [("**.gamma", "normal(0.0, 1.0)"), ("gamma", "normal(0.0, 1.0)")]


def bits(t):
    t = t.detach().cpu().contiguous()
    kind = {torch.float32: torch.int32, torch.float64: torch.int64}.get(t.dtype, torch.int16)
    return t.view(kind).numpy().tobytes()


def test_the_torch_port_of_the_story_block_gets_the_rust_sides_bits(tmp_path):
    file = tmp_path / "story.safetensors"
    cargo_run("-p", "reproducible-examples", "--example", "story_checkpoint", "--", str(file))
    rust = read_safetensors(file)
    model = Attention()
    rt.init_module(model, 42, rules=GAMMA)
    ours = dict(model.named_parameters())
    assert sorted(ours) == sorted(rust)
    for path, values in rust.items():
        assert bits(ours[path]) == values.tobytes(), path


def test_an_unused_layer_changes_no_other_parameter():
    with_extra, without = Blocks(extra=True), Blocks(extra=False)
    rt.init_module(with_extra, 7, rules=GAMMA)
    rt.init_module(without, 7, rules=GAMMA)
    a, b = dict(with_extra.named_parameters()), dict(without.named_parameters())
    assert set(b) < set(a)
    for path in b:
        assert bits(a[path]) == bits(b[path]), path
    # The same two models under one sequential generator: PyTorch's own init.
    torch.manual_seed(7)
    a = dict(Blocks(extra=True).named_parameters())
    torch.manual_seed(7)
    b = dict(Blocks(extra=False).named_parameters())
    changed = [p for p in b if p.endswith("weight") and bits(a[p]) != bits(b[p])]
    assert len(changed) >= len(b) // 2


def test_init_writes_into_the_parameters_own_memory():
    model = nn.Linear(8, 4)
    ptr = model.weight.data_ptr()
    alias = model.weight.detach()
    records = rt.init_module(model, 1, digests=True)
    assert model.weight.data_ptr() == ptr
    assert bits(alias) == bits(model.weight)
    assert [r["path"] for r in records] == ["weight", "bias"]
    import blake3

    assert records[0]["digest"] == blake3.blake3(bits(model.weight)).hexdigest()


def test_version_bumps_and_seeds_reroll_only_what_they_name():
    a, b, c = Blocks(), Blocks(), Blocks()
    rt.init_module(a, 3, rules=GAMMA)
    rt.init_module(b, 3, rules=GAMMA, versions={"blocks.1.proj.weight": 2})
    rt.init_module(c, 4, rules=GAMMA)
    pa, pb, pc = (dict(m.named_parameters()) for m in (a, b, c))
    for path in pa:
        assert (bits(pa[path]) == bits(pb[path])) == (path != "blocks.1.proj.weight"), path
        assert bits(pa[path]) != bits(pc[path]), path


def test_each_layer_gets_pytorchs_own_law():
    torch.manual_seed(0)
    model = nn.ModuleDict(
        {
            "fc": nn.Linear(300, 200),
            "conv": nn.Conv2d(16, 32, 3),
            "emb": nn.Embedding(500, 64, padding_idx=3),
            "ln": nn.LayerNorm(64),
            "bn": nn.BatchNorm2d(32),
            "attn": nn.MultiheadAttention(64, 4),
            "lstm": nn.LSTM(32, 48),
            "gru": nn.GRU(16, 24),
        }
    )
    rt.init_module(model, 11)
    p = dict(model.named_parameters())

    def check_uniform(t, bound):
        # U(-bound, bound): inside the bounds, reaching near them, and (for
        # large tensors) with the standard deviation bound / sqrt(3).
        t = t.detach().double().reshape(-1)
        n = t.numel()
        assert t.abs().max().item() <= bound
        assert t.abs().max().item() > (1 - 12 / n) * bound
        if n >= 1000:
            assert abs(t.std().item() - bound / math.sqrt(3)) < 0.05 * bound

    check_uniform(p["fc.weight"], 1 / math.sqrt(300))
    check_uniform(p["fc.bias"], 1 / math.sqrt(300))
    check_uniform(p["conv.weight"], 1 / math.sqrt(16 * 9))
    check_uniform(p["conv.bias"], 1 / math.sqrt(16 * 9))
    emb = p["emb.weight"].detach()
    assert torch.all(emb[3] == 0)
    rest = torch.cat([emb[:3], emb[4:]]).double()
    assert abs(rest.mean().item()) < 0.02 and abs(rest.std().item() - 1) < 0.02
    assert torch.all(p["ln.weight"] == 1) and torch.all(p["ln.bias"] == 0)
    assert torch.all(p["bn.weight"] == 1) and torch.all(p["bn.bias"] == 0)
    check_uniform(p["attn.in_proj_weight"], math.sqrt(6 / (64 + 3 * 64)))
    assert torch.all(p["attn.in_proj_bias"] == 0) and torch.all(p["attn.out_proj.bias"] == 0)
    check_uniform(p["attn.out_proj.weight"], 1 / math.sqrt(64))
    for name, t in p.items():
        if name.startswith("lstm."):
            check_uniform(t, 1 / math.sqrt(48))
        if name.startswith("gru."):
            check_uniform(t, 1 / math.sqrt(24))


def test_dtypes_and_devices_other_than_float32_cpu():
    model = nn.Linear(16, 8).to(torch.bfloat16)
    rt.init_module(model, 5)
    want = rt.sample(5, "weight", [8, 16], "kaiming_uniform(a=2.23606797749979)", torch.bfloat16)
    assert bits(model.weight) == bits(want)
    half = nn.Linear(16, 8).half()
    rt.init_module(half, 5)
    assert bits(half.weight) == bits(rt.sample(5, "weight", [8, 16], "kaiming_uniform(a=2.23606797749979)", torch.float16))
    # A non-contiguous parameter goes through one copy and gets the same values.
    m = nn.Linear(16, 8)
    m.weight = nn.Parameter(torch.empty(16, 8).t())
    rt.init_module(m, 5)
    assert bits(m.weight) == bits(rt.sample(5, "weight", [8, 16], "kaiming_uniform(a=2.23606797749979)"))


def test_rules_come_first_in_order():
    model = Attention()
    records = rt.init_module(
        model,
        9,
        rules=[("qkv.*", "normal(0, 0.02)"), ("*.weight", "zeros()"), ("gamma", "ones()", 3)],
    )
    by = {r["path"]: r for r in records}
    assert by["qkv.weight"]["init"].startswith("normal(") and by["qkv.weight"]["rule"] == "qkv.*"
    assert torch.all(model.proj.weight == 0) and by["proj.weight"]["rule"] == "*.weight"
    assert by["proj.bias"]["rule"] is None and torch.any(model.proj.bias != 0)
    assert torch.all(model.gamma == 1) and by["gamma"]["version"] == 3


@pytest.mark.parametrize(
    "call,error,words",
    [
        (lambda: rt.init_module(Attention(), 0), ValueError, ["gamma", "Attention", "rule"]),
        (lambda: rt.init_module(Attention(), 0, rules=[("gamma", "gauss()")]), ValueError, ["gamma", "gauss"]),
        (lambda: rt.init_module(Attention(), 0, rules=[("a/**/b", "zeros()")]), ValueError, ["a/**/b"]),
        (lambda: rt.init_module(Attention(), 0, rules=GAMMA, versions={"nope.weight": 2}), ValueError, ["nope.weight"]),
        (lambda: rt.init_module(Attention(), 0, rules=GAMMA, versions={"proj.weight": 0}), ValueError, ["proj.weight"]),
        (lambda: rt.init_module(Attention(), -3, rules=GAMMA), ValueError, ["seed"]),
        (lambda: rt.init_module("model", 0), TypeError, ["Module"]),
        (lambda: rt.init_module(nn.Linear(4, 4, device="meta"), 0), ValueError, ["weight", "meta"]),
        (lambda: rt.init_module(Attention(), 0, rules=["gamma"]), TypeError, ["rule"]),
    ],
)
def test_bad_input_is_a_python_error_naming_it(call, error, words):
    with pytest.raises(error) as e:
        call()
    for w in words:
        assert w in str(e.value), str(e.value)


def test_the_lockfile_is_the_rust_sides(tmp_path):
    ckpt = tmp_path / "story.safetensors"
    cargo_run("-p", "reproducible-examples", "--example", "story_checkpoint", "--", str(ckpt))
    rust_lock, py_lock = tmp_path / "rust.lock", tmp_path / "py.lock"
    cargo_run("-p", "reproducible-cli", "--bin", "repro", "--", "lock", str(ckpt), "-o", str(rust_lock))
    model = Attention()
    records = rt.lock(model, 42, py_lock, rules=[("gamma", "normal(0.0, 1.0)")], model_version=2)
    assert len(records) == 6
    # Same paths, shapes, schemes, versions and digests; only the rule label
    # (the Rust block names gamma's scheme in code) may differ.
    strip = lambda text: [l for l in text.splitlines() if not l.startswith("rule =")]  # noqa: E731
    assert strip(py_lock.read_text()) == strip(rust_lock.read_text())
