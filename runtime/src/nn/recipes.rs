//! Recipes: the init a model family's authors published, as [init rules](crate::rules).
//!
//! candle-transformers' models ask their `VarBuilder` for weights with candle's
//! generic hints (`vb.get` hints zeros, `candle_nn::linear` Kaiming-normal), so
//! built from scratch they do not start where the same model starts in Hugging
//! Face transformers: T5's and Whisper's layer norms, Whisper's convolutions
//! and ViT's class token start at zero, and T5 and Whisper output exactly 0.
//! Each recipe here is the `_init_weights` of the family's transformers model,
//! written as rules over the parameter paths candle-transformers uses, with
//! the numbers from the model's `config.json`:
//!
//! | recipe | transformers' init |
//! |--------|--------------------|
//! | [`bert`] | Linear and Embedding weights `normal(0, initializer_range)`, biases 0, LayerNorm 1 and 0 |
//! | [`llama`] (and [`mistral`], [`qwen2`], [`mixtral`]) | Linear (attention, MLP, experts, router, `lm_head`) and Embedding weights `normal(0, initializer_range)`, biases 0, RMSNorm 1 |
//! | [`t5`] | with `f = initializer_factor`: q `normal(0, f (d_model d_kv)^-1/2)`, k, v, `wi*` and relative attention bias `normal(0, f d_model^-1/2)`, o `normal(0, f (num_heads d_kv)^-1/2)`, wo `normal(0, f d_ff^-1/2)`, the shared embedding and `lm_head` `normal(0, f)`, layer norms `f` |
//! | [`vit`] | Linear and Conv weights, `cls_token` and `position_embeddings` `trunc_normal(0, initializer_range, -2, 2)`, biases and `mask_token` 0, LayerNorm 1 and 0 |
//! | [`whisper`] | Linear, Conv1d and Embedding weights (the decoder's learned positions included) `normal(0, init_std)`, biases 0, LayerNorm 1 and 0 |
//!
//! One part of transformers' init has no counterpart: it zeroes the embedding
//! row of `pad_token_id` (BERT, Whisper, Llama when a pad token is set).
//! candle's `Embedding` has no padding index, so that row is trained like any
//! other there; the recipes draw it like the rest of the matrix.
//!
//! ```
//! use reproducible::backend::KeyedVars;
//! use reproducible::recipes;
//! use candle_core::{DType, Device};
//! let config = r#"{"model_type": "bert", "initializer_range": 0.02, "hidden_size": 8}"#;
//! let keyed = KeyedVars::new(42, DType::F32, &Device::Cpu).rules(recipes::from_hf_config(config)?);
//! let vb = keyed.var_builder();
//! candle_nn::layer_norm(8, 1e-12, vb.pp("embeddings.LayerNorm"))?;
//! candle_nn::linear(8, 8, vb.pp("encoder.layer.0.attention.self.query"))?;
//! let p = keyed.provenance();
//! assert_eq!(p[3].path, "encoder.layer.0.attention.self.query.weight");
//! assert_eq!(p[3].scheme, "normal(mean=0.0, std=0.02)");
//! assert_eq!(p[3].rule.as_deref(), Some("bert: **.weight"));
//! assert_eq!(p[0].path, "embeddings.LayerNorm.bias");
//! assert_eq!(p[0].rule.as_deref(), Some("bert: **.LayerNorm.bias"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde_json::Value;

use crate::error::{Error, Result};
use crate::rules::{Rule, Rules};
use crate::scheme::{constant, normal, ones, trunc_normal, zeros, Scheme};

/// The recipes [`from_hf_config`] knows, by `model_type`.
pub const MODEL_TYPES: [&str; 8] = ["bert", "llama", "mistral", "mixtral", "qwen2", "t5", "vit", "whisper"];

fn rule(pattern: &str, scheme: Scheme) -> Rule {
    Rule::new(pattern, scheme).expect("the recipes' patterns are well formed")
}

/// BERT (`BertModel`, `BertForMaskedLM`): `initializer_range` is the config's (0.02 by default).
pub fn bert(initializer_range: f64) -> Rules {
    Rules::recipe(
        "bert",
        [
            rule("**.LayerNorm.weight", ones()),
            rule("**.LayerNorm.bias", zeros()),
            rule("**.bias", zeros()),
            rule("**.weight", normal(0.0, initializer_range)),
        ],
    )
}

/// The decoder-only family of Llama: every Linear and Embedding weight
/// `normal(0, initializer_range)`, biases (where a model has them) 0, the RMS
/// norms 1.
fn llama_family(name: &str, initializer_range: f64) -> Rules {
    Rules::recipe(
        name,
        [
            rule("**.*norm.weight", ones()),
            rule("**.bias", zeros()).optional(),
            rule("**.weight", normal(0.0, initializer_range)),
        ],
    )
}

/// Llama: `initializer_range` is the config's (0.02 by default; candle's
/// `LlamaConfig` does not read it).
pub fn llama(initializer_range: f64) -> Rules {
    llama_family("llama", initializer_range)
}

/// Mistral: the Llama recipe.
pub fn mistral(initializer_range: f64) -> Rules {
    llama_family("mistral", initializer_range)
}

/// Qwen2: the Llama recipe (its q, k and v biases 0).
pub fn qwen2(initializer_range: f64) -> Rules {
    llama_family("qwen2", initializer_range)
}

/// Mixtral: the Llama recipe (router and experts included).
pub fn mixtral(initializer_range: f64) -> Rules {
    llama_family("mixtral", initializer_range)
}

/// The sizes T5's init depends on: fields of its `config.json` (and of
/// candle's `t5::Config`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct T5Sizes {
    /// `d_model` (512 by default).
    pub d_model: usize,
    /// `d_kv` (64).
    pub d_kv: usize,
    /// `d_ff` (2048).
    pub d_ff: usize,
    /// `num_heads` (8).
    pub num_heads: usize,
    /// `initializer_factor` (1.0).
    pub initializer_factor: f64,
}

impl Default for T5Sizes {
    fn default() -> Self {
        Self {
            d_model: 512,
            d_kv: 64,
            d_ff: 2048,
            num_heads: 8,
            initializer_factor: 1.0,
        }
    }
}

/// T5 (`T5ForConditionalGeneration`, `T5EncoderModel`), encoder-decoder
/// attention included; gated (`wi_0`, `wi_1`) and plain (`wi`) feed-forwards.
pub fn t5(sizes: &T5Sizes) -> Rules {
    let f = sizes.initializer_factor;
    let inv_sqrt = |n: usize| 1.0 / (n as f64).sqrt();
    let model = f * inv_sqrt(sizes.d_model);
    Rules::recipe(
        "t5",
        [
            rule("**.*layer_norm.weight", constant(f)),
            rule(
                "**.*Attention.q.weight",
                normal(0.0, f * inv_sqrt(sizes.d_model * sizes.d_kv)),
            ),
            rule("**.*Attention.k.weight", normal(0.0, model)),
            rule("**.*Attention.v.weight", normal(0.0, model)),
            rule(
                "**.*Attention.o.weight",
                normal(0.0, f * inv_sqrt(sizes.num_heads * sizes.d_kv)),
            ),
            rule("**.relative_attention_bias.weight", normal(0.0, model)),
            rule("**.DenseReluDense.wi*.weight", normal(0.0, model)),
            rule("**.DenseReluDense.wo.weight", normal(0.0, f * inv_sqrt(sizes.d_ff))),
            // The shared embedding: candle names it after the first stack that
            // asks for it when no `shared.weight` exists yet.
            rule("shared.weight", normal(0.0, f)).optional(),
            rule("*.embed_tokens.weight", normal(0.0, f)).optional(),
            rule("lm_head.weight", normal(0.0, f)).optional(),
        ],
    )
}

/// ViT (`vit::Model`): `initializer_range` is the config's (0.02 by default;
/// candle's `vit::Config` does not read it). The truncation bounds are
/// transformers' absolute -2 and 2.
pub fn vit(initializer_range: f64) -> Rules {
    let trunc = trunc_normal(0.0, initializer_range, -2.0, 2.0);
    Rules::recipe(
        "vit",
        [
            rule("**.cls_token", trunc),
            rule("**.position_embeddings", trunc),
            rule("**.mask_token", zeros()).optional(),
            rule("**.layernorm*.weight", ones()),
            rule("**.layernorm*.bias", zeros()),
            rule("**.bias", zeros()),
            rule("**.weight", trunc),
        ],
    )
}

/// Whisper (`whisper::model::Whisper`): `init_std` is the config's (0.02 by
/// default; candle's `whisper::Config` does not read it). The encoder's
/// sinusoidal positions are computed by candle, not drawn.
pub fn whisper(init_std: f64) -> Rules {
    Rules::recipe(
        "whisper",
        [
            rule("**.*layer_norm.weight", ones()),
            rule("**.*layer_norm.bias", zeros()),
            rule("**.bias", zeros()),
            rule("**.weight", normal(0.0, init_std)),
        ],
    )
}

/// The recipe for a Hugging Face `config.json`: its `model_type` picks the
/// family, and the fields the family's init reads (`initializer_range`,
/// `initializer_factor`, `d_model`, `d_kv`, `d_ff`, `num_heads`, `init_std`)
/// take transformers' defaults when absent. An unknown `model_type`, or a field
/// of the wrong type, is an error naming it.
pub fn from_hf_config(json: &str) -> Result<Rules> {
    let bad = |reason: String| Error::Config {
        path: "config.json".to_owned(),
        layer: "recipe".to_owned(),
        reason,
    };
    let config: Value = serde_json::from_str(json).map_err(|e| bad(format!("not JSON: {e}")))?;
    let number = |field: &str, default: f64| -> Result<f64> {
        match config.get(field) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| bad(format!("`{field}` must be a non-negative number, found {v}"))),
        }
    };
    let size = |field: &str, default: usize| -> Result<usize> {
        match config.get(field) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| bad(format!("`{field}` must be a positive integer, found {v}"))),
        }
    };
    let model_type = config.get("model_type").and_then(Value::as_str).ok_or_else(|| {
        bad(format!(
            "no `model_type`; the recipes are for {}",
            MODEL_TYPES.join(", ")
        ))
    })?;
    let range = || number("initializer_range", 0.02);
    Ok(match model_type {
        "bert" => bert(range()?),
        "llama" => llama(range()?),
        "mistral" => mistral(range()?),
        "mixtral" => mixtral(range()?),
        "qwen2" => qwen2(range()?),
        "vit" => vit(range()?),
        "whisper" => whisper(number("init_std", 0.02)?),
        "t5" => {
            let d = T5Sizes::default();
            t5(&T5Sizes {
                d_model: size("d_model", d.d_model)?,
                d_kv: size("d_kv", d.d_kv)?,
                d_ff: size("d_ff", d.d_ff)?,
                num_heads: size("num_heads", d.num_heads)?,
                initializer_factor: number("initializer_factor", d.initializer_factor)?,
            })
        }
        other => {
            return Err(bad(format!(
                "no recipe for model_type `{other}`; there are recipes for {}",
                MODEL_TYPES.join(", ")
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_pick_their_recipe_and_defaults() {
        let t5 = from_hf_config(r#"{"model_type": "t5", "d_model": 16, "d_kv": 4, "num_heads": 2}"#).unwrap();
        let q = t5.find("encoder.block.0.layer.0.SelfAttention.q.weight").unwrap().1;
        assert_eq!(q.scheme(), &normal(0.0, 1.0 / 64f64.sqrt()));
        let wo = t5.find("decoder.block.1.layer.2.DenseReluDense.wo.weight").unwrap().1;
        assert_eq!(wo.scheme(), &normal(0.0, 1.0 / 2048f64.sqrt()), "d_ff defaults to 2048");
        let w = from_hf_config(r#"{"model_type": "whisper", "init_std": 0.5}"#).unwrap();
        assert_eq!(
            w.find("model.encoder.conv1.weight").unwrap().1.scheme(),
            &normal(0.0, 0.5)
        );
    }

    #[test]
    fn bad_configs_are_errors_naming_what_is_wrong() {
        for (json, needle) in [
            ("{", "not JSON"),
            ("{}", "no `model_type`"),
            (r#"{"model_type": "gpt2"}"#, "`gpt2`"),
            (
                r#"{"model_type": "bert", "initializer_range": "big"}"#,
                "`initializer_range`",
            ),
            (r#"{"model_type": "t5", "d_model": 0}"#, "`d_model`"),
        ] {
            let e = from_hf_config(json).unwrap_err().to_string();
            assert!(e.contains(needle), "{json}: {e}");
        }
    }
}
