//! Prints, as JSON, the law of every parameter of a tiny model of each recipe
//! family built through its recipe (`recipes::from_hf_config`) on unmodified
//! candle-transformers code, from the configs in `recipe_configs.json`.
//! `tools/check_recipes.py` builds the same configs in transformers and holds
//! these laws to those of transformers' own `_init_weights`.
//!
//! `cargo run -p reproducible-compat-tests --example recipe_laws > laws.json`

use candle_core::{DType, Device, Tensor};
use candle_transformers::models as m;
use reproducible::backend::KeyedVars;
use reproducible::recipes;
use serde_json::{json, Value};

const CONFIGS: &str = include_str!("../recipe_configs.json");

fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> candle_core::Result<T> {
    serde_json::from_value(v.clone()).map_err(candle_core::Error::wrap)
}

fn build(family: &str, cfg: &Value, keyed: &KeyedVars) -> candle_core::Result<()> {
    let vb = keyed.var_builder();
    match family {
        "bert" => drop(m::bert::BertModel::load(vb, &parse(cfg)?)?),
        "llama" => {
            let c: m::llama::LlamaConfig = parse(cfg)?;
            drop(m::llama::Llama::load(vb, &c.into_config(false))?)
        }
        "mistral" => drop(m::mistral::Model::new(&parse(cfg)?, vb)?),
        "qwen2" => drop(m::qwen2::ModelForCausalLM::new(&parse(cfg)?, vb)?),
        "mixtral" => drop(m::mixtral::Model::new(&parse(cfg)?, vb)?),
        "t5" => drop(m::t5::T5ForConditionalGeneration::load(vb, &parse(cfg)?)?),
        "whisper" => drop(m::whisper::model::Whisper::load(&vb, parse(cfg)?)?),
        "vit" => {
            let n = |k: &str| cfg[k].as_u64().expect("a size") as usize;
            let c = m::vit::Config {
                hidden_size: n("hidden_size"),
                num_hidden_layers: n("num_hidden_layers"),
                num_attention_heads: n("num_attention_heads"),
                intermediate_size: n("intermediate_size"),
                hidden_act: candle_nn::Activation::Gelu,
                layer_norm_eps: cfg["layer_norm_eps"].as_f64().expect("eps"),
                image_size: n("image_size"),
                patch_size: n("patch_size"),
                num_channels: n("num_channels"),
                qkv_bias: cfg["qkv_bias"].as_bool().expect("qkv_bias"),
            };
            drop(m::vit::Model::new(&c, n("num_labels"), vb)?)
        }
        other => candle_core::bail!("no builder for `{other}`"),
    }
    Ok(())
}

/// n, mean, population std, min, max, and the rows (of a 2-d tensor) that are all zero.
fn law(t: &Tensor) -> candle_core::Result<Value> {
    let v: Vec<f64> = t.flatten_all()?.to_dtype(DType::F64)?.to_vec1()?;
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let std = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let zero_rows: Vec<usize> = match t.dims() {
        &[rows, cols] if rows > 1 => (0..rows)
            .filter(|r| v[r * cols..(r + 1) * cols].iter().all(|&x| x == 0.0))
            .collect(),
        _ => vec![],
    };
    Ok(
        json!({"shape": t.dims(), "n": v.len(), "mean": mean, "std": std, "min": min, "max": max, "zero_rows": zero_rows}),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let configs: serde_json::Map<String, Value> = serde_json::from_str(CONFIGS)?;
    let mut out = serde_json::Map::new();
    for (family, cfg) in &configs {
        let keyed = KeyedVars::new(0, DType::F32, &Device::Cpu).rules(recipes::from_hf_config(&cfg.to_string())?);
        build(family, cfg, &keyed).map_err(|e| format!("{family}: {e}"))?;
        keyed.check_rules().map_err(|e| format!("{family}: {e}"))?;
        let mut laws = serde_json::Map::new();
        for (path, t) in keyed.tensors() {
            laws.insert(path, law(&t)?);
        }
        out.insert(family.clone(), Value::Object(laws));
    }
    println!("{}", serde_json::to_string_pretty(&Value::Object(out))?);
    Ok(())
}
