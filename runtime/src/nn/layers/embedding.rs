//! `nn.Embedding`: [`embedding`].

use candle_core::Tensor;
use candle_nn::Embedding;

use crate::error::Result;
use crate::model::{Ctx, Model, ParamSpec};
use crate::scheme::presets;
use crate::scheme::Scheme;

/// How to build an [`Embedding`] layer (`nn.Embedding`): `weight`
/// `[num_embeddings, dim]`. PyTorch's `padding_idx` is not supported: candle-nn's
/// layer has no notion of it.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingSpec {
    /// Number of rows (the vocabulary size).
    pub num_embeddings: usize,
    /// Width of each row.
    pub dim: usize,
    /// Scheme of `weight`; PyTorch's is [`presets::embedding`], N(0, 1).
    pub weight_init: Scheme,
}

/// `nn.Embedding(num_embeddings, dim)`.
pub fn embedding(num_embeddings: usize, dim: usize) -> EmbeddingSpec {
    EmbeddingSpec {
        num_embeddings,
        dim,
        weight_init: presets::embedding(),
    }
}

impl EmbeddingSpec {
    /// Overrides the scheme of `weight`.
    #[must_use]
    pub fn weight_init(mut self, scheme: Scheme) -> Self {
        self.weight_init = scheme;
        self
    }
}

impl Model for Embedding {
    type Config = EmbeddingSpec;

    fn build(config: &EmbeddingSpec, ctx: &Ctx) -> Result<Self> {
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
