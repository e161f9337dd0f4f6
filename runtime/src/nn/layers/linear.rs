//! `nn.Linear`: [`linear`], [`linear_no_bias`].

use candle_core::Tensor;
use candle_nn::Linear;

use crate::error::Result;
use crate::model::{Ctx, Model, ParamSpec};
use crate::scheme::presets;
use crate::scheme::Scheme;

/// How to build a [`Linear`] layer (`nn.Linear`): `weight` `[out, in]` and an
/// optional `bias` `[out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearSpec {
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
pub fn linear(in_dim: usize, out_dim: usize) -> LinearSpec {
    LinearSpec {
        in_dim,
        out_dim,
        bias: true,
        weight_init: presets::linear_weight(),
        bias_init: None,
    }
}

/// `nn.Linear(in_dim, out_dim, bias=False)`.
pub fn linear_no_bias(in_dim: usize, out_dim: usize) -> LinearSpec {
    linear(in_dim, out_dim).no_bias()
}

impl LinearSpec {
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
    type Config = LinearSpec;

    fn build(config: &LinearSpec, ctx: &Ctx) -> Result<Self> {
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
