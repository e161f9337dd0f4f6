//! The blog's model in a user's crate: build, init, forward, checkpoint.

use candle_core::{DType, Device, Tensor};
use downstream::{Attention, AttentionConfig, Vit, VitConfig};
use reproducible::checkpoint::{self, Metadata};
use reproducible::model::{init_with_provenance, ModelExt};
use reproducible::{kernels, Init};

#[test]
fn a_vit_inits_runs_and_round_trips_through_a_checkpoint() {
    let cfg = VitConfig::tiny();
    let (vit, provenance) = init_with_provenance::<Vit>(&cfg, &Init::new(42)).unwrap();
    let images = Tensor::ones((2, 3, cfg.image, cfg.image), DType::F32, &Device::Cpu).unwrap();
    let logits = vit.forward_t(&images, false).unwrap();
    assert_eq!(logits.dims(), &[2, cfg.classes]);
    let values: Vec<f32> = logits.flatten_all().unwrap().to_vec1().unwrap();
    assert!(values.iter().all(|v| v.is_finite()) && values.iter().any(|&v| v != values[0]));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vit.safetensors");
    checkpoint::save_model(&file, &vit, &Metadata::new(Some(42), Vit::MODEL_VERSION, provenance)).unwrap();
    let loaded: Vit = checkpoint::load_model(&file, &cfg, DType::F32, &Device::Cpu).unwrap();
    let (a, b) = (vit.parameters(), loaded.parameters());
    assert_eq!(a.len(), b.len());
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.path, b.path);
        let bits = |t: &Tensor| -> Vec<u32> {
            t.flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        };
        assert_eq!(
            bits(&a.tensor),
            bits(&b.tensor),
            "{} changed through the checkpoint",
            a.path
        );
    }
    let again: Vec<f32> = loaded
        .forward_t(&images, false)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_eq!(values, again);
}

#[test]
fn the_blog_field_names_are_the_parameter_paths() {
    let cfg = AttentionConfig {
        dim: 16,
        num_heads: 4,
        attn_drop: 0.1,
        proj_drop: 0.1,
    };
    let attn = Attention::init(&cfg, &Init::new(7)).unwrap();
    let paths: Vec<String> = attn.parameters().into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        [
            "qkv.weight",
            "linear.weight",
            "linear.bias",
            "proj.weight",
            "proj.bias",
            "alpha",
            "gamma"
        ]
    );
    let x = Tensor::ones((2, 5, 16), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(attn.forward_t(&x, true).unwrap().dims(), &[2, 5, 16]);
}

#[test]
fn generation_uses_the_path_reproducible_kernel_names() {
    // CI runs this package once per supported path with the variable set.
    let path = kernels::current().unwrap();
    match std::env::var(kernels::ENV) {
        Ok(name) if !name.is_empty() && name != "auto" => assert_eq!(path.name(), name),
        _ => assert_eq!(path, kernels::Path::detect()),
    }
}
