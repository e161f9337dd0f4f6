"""Fine-tuning: what a checkpoint provides stays as loaded; only the rest (a
new classification head, LoRA adapters) is initialised, keyed, with the
model's own init, so it does not depend on what else the process did."""

import math
import os

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from torch import nn  # noqa: E402

import reproducible.torch as rt  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
transformers.logging.set_verbosity_error()

SEED = 77


def config(**kw):
    return transformers.BertConfig(vocab_size=99, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                   intermediate_size=64, max_position_embeddings=32, num_labels=8, **kw)


def bits(t):
    return t.detach().contiguous().view(-1).view(torch.uint8).numpy().tobytes()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("bert")
    torch.manual_seed(0)
    base = transformers.BertModel(config())
    base.save_pretrained(path)
    return path, {k: v.clone() for k, v in base.state_dict().items()}


def head(checkpoint, disturb):
    path, saved = checkpoint
    if disturb:
        # Other models built first, and another seed drawn from.
        transformers.GPT2Model(transformers.GPT2Config(n_embd=16, n_layer=1, n_head=2, vocab_size=50))
        torch.manual_seed(12345)
        torch.randn(1000)
    model, info = transformers.BertForSequenceClassification.from_pretrained(path, output_loading_info=True)
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"]
    records = rt.init_missing(model, SEED, missing=info["missing_keys"])
    assert sorted(r["path"] for r in records) == ["classifier.bias", "classifier.weight"]
    # What the checkpoint provided is exactly as loaded, buffers included.
    state = model.state_dict()
    for k, v in saved.items():
        assert torch.equal(state[f"bert.{k}"], v), k
    return model


def test_a_new_head_gets_the_same_keyed_values_whatever_the_process_did(checkpoint):
    a = head(checkpoint, disturb=False)
    b = head(checkpoint, disturb=True)
    assert bits(a.classifier.weight) == bits(b.classifier.weight)
    assert bits(a.classifier.bias) == bits(b.classifier.bias)
    # BERT's own init for the head: normal(0, initializer_range), bias zero.
    assert bits(a.classifier.weight) == bits(rt.sample(SEED, "classifier.weight", [8, 64], "normal(0, 0.02)"))
    assert torch.all(a.classifier.bias == 0)


def test_a_loaded_state_dict_or_its_missing_keys_select_the_same_parameters(checkpoint):
    _, saved = checkpoint
    torch.manual_seed(3)
    m1 = transformers.BertForSequenceClassification(config())
    sd = {f"bert.{k}": v for k, v in saved.items()}
    result = m1.load_state_dict(sd, strict=False)
    rt.init_missing(m1, SEED, missing=result.missing_keys)
    torch.manual_seed(4)
    m2 = transformers.BertForSequenceClassification(config())
    m2.load_state_dict(sd, strict=False)
    rt.init_missing(m2, SEED, loaded=sd)
    for (path, p), (_, q) in zip(m1.named_parameters(), m2.named_parameters()):
        assert bits(p) == bits(q), path
    with pytest.raises(ValueError) as e:
        rt.init_missing(m2, SEED, missing=["classifer.weight"])
    assert "classifer.weight" in str(e.value)
    with pytest.raises(TypeError):
        rt.init_missing(m2, SEED)


def lora_model(targets, adapters=("default",)):
    peft = pytest.importorskip("peft")
    torch.manual_seed(0)
    base = transformers.BertModel(config())
    model = peft.get_peft_model(base, peft.LoraConfig(r=4, target_modules=targets[0]), adapter_name=adapters[0])
    for name, t in zip(adapters[1:], targets[1:]):
        model.add_adapter(name, peft.LoraConfig(r=4, target_modules=t))
    return model


def lora_bits(model):
    return {p: bits(v) for p, v in model.named_parameters() if ".lora_" in p}


def test_lora_adapters_get_peft_s_init_keyed_by_their_paths():
    model = lora_model([["query"]])
    base = {p: bits(v) for p, v in model.named_parameters() if ".lora_" not in p}
    records = rt.init_lora(model, SEED)
    assert {r["path"] for r in records} == set(lora_bits(model))
    assert base == {p: bits(v) for p, v in model.named_parameters() if ".lora_" not in p}
    params = dict(model.named_parameters())
    for path, p in params.items():
        if ".lora_A." in path:
            # PEFT: kaiming_uniform_(a=sqrt(5)), as nn.Linear.
            assert bits(p) == bits(rt.sample(SEED, path, list(p.shape), "kaiming_uniform(a=2.23606797749979)")), path
            bound = 1 / math.sqrt(p.shape[1])
            assert p.abs().max() <= bound
        elif ".lora_B." in path:
            assert torch.all(p == 0), path


def test_another_adapter_or_target_changes_no_existing_adapter():
    one = lora_model([["query"]])
    rt.init_lora(one, SEED)
    first = lora_bits(one)
    two = lora_model([["query"], ["value"]], adapters=("default", "second"))
    rt.init_lora(two, SEED)
    both = lora_bits(two)
    assert {p: b for p, b in both.items() if ".default." in p} == first
    assert any(".second." in p and ".value." in p for p in both)
    more = lora_model([["query", "key"]])
    rt.init_lora(more, SEED)
    wider = lora_bits(more)
    assert {p: b for p, b in wider.items() if ".query." in p} == first
    # Initialising only the new adapter leaves the first as it is.
    two = lora_model([["query"], ["value"]], adapters=("default", "second"))
    rt.init_lora(two, SEED, adapters="default")
    with torch.no_grad():
        marker = dict(two.named_parameters())
        for p, v in marker.items():
            if ".default." in p:
                v.add_(1.0)
    before = lora_bits(two)
    rt.init_lora(two, SEED, adapters="second")
    after = lora_bits(two)
    assert {p: b for p, b in after.items() if ".default." in p} == {p: b for p, b in before.items() if ".default." in p}
    assert {p: b for p, b in after.items() if ".second." in p} == {p: b for p, b in both.items() if ".second." in p}
