//! What the macro promises: structural edits leave every other parameter's bits
//! alone, versions re-roll one field, checkpoints load through the same constructor.

use std::collections::HashMap;

use candle_nn::VarBuilder;
use reproducible::model::{ModelExt, Param};
use reproducible::prelude::*;

#[derive(Clone)]
pub struct Cfg {
    dim: usize,
    depth: usize,
}

#[reproducible_model(config = Cfg)]
pub struct Block {
    #[module(linear(cfg.dim, cfg.dim))]
    fc: Linear,
    #[param(shape = [cfg.dim], init = normal(1.0, 0.1))]
    scale: Tensor,
}

#[reproducible::forward]
impl Module for Block {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc.forward(x)?.broadcast_mul(&self.scale)
    }
}

/// The base model.
#[reproducible_model(config = Cfg)]
pub struct Base {
    #[module(embedding(10, cfg.dim))]
    embed: Embedding,
    #[module(cfg.clone(), count = cfg.depth)]
    blocks: Vec<Block>,
    #[param(shape = [cfg.dim, 3], init = trunc_normal(std = 0.02))]
    head: Tensor,
}

#[reproducible::forward]
impl Base {
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let mut x = self.embed.forward(ids)?;
        for b in &self.blocks {
            x = b.forward(&x)?;
        }
        x.broadcast_matmul(&self.head)
    }
}

/// Fields reordered, a parameter and a submodule added in front.
#[reproducible_model(config = Cfg)]
pub struct Edited {
    #[param(shape = [cfg.dim, 3], init = trunc_normal(std = 0.02))]
    head: Tensor,
    #[param(shape = [1, cfg.dim], init = normal(0.0, 1.0))]
    gamma: Tensor,
    #[module(linear(cfg.dim, cfg.dim), unused = "added for the test")]
    extra: Linear,
    #[module(cfg.clone(), count = cfg.depth)]
    blocks: Vec<Block>,
    #[module(embedding(10, cfg.dim))]
    embed: Embedding,
}

#[reproducible::forward]
impl Edited {
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let x = self.embed.forward(ids)?.broadcast_mul(&self.gamma)?;
        let x = self.blocks.iter().try_fold(x, |x, b| b.forward(&x))?;
        x.broadcast_matmul(&self.head)
    }
}

/// `embed` renamed to `tok_embed` with an alias, and `head` bumped to version 2.
#[reproducible_model(config = Cfg)]
pub struct Renamed {
    #[module(embedding(10, cfg.dim), key = "embed")]
    tok_embed: Embedding,
    #[module(cfg.clone(), count = cfg.depth)]
    blocks: Vec<Block>,
    #[param(shape = [cfg.dim, 3], init = trunc_normal(std = 0.02), version = 2)]
    head: Tensor,
}

#[reproducible::forward]
impl Renamed {
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let x = self.tok_embed.forward(ids)?;
        let x = self.blocks.iter().try_fold(x, |x, b| b.forward(&x))?;
        x.broadcast_matmul(&self.head)
    }
}

fn bits(params: &[Param]) -> HashMap<String, Vec<u32>> {
    params
        .iter()
        .map(|p| {
            let v = p.tensor.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            (p.path.clone(), v.into_iter().map(f32::to_bits).collect())
        })
        .collect()
}

const CFG: Cfg = Cfg { dim: 8, depth: 2 };

#[test]
fn reordering_and_adding_fields_leave_the_others_bit_identical() {
    let init = Init::new(7);
    let base = bits(&Base::init(&CFG, &init).unwrap().parameters());
    let edited = bits(&Edited::init(&CFG, &init).unwrap().parameters());
    assert_eq!(base.len(), 1 + 2 * 3 + 1);
    for (path, values) in &base {
        assert_eq!(edited.get(path), Some(values), "{path}");
    }
    assert!(edited.contains_key("gamma") && edited.contains_key("extra.weight"));
}

#[test]
fn an_alias_keeps_values_and_a_version_bump_rerolls_one_field() {
    let init = Init::new(7);
    let base = bits(&Base::init(&CFG, &init).unwrap().parameters());
    let renamed = bits(&Renamed::init(&CFG, &init).unwrap().parameters());
    assert_eq!(
        renamed.keys().collect::<std::collections::BTreeSet<_>>(),
        base.keys().collect()
    );
    for (path, values) in &base {
        if path == "head" {
            assert_ne!(&renamed[path], values, "version 2 re-rolls head");
        } else {
            assert_eq!(&renamed[path], values, "{path}");
        }
    }
}

#[test]
fn appending_a_block_keeps_the_earlier_ones() {
    let init = Init::new(7);
    let two = bits(&Base::init(&CFG, &init).unwrap().parameters());
    let three = bits(&Base::init(&Cfg { depth: 3, ..CFG }, &init).unwrap().parameters());
    for (path, values) in &two {
        assert_eq!(&three[path], values, "{path}");
    }
    assert!(three.contains_key("blocks.2.fc.weight"));
}

#[test]
fn the_seed_changes_everything() {
    let a = bits(&Base::init(&CFG, &Init::new(1)).unwrap().parameters());
    let b = bits(&Base::init(&CFG, &Init::new(2)).unwrap().parameters());
    assert!(a.iter().all(|(p, v)| &b[p] != v));
}

#[test]
fn loading_a_checkpoint_through_the_same_constructor_gives_the_saved_values() {
    let model = Base::init(&CFG, &Init::new(3)).unwrap();
    let dir = std::env::temp_dir().join(format!("reproducible-model-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("base.safetensors");
    let map: HashMap<String, Tensor> = model.parameters().into_iter().map(|p| (p.path, p.tensor)).collect();
    candle_core::safetensors::save(&map, &file).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu).unwrap();
    let loaded = Base::load(&CFG, &vb).unwrap();
    assert_eq!(bits(&loaded.parameters()), bits(&model.parameters()));
    // The wrong config is an error naming the path and both shapes.
    let err = Base::load(&Cfg { dim: 4, ..CFG }, &vb).err().unwrap().to_string();
    assert!(err.contains("embed.weight") && err.contains("shape"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn trainable_parameters_are_vars_an_optimizer_updates() {
    use candle_nn::Optimizer;
    let model = Base::init(&CFG, &Init::new(3)).unwrap();
    let vars = model.trainable_vars().unwrap();
    assert_eq!(vars.len(), model.parameters().len());
    let before = model.head.to_vec2::<f32>().unwrap();
    let mut sgd = candle_nn::SGD::new(vars, 0.1).unwrap();
    let ids = Tensor::new(&[1u32, 2, 3], &Device::Cpu).unwrap();
    let loss = model.forward(&ids).unwrap().sqr().unwrap().sum_all().unwrap();
    sgd.backward_step(&loss).unwrap();
    assert_ne!(
        model.head.to_vec2::<f32>().unwrap(),
        before,
        "the model's own tensor sees the update"
    );
}
