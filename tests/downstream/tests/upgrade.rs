//! Code written for the former names (CHANGELOG.md) still builds, and means
//! what it meant: the deprecated names are the same items, and the old
//! explicit-step `KeyedDropout::forward_t(x, step, train)` still draws the
//! mask of the step passed in, not of the model's step counter.
#![allow(deprecated)]

use candle_core::{DType, Device, Tensor};
use candle_nn::ModuleT;
use reproducible::layers::{DropoutConfig, EmbeddingConfig, LinearConfig};
use reproducible::prelude::*;

#[reproducible_model(config = usize, version = 1)]
struct Old {
    #[module(linear(*cfg, *cfg))]
    fc: Linear,
    #[module(dropout(0.5))]
    drop: KeyedDropout,
}

#[reproducible::forward]
impl Old {
    fn forward_t(&self, x: &Tensor, step: u64, train: bool) -> candle_core::Result<Tensor> {
        // Last week's call, unchanged.
        self.drop.forward_t(&self.fc.forward(x)?, step, train)
    }
}

fn values(t: &Tensor) -> Vec<u32> {
    t.flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .into_iter()
        .map(f32::to_bits)
        .collect()
}

#[test]
fn the_old_explicit_step_dropout_call_draws_the_step_passed_in() {
    let model = Old::init(&16, &reproducible::init::Init::new(5)).unwrap();
    let x = Tensor::ones((4, 16), DType::F32, &Device::Cpu).unwrap();
    let h = model.fc.forward(&x).unwrap();
    // The model's step counter is 0; the call passes 7.
    let old = values(&model.forward_t(&x, 7, true).unwrap());
    assert_eq!(old, values(&model.drop.forward_at(&h, 7, true).unwrap()));
    assert_ne!(old, values(&ModuleT::forward_t(&model.drop, &h, true).unwrap()));
    model.set_step(7);
    assert_eq!(old, values(&h.apply_t(&model.drop, true).unwrap()));
    assert_eq!(values(&model.forward_t(&x, 7, false).unwrap()), values(&h));
}

#[test]
fn the_former_names_are_the_same_items() {
    let init: reproducible::init::Init = reproducible::Init::new(3).set_dtype(DType::F64);
    assert_eq!(init.get_dtype(), init.dtype());
    assert!(matches!(init.get_device(), Device::Cpu));
    let _: LinearConfig = reproducible::layers::linear(2, 3);
    let _: EmbeddingConfig = reproducible::layers::embedding(2, 3);
    let _: DropoutConfig = reproducible::layers::dropout(0.1);
    let _: reproducible::Tensor = Tensor::zeros(1, reproducible::DType::F32, &reproducible::Device::Cpu).unwrap();
    assert_eq!(reproducible::SPEC_VERSION, reproducible::stream::SPEC_VERSION);

    let stream = reproducible::Stream::new(1, "w", 1);
    let scheme = reproducible::scheme::normal(0.0, 1.0);
    let old: Vec<f32> = reproducible::generate(&stream, &scheme, &[3, 4], None).unwrap();
    let new: Vec<f32> = reproducible::generate::generate(&stream, &scheme, &[3, 4], None).unwrap();
    assert_eq!(old, new);
    assert_eq!(
        reproducible::presets::linear_bias(4),
        reproducible::scheme::presets::linear_bias(4)
    );
}
