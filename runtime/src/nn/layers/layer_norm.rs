//! `nn.LayerNorm` and `nn.RMSNorm`: [`layer_norm`], [`rms_norm`].

use candle_core::Tensor;
use candle_nn::{LayerNorm, RmsNorm};

use super::check_eps;
use crate::error::Result;
use crate::model::{Ctx, Model, ParamSpec};
use crate::scheme::presets;
use crate::scheme::Scheme;

/// How to build a [`LayerNorm`] layer (`nn.LayerNorm` over the last dimension):
/// `weight` `[dim]` and an optional `bias` `[dim]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNormSpec {
    /// Size of the normalised (last) dimension.
    pub dim: usize,
    /// Added to the variance; PyTorch's default is 1e-5.
    pub eps: f64,
    /// Whether the layer has a bias (`nn.LayerNorm(bias=False)` when false).
    pub bias: bool,
    /// Scheme of `weight`; PyTorch's is [`presets::norm_weight`], ones.
    pub weight_init: Scheme,
    /// Scheme of `bias`; PyTorch's is [`presets::norm_bias`], zeros.
    pub bias_init: Scheme,
}

/// `nn.LayerNorm(dim)`: eps 1e-5, with a bias.
pub fn layer_norm(dim: usize) -> LayerNormSpec {
    LayerNormSpec {
        dim,
        eps: 1e-5,
        bias: true,
        weight_init: presets::norm_weight(),
        bias_init: presets::norm_bias(),
    }
}

impl LayerNormSpec {
    /// Sets eps.
    #[must_use]
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Drops the bias.
    #[must_use]
    pub fn no_bias(mut self) -> Self {
        self.bias = false;
        self
    }

    /// Overrides the scheme of `weight`.
    #[must_use]
    pub fn weight_init(mut self, scheme: Scheme) -> Self {
        self.weight_init = scheme;
        self
    }

    /// Overrides the scheme of `bias` (ignored without a bias).
    #[must_use]
    pub fn bias_init(mut self, scheme: Scheme) -> Self {
        self.bias_init = scheme;
        self
    }
}

impl Model for LayerNorm {
    type Config = LayerNormSpec;

    fn build(config: &LayerNormSpec, ctx: &Ctx) -> Result<Self> {
        check_eps(ctx, "layer_norm", config.eps)?;
        let weight = ctx.param("weight", &ParamSpec::new(vec![config.dim], config.weight_init))?;
        if config.bias {
            let bias = ctx.param("bias", &ParamSpec::new(vec![config.dim], config.bias_init))?;
            Ok(LayerNorm::new(weight, bias, config.eps))
        } else {
            Ok(LayerNorm::new_no_bias(weight, config.eps))
        }
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        f("weight", self.weight(), true);
        if let Some(bias) = self.bias() {
            f("bias", bias, true);
        }
    }
}

/// How to build an [`RmsNorm`] layer (`nn.RMSNorm` over the last dimension):
/// `weight` `[dim]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RmsNormSpec {
    /// Size of the normalised (last) dimension.
    pub dim: usize,
    /// Added to the mean square. Defaults to 1e-6, the value of Llama-style
    /// models and of most checkpoints that use RMSNorm; PyTorch's `eps=None`
    /// means the input dtype's machine epsilon, which a layer built before it
    /// sees its input cannot know.
    pub eps: f64,
    /// Scheme of `weight`; PyTorch's is [`presets::norm_weight`], ones.
    pub weight_init: Scheme,
}

/// `nn.RMSNorm(dim, eps=1e-6)`.
pub fn rms_norm(dim: usize) -> RmsNormSpec {
    RmsNormSpec {
        dim,
        eps: 1e-6,
        weight_init: presets::norm_weight(),
    }
}

impl RmsNormSpec {
    /// Sets eps.
    #[must_use]
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Overrides the scheme of `weight`.
    #[must_use]
    pub fn weight_init(mut self, scheme: Scheme) -> Self {
        self.weight_init = scheme;
        self
    }
}

impl Model for RmsNorm {
    type Config = RmsNormSpec;

    fn build(config: &RmsNormSpec, ctx: &Ctx) -> Result<Self> {
        check_eps(ctx, "rms_norm", config.eps)?;
        let weight = ctx.param("weight", &ParamSpec::new(vec![config.dim], config.weight_init))?;
        Ok(RmsNorm::new(weight, config.eps))
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        f("weight", self.weight(), true);
    }
}
