//! candle integration: keyed VarBuilder for unmodified candle code, training with
//! a VarMap, sharded init, checkpoints with provenance, keyed dropout and shuffling.

use std::collections::HashMap;

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::var_builder::Shard;
use candle_nn::ModuleT;
use candle_nn::{Optimizer, VarBuilder, VarMap};
use reproducible::backend::{var_builder, KeyedVars};
use reproducible::checkpoint::{self, Metadata};
use reproducible::model::init_with_provenance;
use reproducible::prelude::*;
use reproducible::rules::Rule;
use reproducible::scheme::{self, Nonlinearity};
use reproducible::shuffle::permutation;
use reproducible_tests::scratch;

fn values(t: &Tensor) -> Vec<u32> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

/// Unmodified candle code: an MLP built with candle_nn constructors.
fn candle_mlp(vb: VarBuilder, depth: usize) -> candle_core::Result<Vec<candle_nn::Linear>> {
    (0..depth)
        .map(|i| candle_nn::linear(16, 16, vb.pp(format!("layers.{i}"))))
        .collect()
}

#[test]
fn unmodified_candle_code_is_reproducible_and_keyed_by_path() {
    let a = KeyedVars::new(5, DType::F32, &Device::Cpu);
    candle_mlp(a.var_builder(), 3).unwrap();
    let b = KeyedVars::new(5, DType::F32, &Device::Cpu);
    candle_mlp(b.var_builder().pp("unused_prefix").pp(".."), 0).unwrap();
    candle_mlp(b.var_builder(), 2).unwrap();
    let (ta, tb): (HashMap<_, _>, HashMap<_, _>) =
        (a.tensors().into_iter().collect(), b.tensors().into_iter().collect());
    assert_eq!(ta.len(), 6);
    for (path, t) in &tb {
        assert_eq!(values(t), values(&ta[path]), "{path}");
    }
    // The hint picks the scheme: candle's linear weight is kaiming normal (relu, fan in).
    let p = a.provenance();
    let w = p.iter().find(|p| p.path == "layers.0.weight").unwrap();
    assert_eq!(w.scheme, "kaiming_normal(a=0.0, mode=fan_in, nonlinearity=relu)");
    let bias = p.iter().find(|p| p.path == "layers.0.bias").unwrap();
    assert!(bias.scheme.starts_with("uniform(a=-0.25, b=0.25)"), "{}", bias.scheme);
}

#[test]
fn candles_own_varmap_differs_between_runs() {
    // The problem is real: candle's CPU generator is not seedable, so two builds differ.
    let run = || {
        let vm = VarMap::new();
        candle_mlp(VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu), 1).unwrap();
        let w = vm.data().lock().unwrap()["layers.0.weight"].as_tensor().clone();
        values(&w)
    };
    assert_ne!(run(), run());
    let keyed = || {
        values(
            &candle_mlp(var_builder(1, DType::F32, &Device::Cpu), 1).unwrap()[0]
                .weight()
                .clone(),
        )
    };
    assert_eq!(keyed(), keyed());
}

#[test]
fn trainable_keyed_vars_fill_a_varmap_an_optimizer_trains() {
    let kv = KeyedVars::trainable(3, DType::F32, &Device::Cpu);
    let layers = candle_mlp(kv.var_builder(), 2).unwrap();
    assert_eq!(kv.varmap().all_vars().len(), 4);
    let before = values(layers[0].weight());
    let mut opt = candle_nn::AdamW::new_lr(kv.varmap().all_vars(), 0.01).unwrap();
    let x = Tensor::ones((4, 16), DType::F32, &Device::Cpu).unwrap();
    let loss = layers[1]
        .forward(&layers[0].forward(&x).unwrap())
        .unwrap()
        .sqr()
        .unwrap()
        .mean_all()
        .unwrap();
    opt.backward_step(&loss).unwrap();
    assert_ne!(values(layers[0].weight()), before);
}

#[test]
fn per_path_version_rerolls_one_parameter() {
    let base = KeyedVars::new(3, DType::F32, &Device::Cpu);
    candle_mlp(base.var_builder(), 2).unwrap();
    let bumped = KeyedVars::new(3, DType::F32, &Device::Cpu).version("layers.1.weight", 2);
    candle_mlp(bumped.var_builder(), 2).unwrap();
    for ((p, a), (_, b)) in base.tensors().iter().zip(bumped.tensors()) {
        assert_eq!(values(a) == values(&b), p != "layers.1.weight", "{p}");
    }
}

fn shard(dim: usize, rank: usize, world_size: usize) -> Shard {
    Shard { dim, rank, world_size }
}

#[test]
fn sharded_ranks_concatenate_to_the_unsharded_tensor() {
    let rule = || Rule::new("w", scheme::kaiming_normal().nonlinearity(Nonlinearity::Relu)).unwrap();
    let whole = KeyedVars::new(9, DType::F32, &Device::Cpu)
        .rule(rule())
        .var_builder()
        .get((24, 16), "w")
        .unwrap();
    for dim in 0..2 {
        for world in 1..=8 {
            if [24, 16][dim] % world != 0 {
                continue;
            }
            let parts: Vec<Tensor> = (0..world)
                .map(|rank| {
                    let kv = KeyedVars::new(9, DType::F32, &Device::Cpu).rule(rule());
                    kv.sharded_var_builder()
                        .get_with_hints((24, 16), "w", shard(dim, rank, world))
                        .unwrap()
                })
                .collect();
            let joined = Tensor::cat(&parts, dim).unwrap();
            assert_eq!(values(&joined), values(&whole), "dim {dim} world {world}");
        }
    }
    let kv = KeyedVars::new(9, DType::F32, &Device::Cpu).rule(rule());
    let uneven = kv
        .sharded_var_builder()
        .get_with_hints((24, 16), "w", shard(0, 0, 5))
        .unwrap_err()
        .to_string();
    assert!(uneven.contains("`w`") && uneven.contains("5 equal shards"), "{uneven}");
}

#[test]
fn one_keyed_vars_holds_one_rank_and_says_so_when_asked_for_another() {
    let kv = KeyedVars::new(9, DType::F32, &Device::Cpu).rule(Rule::new("w", scheme::normal(0.0, 1.0)).unwrap());
    let vb = kv.sharded_var_builder();
    let rank0 = vb.get_with_hints((8, 4), "w", shard(0, 0, 2)).unwrap();
    // The same request is the same tensor...
    assert_eq!(
        values(&vb.get_with_hints((8, 4), "w", shard(0, 0, 2)).unwrap()),
        values(&rank0)
    );
    // ...and another rank of it is an error, never rank 0's slice again.
    let other = vb.get_with_hints((8, 4), "w", shard(0, 1, 2)).unwrap_err().to_string();
    assert!(
        other.contains("`w`") && other.contains("rank 0 of 2") && other.contains("rank 1 of 2"),
        "{other}"
    );
    let whole = vb.get((8, 4), "w").unwrap_err().to_string();
    assert!(whole.contains("the whole tensor"), "{whole}");
}

#[test]
fn the_sharded_builder_takes_its_scheme_from_rules_and_names_a_parameter_without_one() {
    let kv = KeyedVars::new(9, DType::F32, &Device::Cpu);
    let e = kv.sharded_var_builder().get(4, "norm.weight").unwrap_err().to_string();
    assert!(e.contains("`norm.weight`") && e.contains("no init rule"), "{e}");
    let kv = KeyedVars::new(9, DType::F32, &Device::Cpu).rule(Rule::new("**.weight", scheme::ones()).unwrap());
    let w = kv.sharded_var_builder().get(4, "norm.weight").unwrap();
    assert_eq!(w.to_vec1::<f32>().unwrap(), [1.0; 4]);
}

#[reproducible_model(config = usize)]
pub struct Tiny {
    #[module(linear(*cfg, 3))]
    fc: Linear,
    #[param(shape = [3], init = ones(), frozen)]
    scale: Tensor,
    #[module(dropout(0.5))]
    drop: KeyedDropout,
}

#[reproducible::forward]
impl Tiny {
    pub fn forward_t(&self, x: &Tensor, step: u64, train: bool) -> candle_core::Result<Tensor> {
        let y = self.fc.forward(x)?.broadcast_mul(&self.scale)?;
        self.drop.forward_at(&y, step, train)
    }
}

#[test]
fn checkpoints_round_trip_with_provenance() {
    let (model, provenance) = init_with_provenance::<Tiny>(&4, &Init::new(11)).unwrap();
    let file = scratch("model.safetensors");
    checkpoint::save_model(&file, &model, &Metadata::new(Some(11), Tiny::MODEL_VERSION, provenance)).unwrap();
    let meta = checkpoint::read_metadata(&file).unwrap().unwrap();
    assert_eq!((meta.spec_version, meta.seed, meta.model_version), (1, Some(11), 1));
    let paths: Vec<&str> = meta.params.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["fc.bias", "fc.weight", "scale"]);
    assert!(!meta.params[2].trainable && meta.params[2].scheme == "ones()");
    let back: Tiny = checkpoint::load_model(&file, &4, DType::F32, &Device::Cpu).unwrap();
    for (a, b) in back.parameters().iter().zip(model.parameters()) {
        assert_eq!(values(&a.tensor), values(&b.tensor), "{}", a.path);
    }
}

#[test]
fn malformed_checkpoints_are_errors_naming_the_tensor() {
    let (model, _) = init_with_provenance::<Tiny>(&4, &Init::new(11)).unwrap();
    let params: HashMap<String, Tensor> = model.parameters().into_iter().map(|p| (p.path, p.tensor)).collect();
    let write = |name: &str, edit: &dyn Fn(&mut HashMap<String, Tensor>)| {
        let mut t = params.clone();
        edit(&mut t);
        let file = scratch(&format!("{name}.safetensors"));
        let list: Vec<(String, Tensor)> = t.into_iter().collect();
        checkpoint::save(&file, &list, &Metadata::new(None, 1, vec![])).unwrap();
        checkpoint::load_model::<Tiny>(&file, &4, DType::F32, &Device::Cpu)
            .err()
            .unwrap()
            .to_string()
    };
    let missing = write("missing", &|t| {
        t.remove("fc.bias");
        t.remove("scale");
    });
    assert!(
        missing.contains("no tensor `fc.bias`") && missing.contains("no tensor `scale`"),
        "{missing}"
    );
    let extra = write("extra", &|t| {
        t.insert(
            "head.weight".into(),
            Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap(),
        );
    });
    assert!(extra.contains("does not have: `head.weight`"), "{extra}");
    let shape = write("shape", &|t| {
        t.insert(
            "fc.weight".into(),
            Tensor::zeros((3, 5), DType::F32, &Device::Cpu).unwrap(),
        );
    });
    assert!(
        shape.contains("`fc.weight` has shape [3, 5], the model expects [3, 4]"),
        "{shape}"
    );
    let dtype = write("dtype", &|t| {
        t.insert("scale".into(), Tensor::ones(3, DType::BF16, &Device::Cpu).unwrap());
    });
    assert!(
        dtype.contains("`scale` has dtype bf16, the model expects f32"),
        "{dtype}"
    );
    let junk = scratch("model.safetensors");
    std::fs::write(&junk, b"not a checkpoint").unwrap();
    let e = checkpoint::load_model::<Tiny>(&junk, &4, DType::F32, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not a safetensors file"), "{e}");
    assert!(checkpoint::read_metadata(&junk).is_err());
}

#[test]
fn unmodified_candle_code_loads_checked_checkpoints() {
    let kv = KeyedVars::new(4, DType::F32, &Device::Cpu);
    candle_mlp(kv.var_builder(), 3).unwrap();
    let file = scratch("model.safetensors");
    checkpoint::save(&file, &kv.tensors(), &Metadata::new(Some(4), 1, kv.provenance())).unwrap();
    let checked = checkpoint::CheckedVars::open(&file, DType::F32, &Device::Cpu).unwrap();
    let layers = candle_mlp(checked.var_builder(), 3).unwrap();
    checked.finish().unwrap();
    let saved: HashMap<String, Tensor> = kv.tensors().into_iter().collect();
    assert_eq!(values(layers[2].weight()), values(&saved["layers.2.weight"]));
    // Two layers only: the third layer's tensors are reported as extra.
    let checked = checkpoint::CheckedVars::open(&file, DType::F32, &Device::Cpu).unwrap();
    candle_mlp(checked.var_builder(), 2).unwrap();
    let e = checked.finish().unwrap_err().to_string();
    assert!(e.contains("`layers.2.bias`, `layers.2.weight`"), "{e}");
    // The wrong dtype is an error, not a silent conversion.
    let checked = checkpoint::CheckedVars::open(&file, DType::BF16, &Device::Cpu).unwrap();
    let _ = candle_mlp(checked.var_builder(), 3);
    assert!(checked
        .finish()
        .unwrap_err()
        .to_string()
        .contains("has dtype f32, the model expects bf16"));
}

#[test]
fn a_checkpoint_written_halfway_never_replaces_a_good_one() {
    let (model, p) = init_with_provenance::<Tiny>(&4, &Init::new(11)).unwrap();
    let file = scratch("model.safetensors");
    checkpoint::save_model(&file, &model, &Metadata::new(Some(11), 1, p)).unwrap();
    let good = std::fs::read(&file).unwrap();
    // A killed writer leaves only its temporary file behind; the target is untouched.
    let leftover = file.with_file_name(".model.safetensors.tmp-999999");
    std::fs::write(&leftover, &good[..good.len() / 2]).unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), good);
    checkpoint::load_model::<Tiny>(&file, &4, DType::F32, &Device::Cpu).unwrap();
    // A save that fails (its directory is gone) creates nothing.
    let nowhere = file.parent().unwrap().join("missing-dir").join("m.safetensors");
    assert!(checkpoint::save_model(&nowhere, &model, &Metadata::new(None, 1, vec![])).is_err());
    assert!(!nowhere.exists());
}

#[test]
fn dropout_masks_and_data_order_are_keyed_and_independent() {
    let a = Tiny::init(&4, &Init::new(2)).unwrap();
    let b = Tiny::init(&4, &Init::new(2)).unwrap();
    let x = Tensor::ones((8, 4), DType::F32, &Device::Cpu).unwrap();
    let (ya, yb) = (a.forward_t(&x, 3, true).unwrap(), b.forward_t(&x, 3, true).unwrap());
    assert_eq!(values(&ya), values(&yb));
    assert_ne!(values(&ya), values(&a.forward_t(&x, 4, true).unwrap()));
    // Rate: about half the elements are dropped.
    let mask = a.drop.mask(&[100_000], 0).unwrap();
    let kept = mask.iter().filter(|&&m| m > 0.0).count();
    assert!((49_000..51_000).contains(&kept), "{kept}");
    assert!(mask.iter().all(|&m| m == 0.0 || m == 2.0));
    // The data order does not depend on the model at all.
    let order = permutation(2, "data.train", 0, 1000);
    let _ = Tiny::init(&4, &Init::new(2))
        .unwrap()
        .forward_t(&x, 0, true)
        .unwrap()
        .sum(D::Minus1);
    assert_eq!(order, permutation(2, "data.train", 0, 1000));
}

#[test]
fn keyed_dropout_needs_a_seed_and_a_checkpoint_gives_back_the_one_it_records() {
    // A context without a seed cannot key masks: an error naming the layer, never seed 0.
    let vb = var_builder(1, DType::F32, &Device::Cpu);
    let e = Tiny::load(&4, &vb).err().unwrap().to_string();
    assert!(e.contains("`drop`") && e.contains("seed"), "{e}");
    // A checkpoint records the seed; loading it restores the masks an uninterrupted run draws.
    let (model, provenance) = init_with_provenance::<Tiny>(&4, &Init::new(11)).unwrap();
    let file = scratch("model.safetensors");
    checkpoint::save_model(&file, &model, &Metadata::new(Some(11), 1, provenance)).unwrap();
    let back: Tiny = checkpoint::load_model(&file, &4, DType::F32, &Device::Cpu).unwrap();
    assert_eq!(back.drop.seed(), 11);
    let x = Tensor::ones((8, 4), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(
        values(&back.forward_t(&x, 5, true).unwrap()),
        values(&model.forward_t(&x, 5, true).unwrap())
    );
    // A plain safetensors file records no seed, so a model with keyed dropout does not load from it.
    let plain = scratch("model.safetensors");
    let tensors: Vec<(String, Tensor)> = model.parameters().into_iter().map(|p| (p.path, p.tensor)).collect();
    checkpoint::save(&plain, &tensors, &Metadata::new(None, 1, vec![])).unwrap();
    let e = checkpoint::load_model::<Tiny>(&plain, &4, DType::F32, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("seed"), "{e}");
}

#[reproducible_model(config = usize)]
pub struct TwoDrops {
    #[module(linear(*cfg, *cfg))]
    fc: Linear,
    #[module(dropout(0.5))]
    first: KeyedDropout,
    #[module(dropout(0.5), count = 2)]
    more: Vec<KeyedDropout>,
}

#[reproducible::forward]
impl ModuleT for TwoDrops {
    fn forward_t(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        // candle's own trait, as code written for `candle_nn::Dropout` calls it.
        let mut y = self.fc.forward(x)?.apply_t(&self.first, train)?;
        for d in &self.more {
            y = y.apply_t(d, train)?;
        }
        Ok(y)
    }
}

#[test]
fn keyed_dropout_is_a_candle_module_t_at_the_step_the_model_was_set_to() {
    let m = TwoDrops::init(&6, &Init::new(3)).unwrap();
    let x = Tensor::ones((4, 6), DType::F32, &Device::Cpu).unwrap();
    m.set_step(9);
    assert!(m.first.step() == 9 && m.more.iter().all(|d| d.step() == 9));
    let through_trait = values(&m.forward_t(&x, true).unwrap());
    let mut by_hand = m.fc.forward(&x).unwrap();
    for d in std::iter::once(&m.first).chain(&m.more) {
        by_hand = d.forward_at(&by_hand, 9, true).unwrap();
    }
    assert_eq!(through_trait, values(&by_hand));
    m.set_step(10);
    assert_ne!(values(&m.forward_t(&x, true).unwrap()), through_trait);
    assert_eq!(
        values(&m.forward_t(&x, false).unwrap()),
        values(&m.fc.forward(&x).unwrap())
    );
}
