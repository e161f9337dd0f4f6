//! A reproducible training run: an MLP with keyed dropout, trained with AdamW on
//! deterministic synthetic data in keyed order. Two runs give bit-identical loss
//! curves, and so does a model with one more (unused, opted-out) parameter.

use candle_core::{DType, Device, Tensor};
use candle_nn::Optimizer;
use reproducible::generate::generate;
use reproducible::model::ModelExt;
use reproducible::prelude::*;
use reproducible::scheme::normal;
use reproducible::shuffle::permutation;
use reproducible::stream::Stream;

/// Sizes of the run.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Seed of parameters, dropout masks, data and data order.
    pub seed: u64,
    /// Input features.
    pub dim: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Dropout probability.
    pub drop: f32,
    /// Number of training examples.
    pub examples: usize,
    /// Examples per step.
    pub batch: usize,
    /// Optimisation steps.
    pub steps: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            dim: 16,
            hidden: 64,
            drop: 0.1,
            examples: 1024,
            batch: 64,
            steps: 300,
        }
    }
}

/// The model: two hidden layers with keyed dropout.
#[reproducible_model(config = TrainConfig)]
pub struct Mlp {
    #[module(linear(cfg.dim, cfg.hidden))]
    fc1: Linear,
    #[module(dropout(cfg.drop))]
    drop1: KeyedDropout,
    #[module(linear(cfg.hidden, cfg.hidden))]
    fc2: Linear,
    #[module(dropout(cfg.drop))]
    drop2: KeyedDropout,
    #[module(linear(cfg.hidden, 1))]
    head: Linear,
}

#[reproducible::forward]
impl Mlp {
    /// Forward pass at training `step`.
    pub fn forward_t(&self, x: &Tensor, step: u64, train: bool) -> Result<Tensor> {
        let h = self.drop1.forward_at(&self.fc1.forward(x)?.relu()?, step, train)?;
        let h = self.drop2.forward_at(&self.fc2.forward(&h)?.relu()?, step, train)?;
        self.head.forward(&h)
    }
}

/// The same model with one more parameter that `forward` never reads.
#[reproducible_model(config = TrainConfig)]
pub struct MlpWithUnused {
    #[param(shape = [cfg.hidden], init = normal(0.0, 1.0), unused = "added to show it changes nothing")]
    gamma: Tensor,
    #[module(linear(cfg.dim, cfg.hidden))]
    fc1: Linear,
    #[module(dropout(cfg.drop))]
    drop1: KeyedDropout,
    #[module(linear(cfg.hidden, cfg.hidden))]
    fc2: Linear,
    #[module(dropout(cfg.drop))]
    drop2: KeyedDropout,
    #[module(linear(cfg.hidden, 1))]
    head: Linear,
}

#[reproducible::forward]
impl MlpWithUnused {
    /// Forward pass at training `step`.
    pub fn forward_t(&self, x: &Tensor, step: u64, train: bool) -> Result<Tensor> {
        let h = self.drop1.forward_at(&self.fc1.forward(x)?.relu()?, step, train)?;
        let h = self.drop2.forward_at(&self.fc2.forward(&h)?.relu()?, step, train)?;
        self.head.forward(&h)
    }
}

/// A model the training loop can drive.
pub trait Trainable: ModelExt {
    /// Forward pass at training `step`.
    fn step_forward(&self, x: &Tensor, step: u64) -> Result<Tensor>;
}

impl Trainable for Mlp {
    fn step_forward(&self, x: &Tensor, step: u64) -> Result<Tensor> {
        self.forward_t(x, step, true)
    }
}

impl Trainable for MlpWithUnused {
    fn step_forward(&self, x: &Tensor, step: u64) -> Result<Tensor> {
        self.forward_t(x, step, true)
    }
}

/// Synthetic regression data: inputs N(0, 1) and targets of a fixed random
/// teacher, `tanh(x . w)`, both drawn from keyed streams.
pub fn data(cfg: &TrainConfig) -> Result<(Tensor, Tensor)> {
    let x: Vec<f32> = generate(
        &Stream::new(cfg.seed, "data.inputs", 1),
        &normal(0.0, 1.0),
        &[cfg.examples, cfg.dim],
        None,
    )?;
    let w: Vec<f32> = generate(
        &Stream::new(cfg.seed, "data.teacher", 1),
        &normal(0.0, 0.5),
        &[cfg.dim, 1],
        None,
    )?;
    let x = Tensor::from_vec(x, (cfg.examples, cfg.dim), &Device::Cpu)?;
    let w = Tensor::from_vec(w, (cfg.dim, 1), &Device::Cpu)?;
    let y = x.matmul(&w)?.tanh()?;
    Ok((x, y))
}

/// Trains `model` and returns the loss of every step.
pub fn train<M: Trainable>(model: &M, cfg: &TrainConfig) -> Result<Vec<f32>> {
    let (x, y) = data(cfg)?;
    let params = candle_nn::ParamsAdamW {
        lr: 3e-3,
        ..Default::default()
    };
    let mut opt = candle_nn::AdamW::new(model.trainable_vars()?, params)?;
    let per_epoch = cfg.examples / cfg.batch;
    let mut losses = Vec::with_capacity(cfg.steps);
    let mut order = Vec::new();
    for step in 0..cfg.steps {
        let (epoch, b) = (step / per_epoch, step % per_epoch);
        if b == 0 {
            order = permutation(cfg.seed, "data.train", epoch as u64, cfg.examples);
        }
        let idx: Vec<u32> = order[b * cfg.batch..(b + 1) * cfg.batch]
            .iter()
            .map(|&i| i as u32)
            .collect();
        let idx = Tensor::new(idx.as_slice(), &Device::Cpu)?;
        let (xb, yb) = (x.index_select(&idx, 0)?, y.index_select(&idx, 0)?);
        let loss = model.step_forward(&xb, step as u64)?.sub(&yb)?.sqr()?.mean_all()?;
        opt.backward_step(&loss)?;
        losses.push(loss.to_dtype(DType::F32)?.to_scalar::<f32>()?);
    }
    Ok(losses)
}

/// Builds the model for `cfg` and trains it.
pub fn run(cfg: &TrainConfig, with_unused: bool) -> Result<Vec<f32>> {
    let init = Init::new(cfg.seed);
    if with_unused {
        train(&MlpWithUnused::init(cfg, &init)?, cfg)
    } else {
        train(&Mlp::init(cfg, &init)?, cfg)
    }
}
