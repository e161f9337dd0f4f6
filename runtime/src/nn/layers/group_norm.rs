//! `nn.GroupNorm`: [`group_norm`], and the [`GroupNorm`] layer that keeps its tensors in reach.

use candle_core::{Module, Tensor};

use super::{check_eps, config_error};
use crate::error::Result;
use crate::model::{Ctx, Model, ParamSpec};
use crate::scheme::presets;
use crate::scheme::Scheme;

/// How to build a [`GroupNorm`] layer (`nn.GroupNorm`): `weight` and `bias`
/// `[num_channels]`.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupNormSpec {
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
pub fn group_norm(num_groups: usize, num_channels: usize) -> GroupNormSpec {
    GroupNormSpec {
        num_groups,
        num_channels,
        eps: 1e-5,
        weight_init: presets::norm_weight(),
        bias_init: presets::norm_bias(),
    }
}

impl GroupNormSpec {
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
    type Config = GroupNormSpec;

    fn build(config: &GroupNormSpec, ctx: &Ctx) -> Result<Self> {
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
