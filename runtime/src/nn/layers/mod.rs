//! candle-nn layers as reproducible modules, initialised as PyTorch does.
//!
//! Each layer has a config built by a snake_case function ([`linear`],
//! [`conv2d`], [`layer_norm`], ...) whose defaults are PyTorch's (the schemes of
//! [`crate::presets`]), builder methods to override them (`.weight_init(..)`,
//! `.bias_init(..)`, `.eps(..)`, ...), and an `impl Model` for the layer type, so
//! the layer can be a field of a reproducible model or be built on its own with
//! [`Model::build`]. Parameter names are the ones candle-nn's own constructors
//! request (`weight`, `bias`, `running_mean`, `weight_ih_l0`, ...), which are
//! PyTorch's `state_dict` names, so [`Ctx::load`] reads candle and Hugging Face
//! checkpoints as they are.
//!
//! The layer types are candle-nn's ([`Linear`], [`Conv1d`], [`Conv2d`],
//! [`Embedding`], [`LayerNorm`], [`RmsNorm`], [`BatchNorm`]), re-exported here,
//! except three that keep their tensors private in candle-nn and are wrapped:
//! [`GroupNorm`], [`Lstm`] and [`Gru`].
//!
//! Config names: a config is `<Layer>Config` ([`LinearConfig`]) unless candle-nn
//! already has an options struct for that layer (`candle_nn::Conv1dConfig`,
//! `LayerNormConfig`, `BatchNormConfig`, `LSTMConfig`, `GRUConfig`); ours is then
//! `<Layer>Spec` ([`Conv1dSpec`], [`LayerNormSpec`], ...), so both can be in
//! scope without an alias and neither is mistaken for the other.
//!
//! ```
//! use candle_nn::Module;
//! use reproducible::layers::{layer_norm, linear, LayerNorm, Linear};
//! use reproducible::scheme::zeros;
//! use reproducible::{Ctx, DType, Device, Init, Model, ModelExt, Tensor};
//!
//! let init = Init::new(0);
//! let block = Ctx::init(&init).child("blocks.0");
//! let fc = Linear::build(&linear(4, 8).bias_init(zeros()), &block.child("fc"))?;
//! let ln = LayerNorm::build(&layer_norm(8), &block.child("ln"))?;
//!
//! let names: Vec<String> = fc.parameters().into_iter().map(|p| p.path).collect();
//! assert_eq!(names, ["weight", "bias"]);
//! // nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in)); the bias was overridden.
//! let w = fc.weight().flatten_all()?.to_vec1::<f32>()?;
//! assert!(w.iter().all(|v| v.abs() <= 0.5));
//! assert_eq!(fc.bias().unwrap().sum_all()?.to_scalar::<f32>()?, 0.0);
//!
//! let x = Tensor::ones((2, 4), DType::F32, &Device::Cpu)?;
//! assert_eq!(ln.forward(&fc.forward(&x)?)?.dims(), &[2, 8]);
//! # Ok::<(), reproducible::Error>(())
//! ```

use std::collections::HashMap;

use candle_core::{DType, Device, Module, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::VarBuilder;

pub use crate::dropout::{dropout, DropoutConfig, KeyedDropout};
pub use candle_nn::rnn::{GRUState, LSTMState};
pub use candle_nn::{BatchNorm, Conv1d, Conv2d, Embedding, LayerNorm, Linear, RmsNorm, RNN};

use crate::error::{Error, Result};
use crate::model::{Ctx, Model, ParamSpec};
use crate::presets;
use crate::scheme::Scheme;

/// A configuration mistake in a layer (zero groups, negative eps), as an error
/// naming `path`, or the layer alone when it is built at the root.
fn config_error(path: &str, layer: &str, reason: impl std::fmt::Display) -> Error {
    Error::Config {
        path: path.to_owned(),
        layer: layer.to_owned(),
        reason: reason.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Linear

/// How to build a [`Linear`] layer (`nn.Linear`): `weight` `[out, in]` and an
/// optional `bias` `[out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearConfig {
    /// Input features.
    pub in_dim: usize,
    /// Output features.
    pub out_dim: usize,
    /// Whether the layer has a bias.
    pub bias: bool,
    /// Scheme of `weight`; PyTorch's is [`presets::linear_weight`].
    pub weight_init: Scheme,
    /// Scheme of `bias`; `None` is PyTorch's, [`presets::linear_bias`] of `in_dim`
    /// (worked out at build time, so it follows a changed `in_dim`).
    pub bias_init: Option<Scheme>,
}

/// `nn.Linear(in_dim, out_dim)`: a linear layer with a bias.
pub fn linear(in_dim: usize, out_dim: usize) -> LinearConfig {
    LinearConfig {
        in_dim,
        out_dim,
        bias: true,
        weight_init: presets::linear_weight(),
        bias_init: None,
    }
}

/// `nn.Linear(in_dim, out_dim, bias=False)`.
pub fn linear_no_bias(in_dim: usize, out_dim: usize) -> LinearConfig {
    linear(in_dim, out_dim).no_bias()
}

impl LinearConfig {
    /// Overrides the scheme of `weight`.
    #[must_use]
    pub fn weight_init(mut self, scheme: Scheme) -> Self {
        self.weight_init = scheme;
        self
    }

    /// Overrides the scheme of `bias` (ignored without a bias).
    #[must_use]
    pub fn bias_init(mut self, scheme: Scheme) -> Self {
        self.bias_init = Some(scheme);
        self
    }

    /// Drops the bias.
    #[must_use]
    pub fn no_bias(mut self) -> Self {
        self.bias = false;
        self
    }
}

impl Model for Linear {
    type Config = LinearConfig;

    fn build(config: &LinearConfig, ctx: &Ctx) -> Result<Self> {
        let weight = ctx.param(
            "weight",
            &ParamSpec::new(vec![config.out_dim, config.in_dim], config.weight_init),
        )?;
        let bias = if config.bias {
            let scheme = config.bias_init.unwrap_or_else(|| presets::linear_bias(config.in_dim));
            Some(ctx.param("bias", &ParamSpec::new(vec![config.out_dim], scheme))?)
        } else {
            None
        };
        Ok(Linear::new(weight, bias))
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        f("weight", self.weight(), true);
        if let Some(bias) = self.bias() {
            f("bias", bias, true);
        }
    }
}

// ---------------------------------------------------------------------------
// Convolutions

/// How to build a [`Conv1d`] layer (`nn.Conv1d`): `weight`
/// `[out, in / groups, kernel]` and an optional `bias` `[out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv1dSpec {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel width.
    pub kernel_size: usize,
    /// Padding, stride, dilation and groups, handed to candle-nn as they are.
    pub options: candle_nn::Conv1dConfig,
    /// Whether the layer has a bias.
    pub bias: bool,
    /// Scheme of `weight`; PyTorch's is [`presets::conv_weight`].
    pub weight_init: Scheme,
    /// Scheme of `bias`; `None` is PyTorch's, [`presets::conv_bias`] of
    /// `in_channels / groups * kernel_size` (worked out at build time).
    pub bias_init: Option<Scheme>,
}

/// `nn.Conv1d(in_channels, out_channels, kernel_size)`: stride 1, no padding,
/// dilation 1, one group, with a bias.
pub fn conv1d(in_channels: usize, out_channels: usize, kernel_size: usize) -> Conv1dSpec {
    Conv1dSpec {
        in_channels,
        out_channels,
        kernel_size,
        options: candle_nn::Conv1dConfig::default(),
        bias: true,
        weight_init: presets::conv_weight(),
        bias_init: None,
    }
}

/// How to build a [`Conv2d`] layer (`nn.Conv2d` with a square kernel): `weight`
/// `[out, in / groups, kernel, kernel]` and an optional `bias` `[out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2dSpec {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel_size: usize,
    /// Padding, stride, dilation and groups, handed to candle-nn as they are.
    pub options: candle_nn::Conv2dConfig,
    /// Whether the layer has a bias.
    pub bias: bool,
    /// Scheme of `weight`; PyTorch's is [`presets::conv_weight`].
    pub weight_init: Scheme,
    /// Scheme of `bias`; `None` is PyTorch's, [`presets::conv_bias`] of
    /// `in_channels / groups * kernel_size²` (worked out at build time).
    pub bias_init: Option<Scheme>,
}

/// `nn.Conv2d(in_channels, out_channels, kernel_size)`: stride 1, no padding,
/// dilation 1, one group, with a bias.
pub fn conv2d(in_channels: usize, out_channels: usize, kernel_size: usize) -> Conv2dSpec {
    Conv2dSpec {
        in_channels,
        out_channels,
        kernel_size,
        options: candle_nn::Conv2dConfig::default(),
        bias: true,
        weight_init: presets::conv_weight(),
        bias_init: None,
    }
}

macro_rules! conv_builders {
    ($spec:ident) => {
        impl $spec {
            /// Sets the zero padding on each side.
            #[must_use]
            pub fn padding(mut self, padding: usize) -> Self {
                self.options.padding = padding;
                self
            }

            /// Sets the stride.
            #[must_use]
            pub fn stride(mut self, stride: usize) -> Self {
                self.options.stride = stride;
                self
            }

            /// Sets the dilation.
            #[must_use]
            pub fn dilation(mut self, dilation: usize) -> Self {
                self.options.dilation = dilation;
                self
            }

            /// Sets the number of groups; it must divide both channel counts.
            #[must_use]
            pub fn groups(mut self, groups: usize) -> Self {
                self.options.groups = groups;
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
                self.bias_init = Some(scheme);
                self
            }
        }
    };
}

conv_builders!(Conv1dSpec);
conv_builders!(Conv2dSpec);

/// Builds a convolution's `weight` `[out, in / groups, kernel..]` and `bias`,
/// checking the groups first as PyTorch does, so a bad config is an error and
/// not a division by zero.
#[allow(clippy::too_many_arguments)] // one private helper shared by both convolutions
fn conv_params(
    ctx: &Ctx,
    layer: &str,
    in_channels: usize,
    out_channels: usize,
    kernel: &[usize],
    groups: usize,
    bias: bool,
    weight_init: Scheme,
    bias_init: Option<Scheme>,
) -> Result<(Tensor, Option<Tensor>)> {
    let weight_path = ctx.join("weight");
    if groups == 0 {
        return Err(config_error(&weight_path, layer, "groups must be at least 1"));
    }
    for (what, channels) in [("in_channels", in_channels), ("out_channels", out_channels)] {
        if channels % groups != 0 {
            return Err(config_error(
                &weight_path,
                layer,
                format!("{what} ({channels}) must be divisible by groups ({groups})"),
            ));
        }
    }
    let mut shape = vec![out_channels, in_channels / groups];
    shape.extend_from_slice(kernel);
    let fan_in = shape[1..].iter().product();
    let weight = ctx.param("weight", &ParamSpec::new(shape, weight_init))?;
    let bias = if bias {
        let scheme = bias_init.unwrap_or_else(|| presets::conv_bias(fan_in));
        Some(ctx.param("bias", &ParamSpec::new(vec![out_channels], scheme))?)
    } else {
        None
    };
    Ok((weight, bias))
}

impl Model for Conv1d {
    type Config = Conv1dSpec;

    fn build(config: &Conv1dSpec, ctx: &Ctx) -> Result<Self> {
        let (weight, bias) = conv_params(
            ctx,
            "conv1d",
            config.in_channels,
            config.out_channels,
            &[config.kernel_size],
            config.options.groups,
            config.bias,
            config.weight_init,
            config.bias_init,
        )?;
        Ok(Conv1d::new(weight, bias, config.options))
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        f("weight", self.weight(), true);
        if let Some(bias) = self.bias() {
            f("bias", bias, true);
        }
    }
}

impl Model for Conv2d {
    type Config = Conv2dSpec;

    fn build(config: &Conv2dSpec, ctx: &Ctx) -> Result<Self> {
        let (weight, bias) = conv_params(
            ctx,
            "conv2d",
            config.in_channels,
            config.out_channels,
            &[config.kernel_size, config.kernel_size],
            config.options.groups,
            config.bias,
            config.weight_init,
            config.bias_init,
        )?;
        Ok(Conv2d::new(weight, bias, config.options))
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        f("weight", self.weight(), true);
        if let Some(bias) = self.bias() {
            f("bias", bias, true);
        }
    }
}

// ---------------------------------------------------------------------------
// Embedding

/// How to build an [`Embedding`] layer (`nn.Embedding`): `weight`
/// `[num_embeddings, dim]`. PyTorch's `padding_idx` is not supported: candle-nn's
/// layer has no notion of it.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingConfig {
    /// Number of rows (the vocabulary size).
    pub num_embeddings: usize,
    /// Width of each row.
    pub dim: usize,
    /// Scheme of `weight`; PyTorch's is [`presets::embedding`], N(0, 1).
    pub weight_init: Scheme,
}

/// `nn.Embedding(num_embeddings, dim)`.
pub fn embedding(num_embeddings: usize, dim: usize) -> EmbeddingConfig {
    EmbeddingConfig {
        num_embeddings,
        dim,
        weight_init: presets::embedding(),
    }
}

impl EmbeddingConfig {
    /// Overrides the scheme of `weight`.
    #[must_use]
    pub fn weight_init(mut self, scheme: Scheme) -> Self {
        self.weight_init = scheme;
        self
    }
}

impl Model for Embedding {
    type Config = EmbeddingConfig;

    fn build(config: &EmbeddingConfig, ctx: &Ctx) -> Result<Self> {
        let weight = ctx.param(
            "weight",
            &ParamSpec::new(vec![config.num_embeddings, config.dim], config.weight_init),
        )?;
        Ok(Embedding::new(weight, config.dim))
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        f("weight", self.embeddings(), true);
    }
}

// ---------------------------------------------------------------------------
// LayerNorm and RmsNorm

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

fn check_eps(ctx: &Ctx, layer: &str, eps: f64) -> Result<()> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(config_error(
            ctx.path(),
            layer,
            format!("eps must be finite and >= 0, got {eps}"),
        ))
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
pub struct RmsNormConfig {
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
pub fn rms_norm(dim: usize) -> RmsNormConfig {
    RmsNormConfig {
        dim,
        eps: 1e-6,
        weight_init: presets::norm_weight(),
    }
}

impl RmsNormConfig {
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
    type Config = RmsNormConfig;

    fn build(config: &RmsNormConfig, ctx: &Ctx) -> Result<Self> {
        check_eps(ctx, "rms_norm", config.eps)?;
        let weight = ctx.param("weight", &ParamSpec::new(vec![config.dim], config.weight_init))?;
        Ok(RmsNorm::new(weight, config.eps))
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        f("weight", self.weight(), true);
    }
}

// ---------------------------------------------------------------------------
// BatchNorm

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

// ---------------------------------------------------------------------------
// GroupNorm

/// How to build a [`GroupNorm`] layer (`nn.GroupNorm`): `weight` and `bias`
/// `[num_channels]`.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupNormConfig {
    /// Number of groups the channels are split into; it must divide `num_channels`.
    pub num_groups: usize,
    /// Number of channels (dimension 1 of the input).
    pub num_channels: usize,
    /// Added to the variance; PyTorch's default is 1e-5.
    pub eps: f64,
    /// Scheme of `weight`; PyTorch's is [`presets::norm_weight`], ones.
    pub weight_init: Scheme,
    /// Scheme of `bias`; PyTorch's is [`presets::norm_bias`], zeros.
    pub bias_init: Scheme,
}

/// `nn.GroupNorm(num_groups, num_channels)`: eps 1e-5, affine.
pub fn group_norm(num_groups: usize, num_channels: usize) -> GroupNormConfig {
    GroupNormConfig {
        num_groups,
        num_channels,
        eps: 1e-5,
        weight_init: presets::norm_weight(),
        bias_init: presets::norm_bias(),
    }
}

impl GroupNormConfig {
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

    /// Overrides the scheme of `bias`.
    #[must_use]
    pub fn bias_init(mut self, scheme: Scheme) -> Self {
        self.bias_init = scheme;
        self
    }
}

/// `candle_nn::GroupNorm` with its tensors in reach: candle-nn's layer keeps
/// them private, so a model could not list them. The forward pass is
/// candle-nn's.
#[derive(Clone, Debug)]
pub struct GroupNorm {
    inner: candle_nn::GroupNorm,
    weight: Tensor,
    bias: Tensor,
    num_groups: usize,
    eps: f64,
}

impl GroupNorm {
    /// The per-channel scale, `[num_channels]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The per-channel shift, `[num_channels]`.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// The number of groups.
    pub fn num_groups(&self) -> usize {
        self.num_groups
    }

    /// The eps added to the variance.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// The candle-nn layer.
    pub fn inner(&self) -> &candle_nn::GroupNorm {
        &self.inner
    }
}

impl Module for GroupNorm {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        self.inner.forward(xs)
    }
}

impl Model for GroupNorm {
    type Config = GroupNormConfig;

    fn build(config: &GroupNormConfig, ctx: &Ctx) -> Result<Self> {
        check_eps(ctx, "group_norm", config.eps)?;
        let (groups, channels) = (config.num_groups, config.num_channels);
        // candle-nn accepts 0 groups for 0 channels and then divides by zero in forward.
        if groups == 0 || channels % groups != 0 {
            return Err(config_error(
                ctx.path(),
                "group_norm",
                format!("num_groups ({groups}) must be at least 1 and divide num_channels ({channels})"),
            ));
        }
        let weight = ctx.param("weight", &ParamSpec::new(vec![channels], config.weight_init))?;
        let bias = ctx.param("bias", &ParamSpec::new(vec![channels], config.bias_init))?;
        let inner = candle_nn::GroupNorm::new(weight.clone(), bias.clone(), channels, groups, config.eps)
            .map_err(|e| config_error(ctx.path(), "group_norm", e))?;
        Ok(GroupNorm {
            inner,
            weight,
            bias,
            num_groups: groups,
            eps: config.eps,
        })
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        f("weight", &self.weight, true);
        f("bias", &self.bias, true);
    }
}

// ---------------------------------------------------------------------------
// LSTM and GRU

/// Serves exactly the tensors a layer generated to candle-nn's constructor,
/// which only takes a `VarBuilder`. Any other name or shape is a bug in the
/// name table below (candle-nn changed its names), reported with the full path.
struct Served {
    prefix: String,
    tensors: HashMap<String, Tensor>,
}

impl Served {
    fn full(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    fn lookup(&self, name: &str) -> candle_core::Result<&Tensor> {
        self.tensors.get(name).ok_or_else(|| {
            let mut known: Vec<&str> = self.tensors.keys().map(String::as_str).collect();
            known.sort_unstable();
            candle_core::Error::Msg(format!(
                "parameter `{}`: candle-nn asked for a tensor this layer does not define (it defines {known:?})",
                self.full(name)
            ))
        })
    }
}

impl SimpleBackend for Served {
    fn get(&self, s: Shape, name: &str, _: candle_nn::Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let tensor = self.lookup(name)?;
        if tensor.shape() != &s {
            return Err(candle_core::Error::Msg(format!(
                "parameter `{}`: candle-nn asked for shape {:?}, the layer built {:?}",
                self.full(name),
                s.dims(),
                tensor.dims()
            )));
        }
        // No-ops when dtype and device agree, as they do here: the layer then
        // holds the very tensors (and `Var`s) the model lists.
        tensor.to_device(dev)?.to_dtype(dtype)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        self.lookup(name)?.to_device(dev)?.to_dtype(dtype)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}

/// Generates a recurrent layer's tensors in PyTorch's order and a `VarBuilder`
/// serving them under their bare names.
fn rnn_params<'v>(
    ctx: &Ctx,
    gates: usize,
    in_dim: usize,
    hidden_dim: usize,
    bias: bool,
    suffix: &str,
    inits: [Option<Scheme>; 4],
) -> Result<(Vec<(String, Tensor)>, VarBuilder<'v>)> {
    let rows = gates * hidden_dim;
    let mut table = vec![
        (format!("weight_ih_l{suffix}"), vec![rows, in_dim], inits[0]),
        (format!("weight_hh_l{suffix}"), vec![rows, hidden_dim], inits[1]),
    ];
    if bias {
        table.push((format!("bias_ih_l{suffix}"), vec![rows], inits[2]));
        table.push((format!("bias_hh_l{suffix}"), vec![rows], inits[3]));
    }
    let mut params = Vec::with_capacity(table.len());
    for (name, shape, scheme) in table {
        let scheme = scheme.unwrap_or_else(|| presets::rnn(hidden_dim));
        let tensor = ctx.param(&name, &ParamSpec::new(shape, scheme))?;
        params.push((name, tensor));
    }
    let served = Served {
        prefix: ctx.path().to_owned(),
        tensors: params.iter().cloned().collect(),
    };
    let vb = VarBuilder::from_backend(Box::new(served), ctx.dtype(), ctx.device().clone());
    Ok((params, vb))
}

macro_rules! rnn_builders {
    ($spec:ident) => {
        impl $spec {
            /// Overrides the scheme of both weights, `weight_ih` and `weight_hh`.
            #[must_use]
            pub fn weight_init(mut self, scheme: Scheme) -> Self {
                self.weight_ih_init = Some(scheme);
                self.weight_hh_init = Some(scheme);
                self
            }

            /// Overrides the scheme of the input-to-hidden weight `weight_ih`.
            #[must_use]
            pub fn weight_ih_init(mut self, scheme: Scheme) -> Self {
                self.weight_ih_init = Some(scheme);
                self
            }

            /// Overrides the scheme of the hidden-to-hidden weight `weight_hh`
            /// (`orthogonal()` is a common choice).
            #[must_use]
            pub fn weight_hh_init(mut self, scheme: Scheme) -> Self {
                self.weight_hh_init = Some(scheme);
                self
            }

            /// Overrides the scheme of both biases (ignored without biases).
            #[must_use]
            pub fn bias_init(mut self, scheme: Scheme) -> Self {
                self.bias_ih_init = Some(scheme);
                self.bias_hh_init = Some(scheme);
                self
            }

            /// Overrides the scheme of `bias_ih` (ignored without biases).
            #[must_use]
            pub fn bias_ih_init(mut self, scheme: Scheme) -> Self {
                self.bias_ih_init = Some(scheme);
                self
            }

            /// Overrides the scheme of `bias_hh` (ignored without biases).
            #[must_use]
            pub fn bias_hh_init(mut self, scheme: Scheme) -> Self {
                self.bias_hh_init = Some(scheme);
                self
            }

            /// Drops both biases (`bias=False`).
            #[must_use]
            pub fn no_bias(mut self) -> Self {
                self.bias = false;
                self
            }

            fn inits(&self) -> [Option<Scheme>; 4] {
                [
                    self.weight_ih_init,
                    self.weight_hh_init,
                    self.bias_ih_init,
                    self.bias_hh_init,
                ]
            }
        }
    };
}

/// How to build an [`Lstm`] layer (one layer of `nn.LSTM`, batch first):
/// `weight_ih_l{k}` `[4·hidden, in]`, `weight_hh_l{k}` `[4·hidden, hidden]` and
/// optional `bias_ih_l{k}`, `bias_hh_l{k}` `[4·hidden]`, with `k` the layer index
/// and a `_reverse` suffix for the backward direction, as in PyTorch.
#[derive(Clone, Debug, PartialEq)]
pub struct LstmSpec {
    /// Input features.
    pub in_dim: usize,
    /// Hidden (and output) features.
    pub hidden_dim: usize,
    /// Whether the layer has biases.
    pub bias: bool,
    /// Which layer of a stacked PyTorch LSTM this is (the `k` of `weight_ih_l{k}`).
    pub layer_idx: usize,
    /// Whether this is the backward direction of a bidirectional LSTM (the
    /// `_reverse` names; candle-nn's `Direction::Backward`).
    pub reverse: bool,
    /// Scheme of `weight_ih`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub weight_ih_init: Option<Scheme>,
    /// Scheme of `weight_hh`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub weight_hh_init: Option<Scheme>,
    /// Scheme of `bias_ih`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub bias_ih_init: Option<Scheme>,
    /// Scheme of `bias_hh`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub bias_hh_init: Option<Scheme>,
}

/// `nn.LSTM(in_dim, hidden_dim, batch_first=True)`: one layer, forward, with biases.
pub fn lstm(in_dim: usize, hidden_dim: usize) -> LstmSpec {
    LstmSpec {
        in_dim,
        hidden_dim,
        bias: true,
        layer_idx: 0,
        reverse: false,
        weight_ih_init: None,
        weight_hh_init: None,
        bias_ih_init: None,
        bias_hh_init: None,
    }
}

rnn_builders!(LstmSpec);

impl LstmSpec {
    /// Sets the layer index used in the names (`weight_ih_l1` for 1), to load
    /// one layer of a stacked PyTorch LSTM.
    #[must_use]
    pub fn layer_idx(mut self, layer_idx: usize) -> Self {
        self.layer_idx = layer_idx;
        self
    }

    /// Makes this the backward direction (`weight_ih_l0_reverse`), to load one
    /// half of a bidirectional PyTorch LSTM. The layer still runs forward over
    /// its input, as candle-nn's does; reverse the sequence yourself.
    #[must_use]
    pub fn reverse(mut self) -> Self {
        self.reverse = true;
        self
    }
}

/// How to build a [`Gru`] layer (one layer of `nn.GRU`, batch first):
/// `weight_ih_l0` `[3·hidden, in]`, `weight_hh_l0` `[3·hidden, hidden]` and optional
/// `bias_ih_l0`, `bias_hh_l0` `[3·hidden]`. candle-nn's GRU has no layer index or
/// direction: the names always end in `_l0`.
#[derive(Clone, Debug, PartialEq)]
pub struct GruSpec {
    /// Input features.
    pub in_dim: usize,
    /// Hidden (and output) features.
    pub hidden_dim: usize,
    /// Whether the layer has biases.
    pub bias: bool,
    /// Scheme of `weight_ih`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub weight_ih_init: Option<Scheme>,
    /// Scheme of `weight_hh`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub weight_hh_init: Option<Scheme>,
    /// Scheme of `bias_ih`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub bias_ih_init: Option<Scheme>,
    /// Scheme of `bias_hh`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub bias_hh_init: Option<Scheme>,
}

/// `nn.GRU(in_dim, hidden_dim, batch_first=True)`: one layer, with biases.
pub fn gru(in_dim: usize, hidden_dim: usize) -> GruSpec {
    GruSpec {
        in_dim,
        hidden_dim,
        bias: true,
        weight_ih_init: None,
        weight_hh_init: None,
        bias_ih_init: None,
        bias_hh_init: None,
    }
}

rnn_builders!(GruSpec);

// The init hints of candle-nn's configs are never used (our backend serves
// every tensor); only whether the biases are requested matters.
fn candle_bias_init(bias: bool) -> Option<candle_nn::Init> {
    bias.then_some(candle_nn::Init::Const(0.0))
}

/// A candle-nn recurrent layer with its tensors in reach: candle-nn's `LSTM` and
/// `GRU` keep them private and build only from a `VarBuilder`. Steps are
/// candle-nn's, through [`RNN`].
#[derive(Clone, Debug)]
pub struct Recurrent<R> {
    inner: R,
    params: Vec<(String, Tensor)>,
}

/// One layer of `nn.LSTM` ([`lstm`]).
pub type Lstm = Recurrent<candle_nn::LSTM>;

/// One layer of `nn.GRU` ([`gru`]).
pub type Gru = Recurrent<candle_nn::GRU>;

impl<R> Recurrent<R> {
    /// The candle-nn layer.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// The tensors by name (`weight_ih_l0`, ...), in PyTorch's order.
    pub fn params(&self) -> &[(String, Tensor)] {
        &self.params
    }

    fn visit<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        for (name, tensor) in &self.params {
            f(name, tensor, true);
        }
    }
}

impl Model for Lstm {
    type Config = LstmSpec;

    fn build(config: &LstmSpec, ctx: &Ctx) -> Result<Self> {
        let suffix = format!("{}{}", config.layer_idx, if config.reverse { "_reverse" } else { "" });
        let (params, vb) = rnn_params(
            ctx,
            4,
            config.in_dim,
            config.hidden_dim,
            config.bias,
            &suffix,
            config.inits(),
        )?;
        let options = candle_nn::LSTMConfig {
            b_ih_init: candle_bias_init(config.bias),
            b_hh_init: candle_bias_init(config.bias),
            layer_idx: config.layer_idx,
            direction: if config.reverse {
                candle_nn::rnn::Direction::Backward
            } else {
                candle_nn::rnn::Direction::Forward
            },
            ..candle_nn::LSTMConfig::default()
        };
        let inner = candle_nn::LSTM::new(config.in_dim, config.hidden_dim, options, vb)?;
        Ok(Recurrent { inner, params })
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        self.visit(f)
    }
}

impl Model for Gru {
    type Config = GruSpec;

    fn build(config: &GruSpec, ctx: &Ctx) -> Result<Self> {
        let (params, vb) = rnn_params(
            ctx,
            3,
            config.in_dim,
            config.hidden_dim,
            config.bias,
            "0",
            config.inits(),
        )?;
        let options = candle_nn::GRUConfig {
            b_ih_init: candle_bias_init(config.bias),
            b_hh_init: candle_bias_init(config.bias),
            ..candle_nn::GRUConfig::default()
        };
        let inner = candle_nn::GRU::new(config.in_dim, config.hidden_dim, options, vb)?;
        Ok(Recurrent { inner, params })
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        self.visit(f)
    }
}

impl<R: RNN> RNN for Recurrent<R> {
    type State = R::State;

    fn zero_state(&self, batch_dim: usize) -> candle_core::Result<R::State> {
        self.inner.zero_state(batch_dim)
    }

    fn step(&self, input: &Tensor, state: &R::State) -> candle_core::Result<R::State> {
        self.inner.step(input, state)
    }

    fn seq(&self, input: &Tensor) -> candle_core::Result<Vec<R::State>> {
        self.inner.seq(input)
    }

    fn seq_init(&self, input: &Tensor, init_state: &R::State) -> candle_core::Result<Vec<R::State>> {
        self.inner.seq_init(input, init_state)
    }

    fn states_to_tensor(&self, states: &[R::State]) -> candle_core::Result<Tensor> {
        self.inner.states_to_tensor(states)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use candle_core::{DType, Device, Module, ModuleT, Tensor};
    use candle_nn::VarBuilder;

    use super::*;
    use crate::init::Init;
    use crate::model::{Ctx, Model, ModelExt};
    use crate::scheme::{constant, orthogonal, zeros};

    const PATH: &str = "blocks.0.layer";

    fn values(t: &Tensor) -> Vec<f32> {
        t.to_dtype(DType::F32)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    }

    /// (path, shape, trainable) of every parameter, in listing order.
    fn layout<M: Model>(m: &M) -> Vec<(String, Vec<usize>, bool)> {
        m.parameters()
            .into_iter()
            .map(|p| (p.path, p.tensor.dims().to_vec(), p.trainable))
            .collect()
    }

    fn expect<const N: usize>(rows: [(&str, &[usize], bool); N]) -> Vec<(String, Vec<usize>, bool)> {
        rows.into_iter()
            .map(|(p, s, t)| (p.to_owned(), s.to_vec(), t))
            .collect()
    }

    fn checkpoint<M: Model>(m: &M, prefix: &str) -> HashMap<String, Tensor> {
        m.parameters()
            .into_iter()
            .map(|p| (format!("{prefix}.{}", p.path), p.tensor))
            .collect()
    }

    /// Builds at `PATH`, checks that a second build is bit-identical and that
    /// loading the first one's parameters gives them back, and returns it.
    fn build_checked<M: Model>(config: &M::Config) -> M {
        let init = Init::new(0);
        let ctx = Ctx::init(&init).child(PATH);
        let a = M::build(config, &ctx).unwrap();
        let b = M::build(config, &ctx).unwrap();
        let vb = VarBuilder::from_tensors(checkpoint(&a, PATH), DType::F32, &Device::Cpu);
        let loaded = M::build(config, &Ctx::load(&vb).child(PATH)).unwrap();
        let (pa, pb, pl) = (a.parameters(), b.parameters(), loaded.parameters());
        assert!(!pa.is_empty());
        assert_eq!(pa.len(), pb.len());
        assert_eq!(pa.len(), pl.len());
        for ((x, y), z) in pa.iter().zip(&pb).zip(&pl) {
            assert_eq!((&x.path, x.trainable), (&y.path, y.trainable));
            assert_eq!((&x.path, x.trainable), (&z.path, z.trainable));
            assert_eq!(values(&x.tensor), values(&y.tensor), "rebuild of {}", x.path);
            assert_eq!(values(&x.tensor), values(&z.tensor), "load of {}", x.path);
        }
        a
    }

    fn within(t: &Tensor, bound: f64) -> bool {
        let v = values(t);
        let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
        // Filled (not constant) and inside the bound.
        max <= bound as f32 && max > bound as f32 / 2.0 && v.iter().any(|x| *x != v[0])
    }

    fn all_eq(t: &Tensor, value: f32) -> bool {
        values(t).iter().all(|x| *x == value)
    }

    fn input(shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor::arange(0f32, n as f32, &Device::Cpu)
            .unwrap()
            .affine(0.1, -1.0)
            .unwrap()
            .reshape(shape)
            .unwrap()
    }

    #[test]
    fn linear_layout_bounds_and_forward() {
        let fc: Linear = build_checked(&linear(16, 8));
        assert_eq!(layout(&fc), expect([("weight", &[8, 16], true), ("bias", &[8], true)]));
        assert!(within(fc.weight(), 0.25));
        assert!(within(fc.bias().unwrap(), 0.25));
        assert_eq!(fc.forward(&input(&[3, 16])).unwrap().dims(), &[3, 8]);
        assert!(fc.weight().is_variable());

        let fc: Linear = build_checked(&linear_no_bias(16, 8));
        assert_eq!(layout(&fc), expect([("weight", &[8, 16], true)]));

        let fc: Linear = build_checked(&linear(16, 8).weight_init(constant(0.5)).bias_init(zeros()));
        assert!(all_eq(fc.weight(), 0.5));
        assert!(all_eq(fc.bias().unwrap(), 0.0));
    }

    #[test]
    fn linear_values_depend_on_the_path_only() {
        let init = Init::new(0);
        let a = Linear::build(&linear(4, 4), &Ctx::init(&init).child("a")).unwrap();
        let b = Linear::build(&linear(4, 4), &Ctx::init(&init).child("b")).unwrap();
        let direct = init.tensor("a.weight", &[4, 4], &presets::linear_weight(), 1).unwrap();
        assert_eq!(values(a.weight()), values(&direct));
        assert_ne!(values(a.weight()), values(b.weight()));
    }

    #[test]
    fn conv1d_layout_bounds_and_forward() {
        let conv: Conv1d = build_checked(&conv1d(4, 6, 3).padding(1));
        assert_eq!(
            layout(&conv),
            expect([("weight", &[6, 4, 3], true), ("bias", &[6], true)])
        );
        let bound = 1.0 / 12f64.sqrt();
        assert!(within(conv.weight(), bound));
        assert!(within(conv.bias().unwrap(), bound));
        assert_eq!(conv.forward(&input(&[2, 4, 10])).unwrap().dims(), &[2, 6, 10]);

        // The bias bound follows the groups set after construction: fan_in = 4 / 2 * 3.
        let conv: Conv1d = build_checked(&conv1d(4, 6, 3).groups(2).stride(2).dilation(1));
        assert_eq!(
            layout(&conv),
            expect([("weight", &[6, 2, 3], true), ("bias", &[6], true)])
        );
        assert!(within(conv.bias().unwrap(), 1.0 / 6f64.sqrt()));
        assert_eq!(conv.forward(&input(&[2, 4, 10])).unwrap().dims(), &[2, 6, 4]);

        let conv: Conv1d = build_checked(&conv1d(4, 6, 3).no_bias().weight_init(constant(1.0)));
        assert_eq!(layout(&conv), expect([("weight", &[6, 4, 3], true)]));
        assert!(all_eq(conv.weight(), 1.0));
    }

    #[test]
    fn conv2d_layout_bounds_and_forward() {
        let conv: Conv2d = build_checked(&conv2d(3, 8, 3).padding(1).bias_init(constant(0.25)));
        assert_eq!(
            layout(&conv),
            expect([("weight", &[8, 3, 3, 3], true), ("bias", &[8], true)])
        );
        assert!(within(conv.weight(), 1.0 / 27f64.sqrt()));
        assert!(all_eq(conv.bias().unwrap(), 0.25));
        assert_eq!(conv.forward(&input(&[2, 3, 5, 5])).unwrap().dims(), &[2, 8, 5, 5]);

        let conv: Conv2d = build_checked(&conv2d(4, 8, 1));
        assert!(within(conv.bias().unwrap(), 0.5));
    }

    #[test]
    fn conv_groups_are_checked_not_divided_by() {
        let init = Init::new(0);
        let ctx = Ctx::init(&init).child("stem");
        for spec in [
            conv2d(3, 8, 3).groups(2),
            conv2d(4, 6, 3).groups(4),
            conv2d(4, 8, 3).groups(0),
        ] {
            let err = Conv2d::build(&spec, &ctx).unwrap_err().to_string();
            assert!(err.contains("stem.weight") && err.contains("groups"), "{err}");
        }
        let err = Conv1d::build(&conv1d(3, 8, 3).groups(2), &ctx).unwrap_err().to_string();
        assert!(err.contains("in_channels (3) must be divisible by groups (2)"), "{err}");
    }

    #[test]
    fn embedding_is_standard_normal() {
        let emb: Embedding = build_checked(&embedding(1000, 16));
        assert_eq!(layout(&emb), expect([("weight", &[1000, 16], true)]));
        let v = values(emb.embeddings());
        let n = v.len() as f64;
        let mean = v.iter().map(|x| *x as f64).sum::<f64>() / n;
        let var = v.iter().map(|x| (*x as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var.sqrt() - 1.0).abs() < 0.03, "std {}", var.sqrt());
        let ids = Tensor::new(&[[0u32, 5, 999], [1, 2, 3]], &Device::Cpu).unwrap();
        assert_eq!(emb.forward(&ids).unwrap().dims(), &[2, 3, 16]);

        let emb: Embedding = build_checked(&embedding(10, 4).weight_init(zeros()));
        assert!(all_eq(emb.embeddings(), 0.0));
    }

    #[test]
    fn layer_norm_and_rms_norm() {
        let ln: LayerNorm = build_checked(&layer_norm(8));
        assert_eq!(layout(&ln), expect([("weight", &[8], true), ("bias", &[8], true)]));
        assert!(all_eq(ln.weight(), 1.0) && all_eq(ln.bias().unwrap(), 0.0));
        assert_eq!(ln.eps(), 1e-5);
        let y = ln.forward(&input(&[2, 3, 8])).unwrap();
        assert_eq!(y.dims(), &[2, 3, 8]);
        let row_mean = values(&y.mean_keepdim(2).unwrap());
        assert!(row_mean.iter().all(|m| m.abs() < 1e-5));

        let ln: LayerNorm = build_checked(&layer_norm(8).no_bias().eps(1e-6).weight_init(constant(2.0)));
        assert_eq!(layout(&ln), expect([("weight", &[8], true)]));
        assert!(all_eq(ln.weight(), 2.0));
        assert_eq!(ln.eps(), 1e-6);
        let ln: LayerNorm = build_checked(&layer_norm(8).bias_init(constant(0.5)));
        assert!(all_eq(ln.bias().unwrap(), 0.5));

        let rms: RmsNorm = build_checked(&rms_norm(8));
        assert_eq!(layout(&rms), expect([("weight", &[8], true)]));
        assert!(all_eq(rms.weight(), 1.0));
        assert_eq!(rms.eps(), 1e-6);
        assert_eq!(rms.forward(&input(&[2, 3, 8])).unwrap().dims(), &[2, 3, 8]);
        let rms: RmsNorm = build_checked(&rms_norm(8).eps(1e-5).weight_init(zeros()));
        assert!(all_eq(rms.weight(), 0.0));
        assert_eq!(rms.eps(), 1e-5);
    }

    #[test]
    fn norm_eps_is_checked() {
        let init = Init::new(0);
        let ctx = Ctx::init(&init).child("norm");
        let err = LayerNorm::build(&layer_norm(4).eps(-1.0), &ctx)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`norm`") && err.contains("eps"), "{err}");
        assert!(RmsNorm::build(&rms_norm(4).eps(f64::NAN), &ctx).is_err());
        let err = BatchNorm::build(&batch_norm(4).momentum(1.5), &ctx)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`norm`") && err.contains("momentum"), "{err}");
        // At the root there is no path to name; the layer is still named.
        let err = GroupNorm::build(&group_norm(3, 8), &Ctx::init(&init))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("group_norm: num_groups (3)"), "{err}");
    }

    #[test]
    fn batch_norm_buffers_are_frozen() {
        let bn: BatchNorm = build_checked(&batch_norm(4));
        assert_eq!(
            layout(&bn),
            expect([
                ("weight", &[4], true),
                ("bias", &[4], true),
                ("running_mean", &[4], false),
                ("running_var", &[4], false),
            ])
        );
        let (w, b) = bn.weight_and_bias().unwrap();
        assert!(all_eq(w, 1.0) && all_eq(b, 0.0));
        assert!(all_eq(bn.running_mean(), 0.0) && all_eq(bn.running_var(), 1.0));
        assert_eq!((bn.eps(), bn.momentum()), (1e-5, 0.1));
        assert_eq!(bn.trainable_vars().unwrap().len(), 2);

        let x = input(&[2, 4, 5]);
        // Fresh statistics: evaluation is x / sqrt(1 + eps).
        let y = bn.forward_t(&x, false).unwrap();
        let expected = (&x / (1.0 + 1e-5f64).sqrt()).unwrap();
        let diff = (y - expected)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-6);
        // Training updates the buffers the model lists.
        bn.forward_t(&x, true).unwrap();
        assert!(!all_eq(bn.running_mean(), 0.0));
        let listed = bn.parameters().into_iter().find(|p| p.path == "running_mean").unwrap();
        assert_eq!(values(&listed.tensor), values(bn.running_mean()));

        let bn: BatchNorm = build_checked(&batch_norm(4).no_affine().eps(1e-3).momentum(0.01));
        assert_eq!(
            layout(&bn),
            expect([("running_mean", &[4], false), ("running_var", &[4], false)])
        );
        assert_eq!((bn.eps(), bn.momentum()), (1e-3, 0.01));
        let bn: BatchNorm = build_checked(&batch_norm(4).weight_init(constant(3.0)).bias_init(constant(-1.0)));
        let (w, b) = bn.weight_and_bias().unwrap();
        assert!(all_eq(w, 3.0) && all_eq(b, -1.0));
    }

    #[test]
    fn group_norm_wrapper() {
        let gn: GroupNorm = build_checked(&group_norm(2, 6));
        assert_eq!(layout(&gn), expect([("weight", &[6], true), ("bias", &[6], true)]));
        assert!(all_eq(gn.weight(), 1.0) && all_eq(gn.bias(), 0.0));
        assert_eq!((gn.num_groups(), gn.eps()), (2, 1e-5));
        let y = gn.forward(&input(&[2, 6, 5])).unwrap();
        assert_eq!(y.dims(), &[2, 6, 5]);
        let y = gn.inner().forward(&input(&[2, 6, 5])).unwrap();
        assert_eq!(y.dims(), &[2, 6, 5]);

        let gn: GroupNorm = build_checked(&group_norm(3, 6).eps(1e-3).weight_init(zeros()).bias_init(ones_scheme()));
        assert!(all_eq(gn.weight(), 0.0) && all_eq(gn.bias(), 1.0));
        // The wrapper's tensors are the ones the forward pass uses.
        assert!(all_eq(&gn.forward(&input(&[1, 6, 4])).unwrap(), 1.0));

        let init = Init::new(0);
        let err = GroupNorm::build(&group_norm(0, 6), &Ctx::init(&init).child("gn")).unwrap_err();
        assert!(err.to_string().contains("`gn`"), "{err}");
    }

    fn ones_scheme() -> Scheme {
        crate::scheme::ones()
    }

    #[test]
    fn lstm_names_shapes_bounds_and_steps() {
        let lstm: Lstm = build_checked(&super::lstm(3, 5));
        assert_eq!(
            layout(&lstm),
            expect([
                ("weight_ih_l0", &[20, 3], true),
                ("weight_hh_l0", &[20, 5], true),
                ("bias_ih_l0", &[20], true),
                ("bias_hh_l0", &[20], true),
            ])
        );
        let bound = 1.0 / 5f64.sqrt();
        for (name, t) in lstm.params() {
            assert!(within(t, bound), "{name}");
        }
        let states = lstm.seq(&input(&[2, 4, 3])).unwrap();
        assert_eq!(states.len(), 4);
        assert_eq!(lstm.states_to_tensor(&states).unwrap().dims(), &[2, 4, 5]);

        // The candle layer runs on the listed tensors: zeroing them through the
        // optimizer's vars zeroes the output (c = 0.5 * tanh(0), h = 0.5 * tanh(c)).
        for var in lstm.trainable_vars().unwrap() {
            var.set(&var.zeros_like().unwrap()).unwrap();
        }
        let state = lstm.step(&input(&[2, 3]), &lstm.zero_state(2).unwrap()).unwrap();
        assert!(all_eq(state.h(), 0.0));

        let lstm: Lstm = build_checked(&super::lstm(3, 5).no_bias().layer_idx(1).reverse());
        assert_eq!(
            layout(&lstm),
            expect([
                ("weight_ih_l1_reverse", &[20, 3], true),
                ("weight_hh_l1_reverse", &[20, 5], true)
            ])
        );
        assert_eq!(lstm.seq(&input(&[1, 2, 3])).unwrap().len(), 2);

        let lstm: Lstm = build_checked(&super::lstm(3, 5).weight_hh_init(orthogonal()).bias_init(zeros()));
        let w_hh = &lstm.params()[1].1;
        let gram = w_hh.t().unwrap().matmul(w_hh).unwrap();
        let eye = Tensor::eye(5, DType::F32, &Device::Cpu).unwrap();
        let err = (gram - eye)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(err < 1e-5, "orthogonal columns: {err}");
        assert!(within(&lstm.params()[0].1, bound));
        assert!(all_eq(&lstm.params()[2].1, 0.0) && all_eq(&lstm.params()[3].1, 0.0));
        let lstm: Lstm = build_checked(&super::lstm(3, 5).weight_init(zeros()).bias_ih_init(constant(1.0)));
        assert!(all_eq(&lstm.params()[0].1, 0.0) && all_eq(&lstm.params()[1].1, 0.0));
        assert!(all_eq(&lstm.params()[2].1, 1.0) && within(&lstm.params()[3].1, bound));
    }

    #[test]
    fn gru_names_shapes_bounds_and_steps() {
        let gru: Gru = build_checked(&super::gru(3, 4));
        assert_eq!(
            layout(&gru),
            expect([
                ("weight_ih_l0", &[12, 3], true),
                ("weight_hh_l0", &[12, 4], true),
                ("bias_ih_l0", &[12], true),
                ("bias_hh_l0", &[12], true),
            ])
        );
        for (name, t) in gru.params() {
            assert!(within(t, 0.5), "{name}");
        }
        let states = gru.seq(&input(&[2, 5, 3])).unwrap();
        assert_eq!(states.len(), 5);
        assert_eq!(states[4].h().dims(), &[2, 4]);
        assert!(gru.inner().config().b_ih_init.is_some());

        let gru: Gru = build_checked(
            &super::gru(3, 4)
                .no_bias()
                .weight_ih_init(constant(0.1))
                .weight_hh_init(zeros()),
        );
        assert_eq!(
            layout(&gru),
            expect([("weight_ih_l0", &[12, 3], true), ("weight_hh_l0", &[12, 4], true)])
        );
        assert!(all_eq(&gru.params()[0].1, 0.1) && all_eq(&gru.params()[1].1, 0.0));
        let gru: Gru = build_checked(&super::gru(3, 4).bias_hh_init(constant(2.0)));
        assert!(all_eq(&gru.params()[3].1, 2.0) && within(&gru.params()[2].1, 0.5));
        assert_eq!(
            gru.step(&input(&[2, 3]), &gru.zero_state(2).unwrap())
                .unwrap()
                .h()
                .dims(),
            &[2, 4]
        );
    }

    #[test]
    fn other_dtypes_build_and_run() {
        let init = Init::new(1).dtype(DType::BF16);
        let ctx = Ctx::init(&init).child("rnn");
        let lstm = Lstm::build(&super::lstm(3, 4), &ctx).unwrap();
        assert!(lstm.params().iter().all(|(_, t)| t.dtype() == DType::BF16));
        let x = input(&[1, 2, 3]).to_dtype(DType::BF16).unwrap();
        assert_eq!(lstm.seq(&x).unwrap().len(), 2);
        let fc = Linear::build(&linear(3, 2), &ctx).unwrap();
        assert_eq!(fc.weight().dtype(), DType::BF16);
    }

    /// Every layer, with a checkpoint that lacks one tensor or has one of the
    /// wrong shape: the error names the full path of that tensor.
    #[test]
    fn load_errors_name_the_parameter_path() {
        fn check<M: Model>(config: &M::Config) {
            let good: M = build_checked(config);
            for p in good.parameters() {
                let full = format!("{PATH}.{}", p.path);
                let mut missing = checkpoint(&good, PATH);
                missing.remove(&full);
                let vb = VarBuilder::from_tensors(missing, DType::F32, &Device::Cpu);
                let err = M::build(config, &Ctx::load(&vb).child(PATH))
                    .err()
                    .expect("missing tensor loads");
                assert!(err.to_string().contains(&full), "missing {full}: {err}");

                let mut wrong = checkpoint(&good, PATH);
                wrong.insert(full.clone(), Tensor::zeros(7, DType::F32, &Device::Cpu).unwrap());
                let vb = VarBuilder::from_tensors(wrong, DType::F32, &Device::Cpu);
                let err = M::build(config, &Ctx::load(&vb).child(PATH))
                    .err()
                    .expect("wrong shape loads");
                assert!(err.to_string().contains(&full), "wrong shape {full}: {err}");
            }
        }
        check::<Linear>(&linear(4, 3));
        check::<Conv1d>(&conv1d(4, 2, 3));
        check::<Conv2d>(&conv2d(4, 2, 3));
        check::<Embedding>(&embedding(5, 3));
        check::<LayerNorm>(&layer_norm(3));
        check::<RmsNorm>(&rms_norm(3));
        check::<BatchNorm>(&batch_norm(3));
        check::<GroupNorm>(&group_norm(1, 3));
        check::<Lstm>(&super::lstm(2, 3));
        check::<Gru>(&super::gru(2, 3));
    }

    #[test]
    fn served_backend_names_the_path() {
        let served = Served {
            prefix: "enc.rnn".to_owned(),
            tensors: HashMap::from([("w".to_owned(), Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap())]),
        };
        let vb = VarBuilder::from_backend(Box::new(served), DType::F32, Device::Cpu);
        let err = vb.get(3, "w").unwrap_err().to_string();
        assert!(
            err.contains("`enc.rnn.w`") && err.contains("[3]") && err.contains("[2]"),
            "{err}"
        );
        let err = vb.get(2, "v").unwrap_err().to_string();
        assert!(err.contains("`enc.rnn.v`"), "{err}");
        assert!(vb.contains_tensor("w") && !vb.contains_tensor("v"));
        assert_eq!(vb.get_unchecked("w").unwrap().dims(), &[2]);
    }
}
