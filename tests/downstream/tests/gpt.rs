//! The GPT-2-style decoder of `src/gpt.rs` in a user's debug build: the tied
//! head is one tensor everywhere (parameters, manifest, lockfile, checkpoint,
//! optimizer) and receives both gradients; the rotary tables live on the
//! model's device in its dtype; training resumes bit for bit.

use candle_core::{DType, Device, Tensor, D};
use candle_nn::ParamsAdamW;
use downstream::gpt::{Gpt, GptConfig};
use reproducible::checkpoint::{self, Metadata};
use reproducible::generate::generate;
use reproducible::lock;
use reproducible::manifest::Manifest;
use reproducible::model::{init_with_provenance, ModelExt};
use reproducible::optim::AdamW;
use reproducible::prelude::Model;
use reproducible::scheme::uniform;
use reproducible::stream::Stream;
use reproducible::Init;

const SEED: u64 = 7;

fn cfg() -> GptConfig {
    GptConfig {
        vocab: 29,
        dim: 16,
        heads: 2,
        layers: 2,
        max_len: 8,
        drop: 0.1,
    }
}

/// `count` batches of 4 sequences of 8 tokens, from a keyed stream.
fn batches(count: usize) -> Vec<Tensor> {
    let shape = [count, 4, 8];
    let u: Vec<f32> = generate(&Stream::new(SEED, "data.tokens", 1), &uniform(0.0, 1.0), &shape, None).unwrap();
    let ids: Vec<u32> = u
        .iter()
        .map(|x| (x * cfg().vocab as f32) as u32 % cfg().vocab as u32)
        .collect();
    let all = Tensor::from_vec(ids, &shape, &Device::Cpu).unwrap();
    (0..count).map(|i| all.get(i).unwrap()).collect()
}

/// Next-token cross-entropy of a batch.
fn loss(model: &Gpt, ids: &Tensor, train: bool) -> Tensor {
    let n = ids.dim(1).unwrap();
    let input = ids.narrow(1, 0, n - 1).unwrap();
    let target = ids.narrow(1, 1, n - 1).unwrap().flatten_all().unwrap();
    let logits = model.logits(&input, train).unwrap();
    let logits = logits.reshape(((), cfg().vocab)).unwrap();
    candle_nn::loss::cross_entropy(&logits, &target).unwrap()
}

fn train(model: &Gpt, opt: &mut AdamW, steps: std::ops::Range<usize>) -> Vec<u32> {
    let data = batches(16);
    steps
        .map(|step| {
            model.set_step(step as u64);
            let l = loss(model, &data[step % data.len()], true);
            candle_nn::Optimizer::backward_step(opt, &l).unwrap();
            l.to_scalar::<f32>().unwrap().to_bits()
        })
        .collect()
}

fn bits(model: &Gpt) -> Vec<(String, Vec<u32>)> {
    model
        .parameters()
        .into_iter()
        .map(|p| {
            let v = p.tensor.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            (p.path, v.into_iter().map(f32::to_bits).collect())
        })
        .collect()
}

fn adamw() -> ParamsAdamW {
    ParamsAdamW {
        lr: 3e-3,
        ..ParamsAdamW::default()
    }
}

#[test]
fn the_tied_head_is_one_tensor_listed_once() {
    let (model, provenance) = init_with_provenance::<Gpt>(&cfg(), &Init::new(SEED)).unwrap();
    assert_eq!(model.head_weight().id(), model.token_embedding().id());
    let paths: Vec<String> = model.parameters().into_iter().map(|p| p.path).collect();
    assert!(paths.contains(&"wte.weight".to_owned()));
    assert!(!paths.iter().any(|p| p.starts_with("lm_head")), "{paths:?}");
    assert!(!provenance.iter().any(|p| p.path.starts_with("lm_head")));

    let manifest = Manifest::of_model(&model, &provenance).unwrap();
    assert!(manifest.get("wte.weight").is_some() && manifest.get("lm_head.weight").is_none());
    assert_eq!(manifest.len(), paths.len());
    let dir = tempfile::tempdir().unwrap();
    let lockfile = dir.path().join("gpt.lock");
    lock::write(&lockfile, &manifest).unwrap();
    let text = std::fs::read_to_string(&lockfile).unwrap();
    assert_eq!(text.matches("wte.weight").count(), 1);
    assert!(!text.contains("lm_head"));

    // The checkpoint stores it once, as safetensors files of tied weights do,
    // and a load restores the tie.
    let file = dir.path().join("gpt.safetensors");
    checkpoint::save_model(
        &file,
        &model,
        &Metadata::new(Some(SEED), Gpt::MODEL_VERSION, provenance),
    )
    .unwrap();
    let stored = checkpoint::read(&file, &Device::Cpu).unwrap();
    assert!(stored.contains_key("wte.weight") && !stored.contains_key("lm_head.weight"));
    let loaded: Gpt = checkpoint::load_model(&file, &cfg(), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(loaded.head_weight().id(), loaded.token_embedding().id());
    assert_eq!(bits(&loaded), bits(&model));
}

#[test]
fn the_tied_tensor_gets_the_gradients_of_both_uses() {
    let model = Gpt::init(&cfg(), &Init::new(SEED)).unwrap();
    let ids = &batches(1)[0];
    let e = model.token_embedding();
    let grads = model.logits(ids, false).unwrap().sum_all().unwrap().backward().unwrap();
    let total = grads.get(e).expect("the tied tensor has a gradient");

    // Each use alone: the head with the embedding's values but no gradient
    // path into the table, and the table's lookup with a detached head.
    let h = model.features(ids, false).unwrap();
    let through_head = h.detach().broadcast_matmul(&e.t().unwrap()).unwrap().sum_all().unwrap();
    let through_lookup = h.broadcast_matmul(&e.detach().t().unwrap()).unwrap().sum_all().unwrap();
    let a = through_head.backward().unwrap();
    let b = through_lookup.backward().unwrap();
    let sum = (a.get(e).unwrap() + b.get(e).unwrap()).unwrap();
    let diff = (total - &sum)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    let scale = sum.abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
    assert!(scale > 0.0 && diff <= 1e-5 * scale, "diff {diff}, scale {scale}");
    // Without the head's share, the table's gradient would be b alone.
    let head_share = a
        .get(e)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(head_share > 1e-3 * scale);
}

#[test]
fn the_rotary_tables_are_built_on_the_models_device_in_its_dtype() {
    for dtype in [DType::F32, DType::F64] {
        let init = Init::new(SEED).set_device(&Device::Cpu).set_dtype(dtype);
        let model = Gpt::init(&cfg(), &init).unwrap();
        let rope = model.rope();
        assert_eq!(rope.cos.dtype(), dtype);
        assert!(rope.sin.device().same_device(&Device::Cpu));
        assert_eq!(rope.cos.dims(), &[cfg().max_len, cfg().dim / cfg().heads / 2]);
        // cos(p * 10000^(-2i/d)), computed here in f64.
        let cos: Vec<Vec<f64>> = rope.cos.to_dtype(DType::F64).unwrap().to_vec2().unwrap();
        let d = (cfg().dim / cfg().heads) as f64;
        for (p, row) in cos.iter().enumerate() {
            for (i, &c) in row.iter().enumerate() {
                let want = (p as f64 * 10000f64.powf(-2.0 * i as f64 / d)).cos();
                assert!((c - want).abs() < 1e-5, "cos[{p}][{i}] = {c}, want {want}");
            }
        }
        let logits = model.logits(&batches(1)[0], false).unwrap();
        assert_eq!(logits.dtype(), dtype);
        assert_eq!(logits.dim(D::Minus1).unwrap(), cfg().vocab);
    }
}

#[test]
fn training_resumes_bit_for_bit() {
    const N: usize = 4;
    let whole = Gpt::init(&cfg(), &Init::new(SEED)).unwrap();
    let mut opt = AdamW::for_model(&whole, adamw()).unwrap();
    let uninterrupted = train(&whole, &mut opt, 0..2 * N);
    assert_ne!(uninterrupted[0], uninterrupted[2 * N - 1], "it trains");
    assert_eq!(
        whole.head_weight().id(),
        whole.token_embedding().id(),
        "training keeps the tie"
    );

    let dir = tempfile::tempdir().unwrap();
    let (model, provenance) = init_with_provenance::<Gpt>(&cfg(), &Init::new(SEED)).unwrap();
    let mut opt = AdamW::for_model(&model, adamw()).unwrap();
    let first = train(&model, &mut opt, 0..N);
    let metadata = Metadata::new(Some(SEED), Gpt::MODEL_VERSION, provenance);
    checkpoint::save_model(&dir.path().join("gpt.safetensors"), &model, &metadata).unwrap();
    opt.save(&dir.path().join("adamw.safetensors")).unwrap();

    let model: Gpt =
        checkpoint::load_model(&dir.path().join("gpt.safetensors"), &cfg(), DType::F32, &Device::Cpu).unwrap();
    let mut opt = AdamW::for_model(&model, adamw()).unwrap();
    opt.load_state(&dir.path().join("adamw.safetensors")).unwrap();
    let second = train(&model, &mut opt, N..2 * N);
    assert_eq!([first, second].concat(), uninterrupted);
    assert_eq!(bits(&model), bits(&whole));
}
