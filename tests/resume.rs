//! Resuming from a checkpoint is never having stopped: the story's attention
//! block trained 2N steps equals, bit for bit, the block trained N steps,
//! saved, loaded in a fresh model and optimizer, and trained N more. Dropout
//! masks come back with the checkpoint's seed, the data order with the step.

use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, ParamsAdamW};
use reproducible::checkpoint::{self, Metadata};
use reproducible::generate::generate;
use reproducible::model::{init_with_provenance, ModelExt};
use reproducible::optim::AdamW;
use reproducible::prelude::Model;
use reproducible::scheme::normal;
use reproducible::shuffle::permutation;
use reproducible::stream::Stream;
use reproducible::Init;
use reproducible_examples::story::{AttentionConfig, AttentionV2};

const SEED: u64 = 42;
const EXAMPLES: usize = 64;
const BATCH: usize = 16;
const TOKENS: usize = 6;

fn cfg() -> AttentionConfig {
    AttentionConfig {
        dim: 32,
        num_heads: 4,
        attn_drop: 0.1,
        proj_drop: 0.1,
    }
}

/// Inputs and the targets of a fixed random teacher, from keyed streams.
fn data() -> (Tensor, Tensor) {
    let dim = cfg().dim;
    let shape = [EXAMPLES, TOKENS, dim];
    let x: Vec<f32> = generate(&Stream::new(SEED, "data.inputs", 1), &normal(0.0, 1.0), &shape, None).unwrap();
    let w: Vec<f32> = generate(
        &Stream::new(SEED, "data.teacher", 1),
        &normal(0.0, 0.3),
        &[dim, dim],
        None,
    )
    .unwrap();
    let x = Tensor::from_vec(x, &shape, &Device::Cpu).unwrap();
    let w = Tensor::from_vec(w, (dim, dim), &Device::Cpu).unwrap();
    let y = x.broadcast_matmul(&w).unwrap().tanh().unwrap();
    (x, y)
}

/// Trains steps `steps` and returns the bits of each step's loss.
fn train(model: &AttentionV2, opt: &mut impl Optimizer, steps: std::ops::Range<usize>) -> Vec<u32> {
    let (x, y) = data();
    let per_epoch = EXAMPLES / BATCH;
    steps
        .map(|step| {
            let (epoch, b) = (step / per_epoch, step % per_epoch);
            let order = permutation(SEED, "data.train", epoch as u64, EXAMPLES);
            let idx: Vec<u32> = order[b * BATCH..(b + 1) * BATCH].iter().map(|&i| i as u32).collect();
            let idx = Tensor::new(idx.as_slice(), &Device::Cpu).unwrap();
            model.set_step(step as u64);
            let out = model.forward_t(&x.index_select(&idx, 0).unwrap(), true).unwrap();
            let loss = out
                .sub(&y.index_select(&idx, 0).unwrap())
                .unwrap()
                .sqr()
                .unwrap()
                .mean_all()
                .unwrap();
            opt.backward_step(&loss).unwrap();
            loss.to_scalar::<f32>().unwrap().to_bits()
        })
        .collect()
}

fn bits(model: &AttentionV2) -> Vec<(String, Vec<u32>)> {
    model
        .parameters()
        .into_iter()
        .map(|p| {
            let v = p.tensor.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            (p.path, v.into_iter().map(f32::to_bits).collect())
        })
        .collect()
}

const N: usize = 8;

fn adamw() -> ParamsAdamW {
    ParamsAdamW {
        lr: 1e-2,
        ..ParamsAdamW::default()
    }
}

/// N steps, then a checkpoint of the model and the optimizer, in `dir`.
fn first_half(dir: &std::path::Path) -> Vec<u32> {
    let (model, provenance) = init_with_provenance::<AttentionV2>(&cfg(), &Init::new(SEED)).unwrap();
    let mut opt = AdamW::for_model(&model, adamw()).unwrap();
    let losses = train(&model, &mut opt, 0..N);
    let metadata = Metadata::new(Some(SEED), AttentionV2::MODEL_VERSION, provenance);
    checkpoint::save_model(&dir.join("model.safetensors"), &model, &metadata).unwrap();
    opt.save(&dir.join("optimizer.safetensors")).unwrap();
    losses
}

#[test]
fn a_resumed_run_is_the_uninterrupted_run_bit_for_bit() {
    let whole = AttentionV2::init(&cfg(), &Init::new(SEED)).unwrap();
    let mut opt = AdamW::for_model(&whole, adamw()).unwrap();
    let uninterrupted = train(&whole, &mut opt, 0..2 * N);
    assert_ne!(uninterrupted[0], uninterrupted[2 * N - 1], "it trains");

    let dir = tempfile::tempdir().unwrap();
    let first = first_half(dir.path());
    // A new process would start here: nothing survives but the two files.
    let model: AttentionV2 =
        checkpoint::load_model(&dir.path().join("model.safetensors"), &cfg(), DType::F32, &Device::Cpu).unwrap();
    let mut opt = AdamW::for_model(&model, adamw()).unwrap();
    opt.load_state(&dir.path().join("optimizer.safetensors")).unwrap();
    assert_eq!(opt.steps(), N);
    let second = train(&model, &mut opt, N..2 * N);

    assert_eq!([first, second].concat(), uninterrupted);
    assert_eq!(bits(&model), bits(&whole));
}

#[test]
fn without_the_optimizers_state_a_resumed_run_diverges() {
    // What candle-nn's own AdamW allows: its moments cannot be saved, so a
    // resumed run starts them from zero and leaves the uninterrupted path.
    let whole = AttentionV2::init(&cfg(), &Init::new(SEED)).unwrap();
    let mut opt = AdamW::for_model(&whole, adamw()).unwrap();
    let uninterrupted = train(&whole, &mut opt, 0..2 * N);
    let dir = tempfile::tempdir().unwrap();
    first_half(dir.path());
    let model: AttentionV2 =
        checkpoint::load_model(&dir.path().join("model.safetensors"), &cfg(), DType::F32, &Device::Cpu).unwrap();
    let mut fresh = candle_nn::AdamW::new(model.trainable_vars().unwrap(), adamw()).unwrap();
    let second = train(&model, &mut fresh, N..2 * N);
    assert_ne!(second, uninterrupted[N..]);
}

#[test]
fn the_resumable_adamw_takes_candles_steps_bit_for_bit() {
    let ours = AttentionV2::init(&cfg(), &Init::new(SEED)).unwrap();
    let theirs = AttentionV2::init(&cfg(), &Init::new(SEED)).unwrap();
    let a = train(&ours, &mut AdamW::for_model(&ours, adamw()).unwrap(), 0..N);
    let mut candle = candle_nn::AdamW::new(theirs.trainable_vars().unwrap(), adamw()).unwrap();
    let b = train(&theirs, &mut candle, 0..N);
    assert_eq!(a, b);
    assert_eq!(bits(&ours), bits(&theirs));
}

#[test]
fn stateless_sgd_resumes_as_it_is() {
    let whole = AttentionV2::init(&cfg(), &Init::new(SEED)).unwrap();
    let mut sgd = candle_nn::SGD::new(whole.trainable_vars().unwrap(), 0.05).unwrap();
    let uninterrupted = train(&whole, &mut sgd, 0..2 * N);
    let dir = tempfile::tempdir().unwrap();
    let (model, provenance) = init_with_provenance::<AttentionV2>(&cfg(), &Init::new(SEED)).unwrap();
    let mut sgd = candle_nn::SGD::new(model.trainable_vars().unwrap(), 0.05).unwrap();
    let first = train(&model, &mut sgd, 0..N);
    let file = dir.path().join("model.safetensors");
    checkpoint::save_model(&file, &model, &Metadata::new(Some(SEED), 2, provenance)).unwrap();
    let model: AttentionV2 = checkpoint::load_model(&file, &cfg(), DType::F32, &Device::Cpu).unwrap();
    let mut sgd = candle_nn::SGD::new(model.trainable_vars().unwrap(), 0.05).unwrap();
    let second = train(&model, &mut sgd, N..2 * N);
    assert_eq!([first, second].concat(), uninterrupted);
}

#[test]
fn a_damaged_optimizer_state_is_refused_naming_each_tensor() {
    let dir = tempfile::tempdir().unwrap();
    first_half(dir.path());
    let file = dir.path().join("optimizer.safetensors");
    let mut state = checkpoint::read(&file, &Device::Cpu).unwrap();
    state.remove("qkv.weight.exp_avg");
    state.insert(
        "nobody.exp_avg".to_owned(),
        Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
    );
    state.insert(
        "gamma.exp_avg_sq".to_owned(),
        Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap(),
    );
    let list: Vec<(String, Tensor)> = state.into_iter().collect();
    let bytes = safetensors::serialize(list.iter().map(|(n, t)| (n.as_str(), t)), None).unwrap();
    std::fs::write(&file, bytes).unwrap();
    let model = AttentionV2::init(&cfg(), &Init::new(SEED)).unwrap();
    let mut opt = AdamW::for_model(&model, adamw()).unwrap();
    let e = opt.load_state(&file).unwrap_err().to_string();
    for needle in [
        "no `qkv.weight.exp_avg`",
        "`gamma.exp_avg_sq` is [3]",
        "`nobody.exp_avg`",
    ] {
        assert!(e.contains(needle), "{needle}: {e}");
    }
    assert_eq!(opt.steps(), 0, "a refused state changes nothing");
}

#[test]
fn the_seed_the_checkpoint_records_is_what_keeps_the_masks() {
    // The resume test is sensitive to the masks: the same checkpoint resumed
    // with another dropout seed leaves the uninterrupted path.
    let whole = AttentionV2::init(&cfg(), &Init::new(SEED)).unwrap();
    let mut opt = AdamW::for_model(&whole, adamw()).unwrap();
    let uninterrupted = train(&whole, &mut opt, 0..2 * N);
    let dir = tempfile::tempdir().unwrap();
    first_half(dir.path());
    let checked =
        checkpoint::CheckedVars::open(&dir.path().join("model.safetensors"), DType::F32, &Device::Cpu).unwrap();
    let vb = checked.var_builder();
    let model = AttentionV2::build(&cfg(), &reproducible::model::Ctx::load(&vb).with_seed(0)).unwrap();
    checked.finish().unwrap();
    let mut opt = AdamW::for_model(&model, adamw()).unwrap();
    opt.load_state(&dir.path().join("optimizer.safetensors")).unwrap();
    assert_ne!(train(&model, &mut opt, N..2 * N), uninterrupted[N..]);
}
