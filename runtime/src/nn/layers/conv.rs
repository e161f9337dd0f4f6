//! `nn.Conv1d` and `nn.Conv2d`: [`conv1d`], [`conv2d`].

use candle_core::Tensor;
use candle_nn::{Conv1d, Conv2d};

use super::config_error;
use crate::error::Result;
use crate::model::{Ctx, Model, ParamSpec};
use crate::scheme::presets;
use crate::scheme::Scheme;

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
