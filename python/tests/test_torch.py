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


# `gamma` is a bare `nn.Parameter(torch.empty(..))`: no init code fills it.
GAMMA = [("gamma", "normal(0.0, 1.0)")]
BLOCKS_GAMMA = [("**.gamma", "normal(0.0, 1.0)")]


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
    rt.init_module(with_extra, 7, rules=BLOCKS_GAMMA)
    rt.init_module(without, 7, rules=BLOCKS_GAMMA)
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
    rt.init_module(a, 3, rules=BLOCKS_GAMMA)
    rt.init_module(b, 3, rules=BLOCKS_GAMMA, versions={"blocks.1.proj.weight": 2})
    rt.init_module(c, 4, rules=BLOCKS_GAMMA)
    pa, pb, pc = (dict(m.named_parameters()) for m in (a, b, c))
    for path in pa:
        assert (bits(pa[path]) == bits(pb[path])) == (path != "blocks.1.proj.weight"), path
        assert bits(pa[path]) != bits(pc[path]), path


def text(scheme):
    return rt._native.scheme_text(scheme)


def uniform(bound):
    return text(f"uniform({-bound!r}, {bound!r})")


KAIMING = "kaiming_uniform(a=2.23606797749979)"  # a = sqrt(5)


def test_each_layer_gets_pytorchs_own_scheme():
    # Written from torch.nn's reset_parameters, layer by layer.
    model = nn.ModuleDict(
        {
            "fc": nn.Linear(300, 200),
            "conv": nn.Conv2d(16, 32, 3),
            "grouped": nn.Conv2d(8, 16, 3, groups=4),
            "up": nn.ConvTranspose2d(8, 6, 3),
            "emb": nn.Embedding(500, 64, padding_idx=3),
            "bag": nn.EmbeddingBag(10, 4, padding_idx=2),
            "ln": nn.LayerNorm(64),
            "gn": nn.GroupNorm(2, 8),
            "bn": nn.BatchNorm2d(32),
            "attn": nn.MultiheadAttention(64, 4),
            "cross": nn.MultiheadAttention(16, 2, kdim=8, vdim=8, add_bias_kv=True),
            "lstm": nn.LSTM(32, 48),
            "cell": nn.GRUCell(4, 6),
            "bil": nn.Bilinear(5, 7, 3),
            "act": nn.PReLU(),
        }
    )
    want = {
        "fc.weight": text(KAIMING), "fc.bias": uniform(1 / math.sqrt(300)),
        "conv.weight": text(KAIMING), "conv.bias": uniform(1 / math.sqrt(16 * 9)),
        "grouped.weight": text(KAIMING), "grouped.bias": uniform(1 / math.sqrt(2 * 9)),
        "up.weight": text(KAIMING), "up.bias": uniform(1 / math.sqrt(6 * 9)),
        "emb.weight": text("normal(0.0, 1.0)"), "bag.weight": text("normal(0.0, 1.0)"),
        "ln.weight": text("ones()"), "ln.bias": text("zeros()"),
        "gn.weight": text("ones()"), "gn.bias": text("zeros()"),
        "bn.weight": text("ones()"), "bn.bias": text("zeros()"),
        "attn.in_proj_weight": text("xavier_uniform()"), "attn.in_proj_bias": text("zeros()"),
        "attn.out_proj.weight": text(KAIMING), "attn.out_proj.bias": text("zeros()"),
        "cross.q_proj_weight": text("xavier_uniform()"), "cross.k_proj_weight": text("xavier_uniform()"),
        "cross.v_proj_weight": text("xavier_uniform()"), "cross.in_proj_bias": text("zeros()"),
        "cross.bias_k": text("xavier_normal()"), "cross.bias_v": text("xavier_normal()"),
        "cross.out_proj.weight": text(KAIMING), "cross.out_proj.bias": text("zeros()"),
        "bil.weight": uniform(1 / math.sqrt(5)), "bil.bias": uniform(1 / math.sqrt(5)),
        "act.weight": text("constant(0.25)"),
    }
    want.update({n: uniform(1 / math.sqrt(48)) for n, _ in model["lstm"].named_parameters(prefix="lstm")})
    want.update({n: uniform(1 / math.sqrt(6)) for n, _ in model["cell"].named_parameters(prefix="cell")})
    records = rt.init_module(model, 11)
    got = {r["path"]: r["init"] for r in records}
    assert got == want
    p = dict(model.named_parameters())
    # The values follow the schemes: bounds, and the rows nn.Embedding zeroes.
    assert torch.all(p["emb.weight"][3] == 0) and torch.all(p["bag.weight"][2] == 0)
    assert torch.count_nonzero(p["emb.weight"]) == 499 * 64
    bound = 1 / math.sqrt(300)
    w = p["fc.weight"].detach().double()
    assert w.abs().max() <= bound and abs(w.std().item() - bound / math.sqrt(3)) < 0.02 * bound


def test_a_transformer_gets_xavier_for_every_matrix():
    model = nn.Transformer(8, 2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16, batch_first=True)
    for r in rt.init_module(model, 2):
        if len(r["shape"]) > 1:
            assert r["init"] == text("xavier_uniform()"), r["path"]
        else:
            assert r["init"] != text("xavier_uniform()"), r["path"]


def test_a_module_built_on_meta_then_materialised_gets_the_same_values_and_clean_buffers():
    def make():
        return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8, 2))

    cpu = make()
    rt.init_module(cpu, 4)
    with torch.device("meta"):
        meta = make()
    meta = meta.to_empty(device="cpu")
    meta[1].running_var.fill_(float("nan"))
    rt.init_module(meta, 4)
    for (path, a), (_, b) in zip(cpu.named_parameters(), meta.named_parameters()):
        assert bits(a) == bits(b), path
    assert torch.all(meta[1].running_mean == 0) and torch.all(meta[1].running_var == 1)
    assert meta[1].num_batches_tracked.item() == 0


def test_a_layer_with_its_own_init_gets_that_init():
    class MyLinear(nn.Linear):
        def reset_parameters(self):
            nn.init.zeros_(self.weight)

    model = nn.Sequential(MyLinear(4, 4))
    with pytest.raises(ValueError) as e:
        # Its reset_parameters leaves the bias unfilled: an error naming it.
        rt.init_module(model, 0)
    assert "0.bias" in str(e.value) and "MyLinear" in str(e.value)
    records = rt.init_module(model, 0, rules=[("0.bias", "ones()")])
    assert records[0]["init"] == "zeros()" and records[0]["rule"] is None
    assert torch.all(model[0].weight == 0) and torch.all(model[0].bias == 1)


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
        (lambda: rt.init_module(Attention(), 0, rules=[("**", "zeros()"), ("x.**y", "ones()")]), ValueError, ["x.**y"]),
        (lambda: rt.init_module(Attention(), 0, rules=GAMMA, versions={"proj.weight": "2"}), TypeError, ["proj.weight"]),
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
