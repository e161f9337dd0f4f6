//! The recipes on unmodified candle-transformers models: every parameter of a
//! tiny model of each family gets the distribution transformers'
//! `_init_weights` gives it, and the model's output is not degenerate.
//!
//! The expected distribution of each parameter is written here from
//! transformers' `_init_weights` (by module kind and path), independently of
//! the recipes' patterns; the values are checked against it statistically, and
//! the same check run on candle's own init hints (the negative control) fails.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor};
use candle_transformers::models as m;
use reproducible::backend::KeyedVars;
use reproducible::recipes::{self, T5Sizes};
use reproducible::rules::Rules;

/// What transformers' init gives a parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Const(f64),
    Normal(f64),
    /// `trunc_normal_(0, std, a, b)`, bounds absolute.
    Trunc(f64, f64, f64),
}

/// Checks `v` against `e`: constants exactly; normals by mean and standard
/// deviation within six standard errors (and truncated ones within bounds).
fn check(v: &[f32], e: Expect) -> Result<(), String> {
    let n = v.len() as f64;
    let (std, bounds) = match e {
        Expect::Const(c) => {
            return match v.iter().find(|&&x| x != c as f32) {
                None => Ok(()),
                Some(x) => Err(format!("expected every value {c}, found {x}")),
            }
        }
        Expect::Normal(s) => (s, None),
        Expect::Trunc(s, a, b) => (s, Some((a, b))),
    };
    if let Some((a, b)) = bounds {
        if let Some(x) = v.iter().find(|&&x| (x as f64) < a || (x as f64) > b) {
            return Err(format!("{x} outside [{a}, {b}]"));
        }
    }
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let sd = (v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    if mean.abs() > 6.0 * std / n.sqrt() {
        return Err(format!("mean {mean:.4} is not 0 (std {std}, n {n})"));
    }
    if (sd / std - 1.0).abs() > 6.0 / (2.0 * n).sqrt() {
        return Err(format!("std {sd:.5}, expected {std:.5} (n {n})"));
    }
    Ok(())
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Checks every parameter `keyed` made against `expect(path)`: each one alone,
/// and the values of all parameters expecting the same law pooled. Returns the
/// failures, one line each.
fn failures(keyed: &KeyedVars, expect: &dyn Fn(&str) -> Expect) -> Vec<String> {
    let mut out = Vec::new();
    let mut pooled: BTreeMap<String, (Expect, Vec<f32>)> = BTreeMap::new();
    for (path, tensor) in keyed.tensors() {
        let e = expect(&path);
        let v = flat(&tensor);
        if let Err(why) = check(&v, e) {
            out.push(format!("{path}: {why}"));
        }
        pooled.entry(format!("{e:?}")).or_insert((e, Vec::new())).1.extend(v);
    }
    for (key, (e, v)) in pooled {
        if let Err(why) = check(&v, e) {
            out.push(format!("all parameters expecting {key}: {why}"));
        }
    }
    out
}

/// Builds with the recipe, checks each parameter and that every one came from
/// a rule; then builds with candle's hints alone and checks that the same
/// expectations fail there (the check can tell the laws apart).
fn assert_recipe<T>(rules: Rules, build: impl Fn(&KeyedVars) -> T, expect: &dyn Fn(&str) -> Expect) -> (T, T) {
    let keyed = KeyedVars::new(7, DType::F32, &Device::Cpu).rules(rules);
    let model = build(&keyed);
    keyed.check_rules().unwrap();
    let provenance = keyed.provenance();
    assert!(provenance.len() > 10, "{}", provenance.len());
    let unruled: Vec<&str> = provenance
        .iter()
        .filter(|p| p.rule.is_none())
        .map(|p| p.path.as_str())
        .collect();
    assert!(unruled.is_empty(), "parameters no rule covers: {unruled:?}");
    let bad = failures(&keyed, expect);
    assert!(bad.is_empty(), "{}", bad.join("\n"));

    let plain = KeyedVars::new(7, DType::F32, &Device::Cpu);
    let control = build(&plain);
    let bad = failures(&plain, expect);
    assert!(
        bad.len() > 2,
        "candle's own hints should not pass as the recipe: {bad:?}"
    );
    (model, control)
}

/// A forward output that training can start from: finite, mostly non-zero, spread.
fn assert_lively(out: &Tensor) {
    let v = flat(out);
    assert!(v.iter().all(|x| x.is_finite()), "non-finite output");
    let nonzero = v.iter().filter(|&&x| x != 0.0).count();
    assert!(nonzero * 10 >= v.len() * 9, "{nonzero} of {} outputs non-zero", v.len());
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32;
    assert!(var.sqrt() > 1e-3, "output std {}", var.sqrt());
}

fn ids(rows: &[&[u32]]) -> Tensor {
    Tensor::new(rows.iter().map(|r| r.to_vec()).collect::<Vec<_>>(), &Device::Cpu).unwrap()
}

const RANGE: f64 = 0.05;

#[test]
fn bert() {
    let cfg: m::bert::Config = serde_json::from_value(serde_json::json!({
        "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "max_position_embeddings": 32, "type_vocab_size": 2, "initializer_range": RANGE,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "model_type": "bert"
    }))
    .unwrap();
    let expect = |path: &str| {
        if path.ends_with("LayerNorm.weight") {
            Expect::Const(1.0)
        } else if path.ends_with(".bias") {
            Expect::Const(0.0)
        } else {
            // Linear and Embedding weights.
            Expect::Normal(RANGE)
        }
    };
    let build = |k: &KeyedVars| m::bert::BertModel::load(k.var_builder(), &cfg).unwrap();
    let (model, _) = assert_recipe(recipes::bert(RANGE), build, &expect);
    let x = ids(&[&[1, 5, 9, 2, 7]]);
    assert_lively(&model.forward(&x, &x.zeros_like().unwrap(), None).unwrap());
}

/// The Llama family's expectation: RMS norms 1, biases 0, every other weight
/// (attention, MLP, experts, router, embedding, head) normal.
fn llama_like(path: &str) -> Expect {
    if path.ends_with("layernorm.weight") || path == "model.norm.weight" {
        Expect::Const(1.0)
    } else if path.ends_with(".bias") {
        Expect::Const(0.0)
    } else {
        Expect::Normal(RANGE)
    }
}

fn llama_json(extra: serde_json::Value) -> serde_json::Value {
    let mut base = serde_json::json!({
        "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-6,
        "max_position_embeddings": 64, "rope_theta": 10000.0, "hidden_act": "silu",
        "tie_word_embeddings": false, "sliding_window": 64, "max_window_layers": 2,
        "use_sliding_window": false
    });
    base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    base
}

#[test]
fn llama() {
    let cfg: m::llama::LlamaConfig = serde_json::from_value(llama_json(serde_json::json!({}))).unwrap();
    let cfg = cfg.into_config(false);
    let build = |k: &KeyedVars| m::llama::Llama::load(k.var_builder(), &cfg).unwrap();
    let (model, _) = assert_recipe(recipes::llama(RANGE), build, &llama_like);
    let mut cache = m::llama::Cache::new(false, DType::F32, &cfg, &Device::Cpu).unwrap();
    assert_lively(&model.forward(&ids(&[&[1, 5, 9, 2]]), 0, &mut cache).unwrap());
}

#[test]
fn mistral() {
    let cfg: m::mistral::Config = serde_json::from_value(llama_json(serde_json::json!({}))).unwrap();
    let build = |k: &KeyedVars| m::mistral::Model::new(&cfg, k.var_builder()).unwrap();
    let (mut model, _) = assert_recipe(recipes::mistral(RANGE), build, &llama_like);
    assert_lively(&model.forward(&ids(&[&[1, 5, 9, 2]]), 0).unwrap());
}

#[test]
fn qwen2() {
    let cfg: m::qwen2::Config = serde_json::from_value(llama_json(serde_json::json!({}))).unwrap();
    let build = |k: &KeyedVars| m::qwen2::ModelForCausalLM::new(&cfg, k.var_builder()).unwrap();
    let (mut model, _) = assert_recipe(recipes::qwen2(RANGE), build, &llama_like);
    assert_lively(&model.forward(&ids(&[&[1, 5, 9, 2]]), 0).unwrap());
}

#[test]
fn mixtral() {
    let cfg: m::mixtral::Config = serde_json::from_value(llama_json(serde_json::json!({
        "num_experts_per_tok": 2, "num_local_experts": 4, "use_flash_attn": false
    })))
    .unwrap();
    let build = |k: &KeyedVars| m::mixtral::Model::new(&cfg, k.var_builder()).unwrap();
    let config = r#"{"model_type": "mixtral", "initializer_range": 0.05}"#;
    let (mut model, _) = assert_recipe(recipes::from_hf_config(config).unwrap(), build, &llama_like);
    assert_lively(&model.forward(&ids(&[&[1, 5, 9, 2]]), 0).unwrap());
}

#[test]
fn t5_starts_from_a_non_zero_output() {
    let (d_model, d_kv, d_ff, heads, f) = (32usize, 8usize, 64usize, 4usize, 0.5f64);
    let cfg: m::t5::Config = serde_json::from_value(serde_json::json!({
        "vocab_size": 100, "d_model": d_model, "d_kv": d_kv, "d_ff": d_ff, "num_layers": 2,
        "num_decoder_layers": 2, "num_heads": heads, "relative_attention_num_buckets": 8,
        "dropout_rate": 0.0, "layer_norm_epsilon": 1e-6, "initializer_factor": f,
        "feed_forward_proj": "gated-gelu", "tie_word_embeddings": true, "is_encoder_decoder": true,
        "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0
    }))
    .unwrap();
    let sqrt = |n: usize| (n as f64).sqrt();
    let expect = move |path: &str| {
        let module = path.trim_end_matches(".weight");
        let last = module.rsplit('.').next().unwrap();
        if last.ends_with("layer_norm") {
            Expect::Const(f)
        } else if last == "q" {
            Expect::Normal(f / sqrt(d_model * d_kv))
        } else if last == "k" || last == "v" || last == "relative_attention_bias" || last.starts_with("wi") {
            Expect::Normal(f / sqrt(d_model))
        } else if last == "o" {
            Expect::Normal(f / sqrt(heads * d_kv))
        } else if last == "wo" {
            Expect::Normal(f / sqrt(d_ff))
        } else {
            // The shared token embedding.
            assert!(last == "embed_tokens" || last == "shared", "{path}");
            Expect::Normal(f)
        }
    };
    let sizes = T5Sizes {
        d_model,
        d_kv,
        d_ff,
        num_heads: heads,
        initializer_factor: f,
    };
    let build = |k: &KeyedVars| m::t5::T5ForConditionalGeneration::load(k.var_builder(), &cfg).unwrap();
    let (mut model, mut control) = assert_recipe(recipes::t5(&sizes), build, &expect);
    let (input, decoder) = (ids(&[&[4, 8, 15, 16, 23]]), ids(&[&[0, 42, 7]]));
    assert_lively(&model.forward(&input, &decoder).unwrap());
    // Without the recipe every layer norm starts at 0, and so does the output.
    let out = flat(&control.forward(&input, &decoder).unwrap());
    assert!(
        out.iter().all(|&x| x == 0.0),
        "candle's hints gave T5 a non-zero output"
    );
}

#[test]
fn vit() {
    let cfg = m::vit::Config {
        hidden_size: 32,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 64,
        hidden_act: candle_nn::Activation::Gelu,
        layer_norm_eps: 1e-12,
        image_size: 16,
        patch_size: 4,
        num_channels: 3,
        qkv_bias: true,
    };
    let trunc = Expect::Trunc(RANGE, -2.0, 2.0);
    let expect = |path: &str| {
        let module = path.rsplit('.').nth(1).unwrap_or("");
        if path.ends_with("cls_token") || path.ends_with("position_embeddings") {
            trunc
        } else if module.starts_with("layernorm") {
            Expect::Const(if path.ends_with(".weight") { 1.0 } else { 0.0 })
        } else if path.ends_with(".bias") {
            Expect::Const(0.0)
        } else {
            // Linear and Conv2d weights (transformers 4.x: truncated; 5.x: normal, the same law at +-100 std).
            trunc
        }
    };
    let build = |k: &KeyedVars| m::vit::Model::new(&cfg, 10, k.var_builder()).unwrap();
    let (model, _) = assert_recipe(recipes::vit(RANGE), build, &expect);
    let images = Tensor::ones((2, 3, 16, 16), DType::F32, &Device::Cpu).unwrap();
    let images = (images.cumsum(3).unwrap() / 16.0).unwrap();
    assert_lively(&model.forward(&images).unwrap());
}

#[test]
fn whisper_starts_from_a_non_zero_output() {
    let std = 0.05;
    let cfg: m::whisper::Config = serde_json::from_value(serde_json::json!({
        "num_mel_bins": 8, "max_source_positions": 16, "d_model": 32, "encoder_attention_heads": 2,
        "encoder_layers": 2, "vocab_size": 100, "max_target_positions": 16,
        "decoder_attention_heads": 2, "decoder_layers": 2
    }))
    .unwrap();
    let expect = |path: &str| {
        let module = path.rsplit('.').nth(1).unwrap_or("");
        if module.ends_with("layer_norm") {
            Expect::Const(if path.ends_with(".weight") { 1.0 } else { 0.0 })
        } else if path.ends_with(".bias") {
            Expect::Const(0.0)
        } else {
            // Linear, Conv1d and Embedding weights, learned decoder positions included.
            Expect::Normal(std)
        }
    };
    let build = |k: &KeyedVars| m::whisper::model::Whisper::load(&k.var_builder(), cfg.clone()).unwrap();
    let config = r#"{"model_type": "whisper", "init_std": 0.05}"#;
    let (mut model, mut control) = assert_recipe(recipes::from_hf_config(config).unwrap(), build, &expect);
    let mel = Tensor::ones((1, 8, 32), DType::F32, &Device::Cpu).unwrap();
    let mel = (mel.cumsum(2).unwrap() / 32.0).unwrap();
    let tokens = ids(&[&[1, 5, 9]]);
    let audio = model.encoder.forward(&mel, true).unwrap();
    let hidden = model.decoder.forward(&tokens, &audio, true).unwrap();
    let logits = model.decoder.final_linear(&hidden).unwrap();
    assert_lively(&audio);
    assert_lively(&logits);
    // Without the recipe the layer norms start at 0, and so does everything they feed.
    let audio = control.encoder.forward(&mel, true).unwrap();
    assert!(flat(&audio).iter().all(|&x| x == 0.0));
    let hidden = control.decoder.forward(&tokens, &audio, true).unwrap();
    let logits = control.decoder.final_linear(&hidden).unwrap();
    assert!(
        flat(&logits).iter().all(|&x| x == 0.0),
        "candle's hints gave Whisper a non-zero output"
    );
}
