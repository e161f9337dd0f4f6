"""Holds the candle recipes to transformers' own init.

Reads the laws `cargo run -p reproducible-compat-tests --example recipe_laws`
prints (every parameter of a tiny model of each recipe family, built through
its recipe on candle-transformers' code), builds the same configs
(`tests/compat/recipe_configs.json`) in transformers, whose models run their
own `_init_weights` as they are built, and compares each parameter's law:
constants exactly, mean and standard deviation within six standard errors,
and the rows that are all zero exactly. The padding row transformers zeroes
in BERT's and Whisper's embeddings, which the recipes do not zero, is printed
as a note.

    python tools/check_recipes.py laws.json

Exits 1, listing every difference, if any law differs.
"""

import json
import math
import pathlib
import re
import sys

import torch
import transformers as tf

CONFIGS = pathlib.Path(__file__).resolve().parent.parent / "tests" / "compat" / "recipe_configs.json"

# The transformers class whose parameter paths are candle-transformers'.
MODELS = {
    "bert": (tf.BertConfig, tf.BertModel),
    "llama": (tf.LlamaConfig, tf.LlamaForCausalLM),
    "mistral": (tf.MistralConfig, tf.MistralForCausalLM),
    "mixtral": (tf.MixtralConfig, tf.MixtralForCausalLM),
    "qwen2": (tf.Qwen2Config, tf.Qwen2ForCausalLM),
    "t5": (tf.T5Config, tf.T5ForConditionalGeneration),
    "vit": (tf.ViTConfig, tf.ViTForImageClassification),
    "whisper": (tf.WhisperConfig, tf.WhisperForConditionalGeneration),
}


def theirs_for(family, path, state):
    """transformers' tensor for candle's `path`: transformers 5 renamed ViT's
    layers and fused Mixtral's experts (its checkpoint conversion maps the
    same names), so those are looked up under their new names or sliced."""
    if path in state:
        return state[path]
    if family == "vit":
        new = re.sub(r"^vit\.encoder\.layer\.(\d+)\.", r"vit.layers.\1.", path)
        for old_name, new_name in [("attention.attention.query", "attention.q_proj"),
                                   ("attention.attention.key", "attention.k_proj"),
                                   ("attention.attention.value", "attention.v_proj"),
                                   ("attention.output.dense", "attention.o_proj"),
                                   ("intermediate.dense", "mlp.fc1"), ("output.dense", "mlp.fc2")]:
            new = new.replace(old_name, new_name)
        return state.get(new)
    if family == "mixtral":
        m = re.fullmatch(r"(model\.layers\.\d+)\.block_sparse_moe\.(?:gate\.weight|experts\.(\d+)\.(w[123])\.weight)", path)
        if not m:
            return None
        layer, expert, w = m.groups()
        if expert is None:
            return state.get(f"{layer}.mlp.gate.weight")
        e = int(expert)
        if w == "w2":
            return state[f"{layer}.mlp.experts.down_proj"][e]
        gate_up = state[f"{layer}.mlp.experts.gate_up_proj"][e]
        half = gate_up.shape[0] // 2
        return gate_up[:half] if w == "w1" else gate_up[half:]
    return None


def law(t):
    v = t.detach().to(torch.float64).flatten()
    n = v.numel()
    mean = v.mean().item()
    std = v.std(unbiased=False).item() if n > 0 else 0.0
    zero_rows = []
    if t.dim() == 2 and t.shape[0] > 1:
        zero_rows = [r for r in range(t.shape[0]) if bool((t[r] == 0).all())]
    return {"shape": list(t.shape), "n": n, "mean": mean, "std": std,
            "min": v.min().item(), "max": v.max().item(), "zero_rows": zero_rows}


def differences(path, ours, theirs):
    """What differs between two laws of one parameter, as sentences."""
    out = []
    if ours["shape"] != theirs["shape"]:
        return [f"shape {ours['shape']} here, {theirs['shape']} in transformers"]
    n = ours["n"]
    constant = lambda l: l["min"] == l["max"]
    if constant(ours) or constant(theirs):
        if not (constant(ours) and constant(theirs) and ours["min"] == theirs["min"]):
            out.append(f"constant: here [{ours['min']:.6g}, {ours['max']:.6g}], "
                       f"transformers [{theirs['min']:.6g}, {theirs['max']:.6g}]")
        return out
    se_mean = math.sqrt((ours["std"] ** 2 + theirs["std"] ** 2) / n)
    if abs(ours["mean"] - theirs["mean"]) > 6 * se_mean:
        out.append(f"mean {ours['mean']:.6g} here, {theirs['mean']:.6g} in transformers (6 SE = {6 * se_mean:.3g})")
    se_std = math.sqrt((ours["std"] ** 2 + theirs["std"] ** 2) / (2 * n))
    if abs(ours["std"] - theirs["std"]) > 6 * se_std:
        out.append(f"std {ours['std']:.6g} here, {theirs['std']:.6g} in transformers (6 SE = {6 * se_std:.3g})")
    if ours["zero_rows"] != theirs["zero_rows"]:
        out.append(f"all-zero rows {ours['zero_rows']} here, {theirs['zero_rows']} in transformers")
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    ours_all = json.loads(pathlib.Path(argv[1]).read_text())
    configs = json.loads(CONFIGS.read_text())
    failures, notes, compared = [], [], 0
    for family, cfg in configs.items():
        config_cls, model_cls = MODELS[family]
        fields = {k: v for k, v in cfg.items() if k != "model_type"}
        torch.manual_seed(0)
        model = model_cls(config_cls(**fields))
        theirs = model.state_dict()
        ours = ours_all[family]
        for path, l in sorted(ours.items()):
            tensor = theirs_for(family, path, theirs)
            if tensor is None:
                failures.append(f"{family}: `{path}` is not a parameter of transformers' {model_cls.__name__}")
                continue
            compared += 1
            theirs_law = law(tensor)
            pad = cfg.get("pad_token_id")
            if (pad is not None and theirs_law["zero_rows"] == [pad] and not l["zero_rows"]
                    and l["shape"] == theirs_law["shape"]):
                # The one law the recipes do not give yet: transformers zeroes
                # an embedding's padding row. Said, not failed, until the
                # schemes can say so (a SPEC addition).
                notes.append(f"{family}: `{path}`: transformers zeroes padding row {pad}; the recipe does not")
                l = dict(l, zero_rows=[pad])
            for d in differences(path, l, theirs_law):
                failures.append(f"{family}: `{path}`: {d}")
    for n in notes:
        print("note:", n)
    for f in failures:
        print(f)
    print(f"{compared} parameters of {len(configs)} families compared with transformers {tf.__version__}: "
          f"{len(failures)} difference(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
