//! `nn.BatchNorm1d/2d/3d`: [`batch_norm`].

use candle_core::Tensor;
use candle_nn::BatchNorm;

use super::{check_eps, config_error};
use crate::error::Result;
use crate::model::{Ctx, Model, ParamSpec};
use crate::scheme::presets;
use crate::scheme::Scheme;

/// How to build a [`BatchNorm`] layer (`nn.BatchNorm1d/2d/3d`, which differ
/// only in the rank they accept): trainable `weight` and `bias` `[num_features]`
/// when affine, and frozen buffers `running_mean` and `running_var`
/// `[num_features]`.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNormSpec {
    /// Number of channels (dimension 1 of the input).
    pub num_features: usize,
    /// Added to the variance; PyTorch's default is 1e-5.
    pub eps: f64,
    /// Weight of the new batch statistics in the running averages; PyTorch's
    /// default is 0.1.
    pub momentum: f64,
    /// Whether the layer has `weight` and `bias` (`affine=False` when false).
    pub affine: bool,
    /// Scheme of `weight`; PyTorch's is [`presets::norm_weight`], ones.
    pub weight_init: Scheme,
    /// Scheme of `bias`; PyTorch's is [`presets::norm_bias`], zeros.
    pub bias_init: Scheme,
}

/// `nn.BatchNorm2d(num_features)` (or 1d, 3d): eps 1e-5, momentum 0.1, affine.
pub fn batch_norm(num_features: usize) -> BatchNormSpec {
    BatchNormSpec {
        num_features,
        eps: 1e-5,
        momentum: 0.1,
        affine: true,
        weight_init: presets::norm_weight(),
        bias_init: presets::norm_bias(),
    }
}

impl BatchNormSpec {
    /// Sets eps.
    #[must_use]
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the momentum of the running statistics.
    #[must_use]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Drops `weight` and `bias` (`affine=False`).
    #[must_use]
    pub fn no_affine(mut self) -> Self {
        self.affine = false;
        self
    }

    /// Overrides the scheme of `weight` (ignored when not affine).
    #[must_use]
    pub fn weight_init(mut self, scheme: Scheme) -> Self {
        self.weight_init = scheme;
        self
    }

    /// Overrides the scheme of `bias` (ignored when not affine).
    #[must_use]
    pub fn bias_init(mut self, scheme: Scheme) -> Self {
        self.bias_init = scheme;
        self
    }
}

impl Model for BatchNorm {
    type Config = BatchNormSpec;

    fn build(config: &BatchNormSpec, ctx: &Ctx) -> Result<Self> {
        check_eps(ctx, "batch_norm", config.eps)?;
        if !(0.0..=1.0).contains(&config.momentum) {
            return Err(config_error(
                ctx.path(),
                "batch_norm",
                format!("momentum must be in [0, 1], got {}", config.momentum),
            ));
        }
        let n = config.num_features;
        let affine = if config.affine {
            let weight = ctx.param("weight", &ParamSpec::new(vec![n], config.weight_init))?;
            let bias = ctx.param("bias", &ParamSpec::new(vec![n], config.bias_init))?;
            Some((weight, bias))
        } else {
            None
        };
        let running_mean = ctx.param(
            "running_mean",
            &ParamSpec::new(vec![n], presets::batch_norm_running_mean()).frozen(),
        )?;
        let running_var = ctx.param(
            "running_var",
            &ParamSpec::new(vec![n], presets::batch_norm_running_var()).frozen(),
        )?;
        let (eps, momentum) = (config.eps, config.momentum);
        let layer = match affine {
            Some((weight, bias)) => {
                BatchNorm::new_with_momentum(n, running_mean, running_var, weight, bias, eps, momentum)
            }
            None => BatchNorm::new_no_bias_with_momentum(n, running_mean, running_var, eps, momentum),
        };
        layer.map_err(|e| config_error(ctx.path(), "batch_norm", e))
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        if let Some((weight, bias)) = self.weight_and_bias() {
            f("weight", weight, true);
            f("bias", bias, true);
        }
        // Buffers: `forward_train` updates them in place, an optimizer must not.
        f("running_mean", self.running_mean(), false);
        f("running_var", self.running_var(), false);
    }
}
