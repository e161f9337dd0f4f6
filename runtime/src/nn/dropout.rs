//! Dropout whose masks come from keyed runtime streams: (seed, layer path, step).
//!
//! candle-nn's `Dropout` draws its masks from the device generator in call order,
//! so adding a layer, or shuffling data, changes every later mask. A
//! [`KeyedDropout`] mask depends only on the seed, the layer's path and the
//! training step (SPEC.md section 10), so a training run is reproducible end to
//! end and one layer's masks never move another's.
//!
//! The step comes either as an argument ([`KeyedDropout::forward_at`]) or from
//! the layer's step counter, which [`Model::set_step`] sets for every keyed
//! dropout of a model at once; candle's [`ModuleT`] (`x.apply_t(&drop, train)`)
//! reads the counter.
//!
//! ```
//! use reproducible::dropout::{dropout, KeyedDropout};
//! use candle_core::{DType, Device, Tensor};
//! use candle_nn::ModuleT;
//! use reproducible::model::Ctx;
//! use reproducible::{Init, Model};
//! let init = Init::new(1);
//! let drop = KeyedDropout::build(&dropout(0.5), &Ctx::init(&init).child("blocks.0.drop"))?;
//! let x = Tensor::ones((4, 8), DType::F32, &Device::Cpu)?;
//! let a = drop.forward_at(&x, 7, true)?;
//! assert_eq!(a.to_vec2::<f32>()?, drop.forward_at(&x, 7, true)?.to_vec2::<f32>()?);
//! assert_ne!(a.to_vec2::<f32>()?, drop.forward_at(&x, 8, true)?.to_vec2::<f32>()?);
//! assert_eq!(drop.forward_at(&x, 7, false)?.to_vec2::<f32>()?, x.to_vec2::<f32>()?);
//! // Through candle's trait, at the step the model was set to.
//! drop.set_step(7);
//! assert_eq!(x.apply_t(&drop, true)?.to_vec2::<f32>()?, a.to_vec2::<f32>()?);
//! # Ok::<(), reproducible::Error>(())
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use candle_core::{DType, Tensor};
use candle_nn::ModuleT;

use crate::error::{Error, Result};
use crate::generate::generate;
use crate::model::{Ctx, Model};
use crate::scheme::uniform;
use crate::stream::Stream;

/// The config of a [`KeyedDropout`]: the drop probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutSpec {
    /// Probability of zeroing an element, in [0, 1).
    pub p: f32,
}

/// `nn.Dropout(p)` with keyed masks.
pub fn dropout(p: f32) -> DropoutSpec {
    DropoutSpec { p }
}

/// A dropout layer whose mask at training step `s` is drawn from the runtime
/// stream `(seed, path, s)`: element `i` is kept when its uniform draw is `>= p`,
/// and kept elements are scaled by `1 / (1 - p)`.
#[derive(Debug)]
pub struct KeyedDropout {
    p: f32,
    seed: u64,
    path: String,
    /// The step [`ModuleT::forward_t`] uses; set by [`Model::set_step`].
    step: AtomicU64,
}

impl Clone for KeyedDropout {
    fn clone(&self) -> Self {
        Self {
            p: self.p,
            seed: self.seed,
            path: self.path.clone(),
            step: AtomicU64::new(self.step()),
        }
    }
}

impl KeyedDropout {
    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// The path its masks are keyed by.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The seed its masks are keyed by.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The training step [`ModuleT::forward_t`] draws the mask of (0 until set).
    pub fn step(&self) -> u64 {
        self.step.load(Ordering::Relaxed)
    }

    /// The keep mask (0 or `1 / (1 - p)`, in f32) for an input of `shape` at `step`.
    pub fn mask(&self, shape: &[usize], step: u64) -> Result<Vec<f32>> {
        let draws: Vec<f32> = generate(
            &Stream::runtime(self.seed, &self.path, step),
            &uniform(0.0, 1.0),
            shape,
            None,
        )?;
        let scale = 1.0 / (1.0 - self.p);
        Ok(draws
            .into_iter()
            .map(|u| if u >= self.p { scale } else { 0.0 })
            .collect())
    }

    /// Applies dropout at training `step` when `train` is true; the identity
    /// otherwise. Forward code calls it, so it returns candle's `Result`.
    pub fn forward_at(&self, x: &Tensor, step: u64, train: bool) -> candle_core::Result<Tensor> {
        if !train || self.p == 0.0 || x.elem_count() == 0 {
            return Ok(x.clone());
        }
        let mask = Tensor::from_vec(self.mask(x.dims(), step)?, x.dims(), x.device())?;
        let mask = if x.dtype() == DType::F32 {
            mask
        } else {
            mask.to_dtype(x.dtype())?
        };
        x.mul(&mask)
    }

    /// The explicit-step form under its former name. It stays an inherent
    /// method so that a call written for it keeps its meaning (the mask of the
    /// `step` passed in): inherent methods come before [`ModuleT::forward_t`],
    /// which draws at the step [`Model::set_step`] set. Call
    /// [`KeyedDropout::forward_at`], or `x.apply_t(&dropout, train)` for the
    /// model's step.
    #[deprecated(
        since = "0.1.0",
        note = "renamed `forward_at(x, step, train)`; `x.apply_t(&dropout, train)` draws at the step `Model::set_step` set"
    )]
    pub fn forward_t(&self, x: &Tensor, step: u64, train: bool) -> candle_core::Result<Tensor> {
        self.forward_at(x, step, train)
    }
}

impl Model for KeyedDropout {
    type Config = DropoutSpec;

    fn build(config: &DropoutSpec, ctx: &Ctx) -> Result<Self> {
        if !(0.0..1.0).contains(&config.p) {
            return Err(Error::Config {
                path: ctx.path().to_owned(),
                layer: "dropout".to_owned(),
                reason: format!("p must be in [0, 1), got {}", config.p),
            });
        }
        let Some(seed) = ctx.seed() else {
            return Err(Error::Config {
                path: ctx.path().to_owned(),
                layer: "dropout".to_owned(),
                reason: "its masks are keyed by the run's seed, and this context has none: load with \
                         `checkpoint::load_model` (it restores the seed the checkpoint records), or build with \
                         `Ctx::load(&vb).with_seed(seed)`"
                    .to_owned(),
            });
        };
        Ok(Self {
            p: config.p,
            seed,
            path: ctx.path().to_owned(),
            step: AtomicU64::new(0),
        })
    }

    fn visit_params<'a>(&'a self, _f: &mut dyn FnMut(&str, &'a Tensor, bool)) {}

    fn set_step(&self, step: u64) {
        self.step.store(step, Ordering::Relaxed);
    }
}

/// candle's train-flag trait: dropout at the step last set with
/// [`Model::set_step`], so `x.apply_t(&drop, train)` and candle code written
/// for `candle_nn::Dropout` work unchanged.
impl ModuleT for KeyedDropout {
    fn forward_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        self.forward_at(xs, self.step(), train)
    }
}
