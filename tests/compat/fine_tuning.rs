//! Fine-tuning through keyed streams: candle-transformers' BERT loads what a
//! pretrained safetensors checkpoint holds, and the new classification head
//! (which the checkpoint lacks) is generated from its own keyed stream, so its
//! values depend on the seed and its path alone.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_transformers::models::bert::{BertModel, Config};
use reproducible::backend::{KeyedVars, Source};
use reproducible::recipes;
use reproducible_compat_tests::bits;

const RANGE: f64 = 0.02;

fn config() -> Config {
    serde_json::from_value(serde_json::json!({
        "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "max_position_embeddings": 32, "type_vocab_size": 2, "initializer_range": RANGE,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "model_type": "bert"
    }))
    .unwrap()
}

/// The fine-tuned model: the pretrained encoder and a new head.
fn classifier(keyed: &KeyedVars, classes: usize) -> candle_core::Result<(BertModel, candle_nn::Linear)> {
    let vb = keyed.var_builder();
    let bert = BertModel::load(vb.clone(), &config())?;
    let head = candle_nn::linear(32, classes, vb.pp("classifier"))?;
    Ok((bert, head))
}

/// A "pretrained" checkpoint: a BERT from another seed, saved as safetensors,
/// with one tensor the fine-tuned model does not load.
fn pretrained(dir: &Path, extra: &[(&str, Tensor)]) -> (std::path::PathBuf, HashMap<String, Tensor>) {
    let source = KeyedVars::new(77, DType::F32, &Device::Cpu).rules(recipes::bert(RANGE));
    BertModel::load(source.var_builder(), &config()).unwrap();
    let mut tensors: HashMap<String, Tensor> = source.tensors().into_iter().collect();
    tensors.insert(
        "cls.predictions.bias".into(),
        Tensor::ones(100, DType::F32, &Device::Cpu).unwrap(),
    );
    for (path, t) in extra {
        tensors.insert((*path).to_owned(), t.clone());
    }
    let file = dir.join("model.safetensors");
    candle_core::safetensors::save(&tensors, &file).unwrap();
    (file, tensors)
}

#[test]
fn the_checkpoint_gives_the_encoder_and_the_new_head_is_keyed_by_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let (file, saved) = pretrained(dir.path(), &[]);
    let keyed = KeyedVars::new(5, DType::F32, &Device::Cpu)
        .rules(recipes::bert(RANGE))
        .pretrained(&file)
        .unwrap();
    let (_, head) = classifier(&keyed, 3).unwrap();

    let tensors: HashMap<String, Tensor> = keyed.tensors().into_iter().collect();
    let sources: HashMap<String, Source> = keyed.sources().into_iter().collect();
    assert_eq!(tensors.len(), saved.len() - 1 + 2);
    for (path, t) in &tensors {
        if path.starts_with("classifier.") {
            assert_eq!(sources[path], Source::Generated, "{path}");
        } else {
            assert_eq!(sources[path], Source::Checkpoint(file.clone()), "{path}");
            assert_eq!(bits(t), bits(&saved[path]), "{path}");
        }
    }
    assert_eq!(keyed.unused_pretrained(), ["cls.predictions.bias"]);
    // Only the generated parameters have a record of how they were made.
    let generated: Vec<String> = keyed.provenance().into_iter().map(|p| p.path).collect();
    assert_eq!(generated, ["classifier.bias", "classifier.weight"]);

    // The head is what its keyed stream gives without any checkpoint, after
    // other models were built and whatever the checkpoint's values are.
    let other = KeyedVars::new(5, DType::F32, &Device::Cpu).rules(recipes::bert(RANGE));
    BertModel::load(other.var_builder().pp("elsewhere"), &config()).unwrap();
    let fresh = KeyedVars::new(5, DType::F32, &Device::Cpu).rules(recipes::bert(RANGE));
    let (_, fresh_head) = classifier(&fresh, 3).unwrap();
    assert_eq!(bits(head.weight()), bits(fresh_head.weight()));
    assert_eq!(bits(head.bias().unwrap()), bits(fresh_head.bias().unwrap()));
    // BERT's recipe: the head's weight is normal(0, 0.02), its bias zero.
    assert!(bits(head.bias().unwrap()).iter().all(|&b| b == 0));
    assert!(bits(head.weight()).iter().all(|&b| b != 0));
}

#[test]
fn a_checkpoint_tensor_of_another_shape_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let head = Tensor::zeros((2, 32), DType::F32, &Device::Cpu).unwrap();
    let (file, _) = pretrained(dir.path(), &[("classifier.weight", head)]);
    let keyed = KeyedVars::new(5, DType::F32, &Device::Cpu)
        .rules(recipes::bert(RANGE))
        .pretrained(&file)
        .unwrap();
    let err = classifier(&keyed, 3).err().expect("a head of 3 classes").to_string();
    assert!(err.contains("`classifier.weight`"), "{err}");
    assert!(err.contains("[3, 32]") && err.contains("[2, 32]"), "{err}");
    assert!(err.contains("model.safetensors"), "{err}");
}

#[test]
fn a_path_in_two_checkpoint_files_and_an_unreadable_file_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (file, saved) = pretrained(dir.path(), &[]);
    let second = dir.path().join("model-00002.safetensors");
    let one: HashMap<String, Tensor> = [(
        "embeddings.word_embeddings.weight".to_owned(),
        saved["embeddings.word_embeddings.weight"].clone(),
    )]
    .into();
    candle_core::safetensors::save(&one, &second).unwrap();
    let err = KeyedVars::new(5, DType::F32, &Device::Cpu)
        .pretrained(&file)
        .unwrap()
        .pretrained(&second)
        .expect_err("a path in two files")
        .to_string();
    assert!(
        err.contains("embeddings.word_embeddings.weight") && err.contains("two"),
        "{err}"
    );

    let missing = dir.path().join("absent.safetensors");
    let err = KeyedVars::new(5, DType::F32, &Device::Cpu)
        .pretrained(&missing)
        .expect_err("no such file")
        .to_string();
    assert!(err.contains("absent.safetensors"), "{err}");
}

/// A tensor-parallel rank reads its slice of the checkpoint, and `()` (candle's
/// sharded idiom) stands for the checkpoint's shape.
#[test]
fn a_sharded_request_reads_its_slice_of_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (file, saved) = pretrained(dir.path(), &[]);
    let path = "encoder.layer.0.attention.self.query.weight";
    for rank in 0..2 {
        let keyed = KeyedVars::new(5, DType::F32, &Device::Cpu).pretrained(&file).unwrap();
        let shard = candle_nn::var_builder::Shard {
            dim: 0,
            rank,
            world_size: 2,
        };
        let t = keyed.sharded_var_builder().get_with_hints((), path, shard).unwrap();
        assert_eq!(bits(&t), bits(&saved[path].narrow(0, rank * 16, 16).unwrap()));
    }
}
