//! `nn.LayerNorm` and `nn.RMSNorm`: [`layer_norm`], [`rms_norm`], and layers
//! that train.
//!
//! candle-nn's `LayerNorm` and `RmsNorm` run fused kernels on contiguous
//! inputs, and those kernels record no backward pass: a loss computed through
//! them gives no gradient to their weights nor to anything before them, and
//! no error says so. [`LayerNorm`] and [`RmsNorm`] here use the fused kernels
//! when no gradient is tracked (plain tensors: inference, a loaded
//! checkpoint), and the same arithmetic as differentiable tensor ops when the
//! input or a weight tracks gradients (a `Var`: training). The two agree to
//! single-precision rounding (the fused kernel takes the variance in one pass).
//! candle-nn's types can still be built from the same specs.
//!
//! ```
//! use candle_core::{DType, Device, Module, Tensor};
//! use reproducible::layers::{layer_norm, LayerNorm};
//! use reproducible::model::Ctx;
//! use reproducible::{Init, Model};
//! let init = Init::new(0);
//! let ln = LayerNorm::build(&layer_norm(4), &Ctx::init(&init))?; // trainable: its weights are `Var`s
//! let x = candle_core::Var::from_tensor(&Tensor::new(&[[1f32, 2., 3., 5.]], &Device::Cpu)?)?;
//! let grads = ln.forward(&x)?.sqr()?.sum_all()?.backward()?;
//! assert!(grads.get(x.as_tensor()).is_some() && grads.get(ln.weight()).is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use candle_core::{DType, Module, Tensor, D};

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

/// `nn.LayerNorm` over the last dimension, differentiable when training:
/// candle-nn's fused kernel when no gradient is tracked, differentiable
/// tensor ops when the input or a weight is a `Var`.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Option<Tensor>,
    eps: f64,
}

impl LayerNorm {
    /// A layer norm with these parameters.
    pub fn new(weight: Tensor, bias: Option<Tensor>, eps: f64) -> Self {
        Self { weight, bias, eps }
    }

    /// What `candle_nn::layer_norm(dim, eps, vb)` builds, as a layer that
    /// trains: `weight` and `bias` `[dim]` from `vb`, with candle's hints
    /// (ones and zeros). The drop-in for candle code that is trained.
    pub fn from_vb(dim: usize, eps: f64, vb: candle_nn::VarBuilder) -> candle_core::Result<Self> {
        let weight = vb.get_with_hints(dim, "weight", candle_nn::Init::Const(1.0))?;
        let bias = vb.get_with_hints(dim, "bias", candle_nn::Init::Const(0.0))?;
        Ok(Self::new(weight, Some(bias), eps))
    }

    /// The scale, `[dim]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The shift, `[dim]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// Added to the variance.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    fn tracked(&self, x: &Tensor) -> bool {
        x.track_op() || self.weight.track_op() || self.bias.as_ref().is_some_and(Tensor::track_op)
    }
}

/// `x` in the dtype normalisation is computed in (f32 for half types).
fn widened(x: &Tensor) -> candle_core::Result<Tensor> {
    match x.dtype() {
        DType::F16 | DType::BF16 => x.to_dtype(DType::F32),
        _ => Ok(x.clone()),
    }
}

/// `x / sqrt(mean(x^2) + eps)` over the last dimension, in differentiable ops.
fn normalised(x: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    let n = x.dim(D::Minus1)? as f64;
    let mean_square = (x.sqr()?.sum_keepdim(D::Minus1)? / n)?;
    x.broadcast_div(&(mean_square + eps)?.sqrt()?)
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        if !self.tracked(x) {
            let fused = match &self.bias {
                Some(b) => candle_nn::LayerNorm::new(self.weight.clone(), b.clone(), self.eps),
                None => candle_nn::LayerNorm::new_no_bias(self.weight.clone(), self.eps),
            };
            return fused.forward(x);
        }
        let wide = widened(x)?;
        let n = wide.dim(D::Minus1)? as f64;
        let centred = wide.broadcast_sub(&(wide.sum_keepdim(D::Minus1)? / n)?)?;
        let y = normalised(&centred, self.eps)?
            .to_dtype(x.dtype())?
            .broadcast_mul(&self.weight)?;
        match &self.bias {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }
}

impl Model for LayerNorm {
    type Config = LayerNormSpec;

    fn build(config: &LayerNormSpec, ctx: &Ctx) -> Result<Self> {
        check_eps(ctx, "layer_norm", config.eps)?;
        let weight = ctx.param("weight", &ParamSpec::new(vec![config.dim], config.weight_init))?;
        let bias = if config.bias {
            Some(ctx.param("bias", &ParamSpec::new(vec![config.dim], config.bias_init))?)
        } else {
            None
        };
        Ok(LayerNorm::new(weight, bias, config.eps))
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        f("weight", &self.weight, true);
        if let Some(bias) = &self.bias {
            f("bias", bias, true);
        }
    }
}

/// candle-nn's own layer norm from the same spec: the fused kernel always
/// (inference only: that kernel records no backward pass).
impl Model for candle_nn::LayerNorm {
    type Config = LayerNormSpec;

    fn build(config: &LayerNormSpec, ctx: &Ctx) -> Result<Self> {
        let ours = LayerNorm::build(config, ctx)?;
        Ok(match ours.bias {
            Some(b) => candle_nn::LayerNorm::new(ours.weight, b, ours.eps),
            None => candle_nn::LayerNorm::new_no_bias(ours.weight, ours.eps),
        })
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

/// `nn.RMSNorm` over the last dimension, differentiable when training:
/// candle-nn's fused kernel when no gradient is tracked, differentiable
/// tensor ops when the input or a weight is a `Var`.
#[derive(Clone, Debug)]
pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    /// An RMS norm with this scale.
    pub fn new(weight: Tensor, eps: f64) -> Self {
        Self { weight, eps }
    }

    /// What `candle_nn::rms_norm(dim, eps, vb)` builds, as a layer that
    /// trains: `weight` `[dim]` from `vb`, hinted ones as candle does.
    pub fn from_vb(dim: usize, eps: f64, vb: candle_nn::VarBuilder) -> candle_core::Result<Self> {
        Ok(Self::new(
            vb.get_with_hints(dim, "weight", candle_nn::Init::Const(1.0))?,
            eps,
        ))
    }

    /// The scale, `[dim]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// Added to the mean square.
    pub fn eps(&self) -> f64 {
        self.eps
    }
}

impl Module for RmsNorm {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        if !(x.track_op() || self.weight.track_op()) {
            return candle_nn::RmsNorm::new(self.weight.clone(), self.eps).forward(x);
        }
        normalised(&widened(x)?, self.eps)?
            .to_dtype(x.dtype())?
            .broadcast_mul(&self.weight)
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
        f("weight", &self.weight, true);
    }
}

/// candle-nn's own RMS norm from the same spec: the fused kernel always
/// (inference only: that kernel records no backward pass).
impl Model for candle_nn::RmsNorm {
    type Config = RmsNormSpec;

    fn build(config: &RmsNormSpec, ctx: &Ctx) -> Result<Self> {
        let ours = RmsNorm::build(config, ctx)?;
        Ok(candle_nn::RmsNorm::new(ours.weight, ours.eps))
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        f("weight", self.weight(), true);
    }
}
