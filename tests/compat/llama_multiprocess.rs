//! candle-examples' tensor-parallel Llama loader (`llama_multiprocess`'s
//! `model.rs`), compiled as candle writes it but for its `ShardedVarBuilder`
//! import (see `build.rs`), loads through keyed streams at world sizes 1, 2
//! and 4: its literal `vb.get_with_hints((), "weight", shard(..))` requests get
//! the global shapes learned from one build of candle-transformers'
//! non-parallel `Llama::load`, and each rank's slices are the whole model's.
//!
//! Only what the loader needs from outside is provided here: NCCL's
//! communicator (a rank and a world size) and flash attention, which the
//! loader names but loading never calls.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use reproducible::backend::KeyedVars;
use reproducible::recipes;
use reproducible_compat_tests::bits;

// The loader's `use candle::..` and `super::MAX_SEQ_LEN`, as its crate has them.
extern crate candle_core as candle;
#[cfg(candle_examples)]
const MAX_SEQ_LEN: usize = 64;

#[cfg(candle_examples)]
#[allow(dead_code, unused_imports, unsafe_code, clippy::all)]
mod model {
    /// NCCL's communicator, as far as loading uses it.
    mod cudarc {
        pub mod nccl {
            pub mod safe {
                pub struct Comm {
                    pub rank: usize,
                    pub world_size: usize,
                }
                impl Comm {
                    pub fn rank(&self) -> usize {
                        self.rank
                    }
                    pub fn world_size(&self) -> usize {
                        self.world_size
                    }
                }
                pub enum ReduceOp {
                    Sum,
                }
            }
        }
    }
    mod candle_flash_attn {
        pub fn flash_attn(
            _: &candle::Tensor,
            _: &candle::Tensor,
            _: &candle::Tensor,
            _: f32,
            _: bool,
        ) -> candle::Result<candle::Tensor> {
            candle::bail!("flash attention is CUDA-only; loading never calls it")
        }
    }
    pub use cudarc::nccl::safe::Comm as FakeComm;

    include!(concat!(env!("OUT_DIR"), "/llama_multiprocess_model.rs"));
}

fn config() -> candle_transformers::models::llama::LlamaConfig {
    serde_json::from_str(
        r#"{"hidden_size": 32, "intermediate_size": 64, "vocab_size": 40, "num_hidden_layers": 2,
            "num_attention_heads": 8, "num_key_value_heads": 4, "rms_norm_eps": 1e-5,
            "max_position_embeddings": 64, "tie_word_embeddings": false}"#,
    )
    .unwrap()
}

fn keyed() -> KeyedVars {
    KeyedVars::new(2024, DType::F32, &Device::Cpu).rules(recipes::llama(0.02))
}

#[cfg(candle_examples)]
fn rank_tensors(rank: usize, world_size: usize) -> HashMap<String, Tensor> {
    use std::rc::Rc;
    let cfg = config();
    let keyed = keyed()
        .learn_shapes(|vb| candle_transformers::models::llama::Llama::load(vb, &cfg.clone().into_config(false)))
        .unwrap();
    let cache = model::Cache::new(DType::F32, &cfg, &Device::Cpu).unwrap();
    let comm = Rc::new(model::FakeComm { rank, world_size });
    model::Llama::load(keyed.sharded_var_builder(), &cache, &cfg, comm).unwrap();
    keyed.check_rules().unwrap();
    keyed.tensors().into_iter().collect()
}

#[cfg(candle_examples)]
#[test]
fn candle_examples_loader_unchanged_gets_each_rank_its_slice_of_the_whole() {
    // The whole model, through candle-transformers' own non-parallel loader.
    let cfg = config();
    let whole_vars = keyed();
    candle_transformers::models::llama::Llama::load(whole_vars.var_builder(), &cfg.into_config(false)).unwrap();
    let whole: HashMap<String, Tensor> = whole_vars.tensors().into_iter().collect();
    assert_eq!(whole.len(), 3 + 2 * 9);

    for world_size in [1usize, 2, 4] {
        let ranks: Vec<HashMap<String, Tensor>> = (0..world_size).map(|r| rank_tensors(r, world_size)).collect();
        for (path, full) in &whole {
            let dim = if ["q_proj", "k_proj", "v_proj", "gate_proj", "up_proj"]
                .iter()
                .any(|p| path.contains(p))
            {
                Some(0)
            } else if path.contains("o_proj") || path.contains("down_proj") {
                Some(1)
            } else {
                None
            };
            for rank in &ranks {
                assert!(rank.contains_key(path), "{path} not loaded at world size {world_size}");
            }
            match dim {
                Some(dim) => {
                    let parts: Vec<Tensor> = ranks.iter().map(|t| t[path].clone()).collect();
                    assert_eq!(
                        parts[0].dim(dim).unwrap() * world_size,
                        full.dim(dim).unwrap(),
                        "{path}: world size {world_size}"
                    );
                    let joined = Tensor::cat(&parts, dim).unwrap();
                    assert_eq!(bits(&joined), bits(full), "{path}: world size {world_size}");
                }
                None => {
                    for t in &ranks {
                        assert_eq!(bits(&t[path]), bits(full), "{path}: world size {world_size}");
                    }
                }
            }
        }
    }
}

#[cfg(not(candle_examples))]
#[test]
fn candle_examples_loader_unchanged_gets_each_rank_its_slice_of_the_whole() {
    panic!("candle-examples' llama_multiprocess loader is not fetched: run tools/fetch-candle-examples.sh");
}

/// Candle's sharded idiom asks for `()`: without declared shapes that is an
/// error naming the parameter and the ways to declare them, at every world
/// size (with one rank too, where a scalar was once returned).
#[test]
fn a_shapeless_sharded_request_without_declared_shapes_is_an_error() {
    for world_size in [1, 2] {
        let vars = keyed();
        let err = vars
            .sharded_var_builder()
            .pp("model.layers.0.self_attn.q_proj")
            .get_with_hints(
                (),
                "weight",
                candle_nn::var_builder::Shard {
                    dim: 0,
                    rank: 0,
                    world_size,
                },
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("model.layers.0.self_attn.q_proj.weight"), "{err}");
        assert!(
            err.contains("KeyedVars::shapes") && err.contains("learn_shapes"),
            "{err}"
        );
    }
}

/// A declared global shape is what `()` stands for, and a request that names
/// another shape is an error that says both.
#[test]
fn declared_shapes_answer_shapeless_requests_and_reject_other_shapes() {
    let shard = |rank, world_size| candle_nn::var_builder::Shard {
        dim: 0,
        rank,
        world_size,
    };
    let vars = keyed().shapes([("model.layers.0.self_attn.q_proj.weight", (32, 32))]);
    let vb = vars.sharded_var_builder().pp("model.layers.0.self_attn.q_proj");
    let whole = vb.get_with_hints((), "weight", shard(0, 1)).unwrap();
    assert_eq!(whole.dims(), &[32, 32]);
    let explicit = keyed().sharded_var_builder().pp("model.layers.0.self_attn.q_proj");
    let explicit = explicit.get_with_hints((32, 32), "weight", shard(0, 1)).unwrap();
    assert_eq!(bits(&whole), bits(&explicit));

    let vars = keyed().shapes([("model.layers.0.self_attn.q_proj.weight", (32, 32))]);
    let half = vars
        .sharded_var_builder()
        .pp("model.layers.0.self_attn.q_proj")
        .get_with_hints((), "weight", shard(1, 2))
        .unwrap();
    assert_eq!(half.dims(), &[16, 32]);
    assert_eq!(bits(&half), bits(&whole.narrow(0, 16, 16).unwrap()));

    let vars = keyed().shapes([("model.layers.0.self_attn.q_proj.weight", (32, 32))]);
    let err = vars
        .sharded_var_builder()
        .pp("model.layers.0.self_attn.q_proj")
        .get_with_hints((32, 16), "weight", shard(0, 1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("q_proj.weight") && err.contains("[32, 16]") && err.contains("[32, 32]"),
        "{err}"
    );
}
