//! A real model from candle-transformers (BERT, tiny config), unmodified, built
//! through the keyed VarBuilder.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::bert::{BertModel, Config};
use reproducible::backend::KeyedVars;
use reproducible_compat_tests::bits;

fn config(layers: usize) -> Config {
    serde_json::from_value(serde_json::json!({
        "vocab_size": 64, "hidden_size": 16, "num_hidden_layers": layers, "num_attention_heads": 2,
        "intermediate_size": 32, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "max_position_embeddings": 32, "type_vocab_size": 2, "initializer_range": 0.02,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "classifier_dropout": null, "model_type": "bert"
    }))
    .expect("a valid BERT config")
}

fn keyed_bert(seed: u64, layers: usize) -> HashMap<String, Vec<u32>> {
    let kv = KeyedVars::new(seed, DType::F32, &Device::Cpu);
    let model = BertModel::load(kv.var_builder(), &config(layers)).unwrap();
    let ids = Tensor::new(&[[1u32, 5, 9, 2]], &Device::Cpu).unwrap();
    let out = model.forward(&ids, &ids.zeros_like().unwrap(), None).unwrap();
    assert_eq!(out.dims(), &[1, 4, 16]);
    kv.tensors().iter().map(|(p, t)| (p.clone(), bits(t))).collect()
}

#[test]
fn bert_is_bit_identical_across_builds() {
    let a = keyed_bert(42, 2);
    assert!(
        a.len() > 30 && a.contains_key("encoder.layer.1.attention.self.query.weight"),
        "{:?}",
        a.keys()
    );
    assert_eq!(a, keyed_bert(42, 2));
}

#[test]
fn one_more_layer_leaves_the_shared_layers_bit_identical() {
    let two = keyed_bert(42, 2);
    let three = keyed_bert(42, 3);
    assert!(three.len() > two.len());
    for (path, values) in &two {
        assert_eq!(&three[path], values, "{path}");
    }
}

#[test]
fn candles_default_varmap_differs_between_runs() {
    let build = || {
        let vm = VarMap::new();
        BertModel::load(VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu), &config(2)).unwrap();
        let data = vm.data().lock().unwrap();
        bits(data["encoder.layer.0.attention.self.query.weight"].as_tensor())
    };
    assert_ne!(
        build(),
        build(),
        "candle's CPU generator cannot be seeded: two builds differ"
    );
}
