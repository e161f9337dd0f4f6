//! The seed story: an attention block from CCT (Compact Convolutional
//! Transformers, via timm), tidied into a second version that adds a parameter
//! `gamma` and a `Linear` that `forward` never uses.
//!
//! PyTorch draws every parameter from one global generator in construction
//! order, so the additions shift the values of everything built after them.
//! Here every parameter has its own keyed stream, so the parameters both versions
//! share keep their exact bits.

use reproducible::generate::generate;
use reproducible::model::{ModelExt, Param};
use reproducible::prelude::*;
use reproducible::scheme::{constant, normal, uniform, Plan};
use reproducible::stream::Stream;
use reproducible::transform::Draw;

/// `Attention(dim, num_heads, attention_dropout, projection_dropout)` of CCT.
#[derive(Clone, Debug)]
pub struct AttentionConfig {
    /// Embedding dimension.
    pub dim: usize,
    /// Number of heads.
    pub num_heads: usize,
    /// Dropout on the attention weights.
    pub attn_drop: f32,
    /// Dropout after the output projection.
    pub proj_drop: f32,
}

impl AttentionConfig {
    /// The block the examples print: `Attention(64, 4, 0.1, 0.1)`.
    pub fn story() -> Self {
        Self {
            dim: 64,
            num_heads: 4,
            attn_drop: 0.1,
            proj_drop: 0.1,
        }
    }
}

/// Version 1: the original CCT attention block.
#[reproducible_model(config = AttentionConfig, version = 1)]
pub struct AttentionV1 {
    #[module(linear_no_bias(cfg.dim, cfg.dim * 3))]
    qkv: Linear,
    #[module(dropout(cfg.attn_drop))]
    attn_drop: KeyedDropout,
    #[module(linear(cfg.dim, cfg.dim))]
    proj: Linear,
    #[module(dropout(cfg.proj_drop))]
    proj_drop: KeyedDropout,
    #[config(cfg.num_heads)]
    num_heads: usize,
}

#[reproducible::forward]
impl AttentionV1 {
    /// `x` is `[batch, tokens, dim]`; `train` enables dropout, whose masks are
    /// those of the step last set with [`Model::set_step`].
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        attention(
            x,
            self.num_heads,
            &self.qkv,
            None,
            &self.attn_drop,
            &self.proj,
            &self.proj_drop,
            train,
        )
    }
}

/// Version 2: the tidied block. It declares two new things first, as the
/// refactor in the story did: a per-head `gamma`
/// and a `Linear` that is never used (opted out, with a reason).
#[reproducible_model(config = AttentionConfig, version = 2)]
pub struct AttentionV2 {
    #[param(shape = [1, cfg.num_heads, 1, 1], init = normal(0.0, 1.0))]
    gamma: Tensor,
    #[module(linear(cfg.dim, cfg.dim), unused = "the unused layer of the story, kept to show it changes nothing")]
    extra: Linear,
    #[module(linear_no_bias(cfg.dim, cfg.dim * 3))]
    qkv: Linear,
    #[module(dropout(cfg.attn_drop))]
    attn_drop: KeyedDropout,
    #[module(linear(cfg.dim, cfg.dim))]
    proj: Linear,
    #[module(dropout(cfg.proj_drop))]
    proj_drop: KeyedDropout,
    #[config(cfg.num_heads)]
    num_heads: usize,
}

#[reproducible::forward]
impl AttentionV2 {
    /// `x` is `[batch, tokens, dim]`; `train` enables dropout, whose masks are
    /// those of the step last set with [`Model::set_step`].
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let gamma = Some(&self.gamma);
        attention(
            x,
            self.num_heads,
            &self.qkv,
            gamma,
            &self.attn_drop,
            &self.proj,
            &self.proj_drop,
            train,
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn attention(
    x: &Tensor,
    heads: usize,
    qkv: &Linear,
    gamma: Option<&Tensor>,
    attn_drop: &KeyedDropout,
    proj: &Linear,
    proj_drop: &KeyedDropout,
    train: bool,
) -> Result<Tensor> {
    let (b, n, c) = x.dims3()?;
    let qkv = qkv
        .forward(x)?
        .reshape((b, n, 3, heads, c / heads))?
        .permute((2, 0, 3, 1, 4))?;
    let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
    let mut attn = (q.contiguous()?.matmul(&k.t()?.contiguous()?)? * ((c / heads) as f64).powf(-0.5))?;
    if let Some(g) = gamma {
        attn = attn.broadcast_mul(g)?;
    }
    // `softmax`, not the fused `softmax_last_dim`, which records no backward.
    let attn = candle_nn::ops::softmax(&attn, D::Minus1)?.apply_t(attn_drop, train)?;
    let y = attn.matmul(&v.contiguous()?)?.transpose(1, 2)?.reshape((b, n, c))?;
    proj.forward(&y)?.apply_t(proj_drop, train)
}

/// One parameter as PyTorch's constructor would create it: path, shape, scheme.
fn declared(model: &[Param]) -> Vec<(String, Vec<usize>)> {
    model
        .iter()
        .map(|p| (p.path.clone(), p.tensor.dims().to_vec()))
        .collect()
}

/// The PyTorch way: one generator, every parameter drawn in construction order.
/// Each parameter takes the next `numel` values of a single stream, transformed
/// by its own scheme, so an insertion shifts everything after it.
pub fn sequential_init(seed: u64, params: &[(String, Vec<usize>, Scheme)]) -> Result<Vec<(String, Vec<f32>)>> {
    let global = Stream::new(seed, "<the one global generator>", 1);
    let mut offset = 0usize;
    let mut out = Vec::new();
    for (path, shape, scheme) in params {
        let numel: usize = shape.iter().product();
        let flat = match scheme.plan(shape)? {
            Plan::Elementwise(Draw::Uniform { a, b }) => uniform(a, b),
            Plan::Elementwise(Draw::Normal { mean, std }) => normal(mean, std),
            Plan::Elementwise(Draw::Constant { value }) => constant(value),
            other => unreachable!("the story's layers use uniform and normal draws, got {other:?}"),
        };
        let region = offset..offset + numel;
        let values: Vec<f32> = generate(&global, &flat, &[offset + numel], Some(std::slice::from_ref(&region)))?;
        if !matches!(flat, Scheme::Constant { .. }) {
            offset += numel; // constant inits do not advance PyTorch's generator
        }
        out.push((path.clone(), values));
    }
    Ok(out)
}

/// What the story shows for one parameter present in both versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The parameter path.
    pub path: String,
    /// Keyed streams: version 1 and version 2 values are bit-identical.
    pub keyed_identical: bool,
    /// One sequential generator: version 1 and version 2 values are bit-identical.
    pub sequential_identical: bool,
}

/// The schemes PyTorch's constructors use for the story's parameters.
fn pytorch_schemes(params: &[(String, Vec<usize>)]) -> Vec<(String, Vec<usize>, Scheme)> {
    params
        .iter()
        .map(|(path, shape)| {
            let scheme = if path == "gamma" {
                normal(0.0, 1.0) // torch.randn
            } else if path.ends_with("weight") {
                reproducible::scheme::presets::linear_weight()
            } else {
                reproducible::scheme::presets::linear_bias(shape[0])
            };
            (path.clone(), shape.clone(), scheme)
        })
        .collect()
}

fn bits(t: &Tensor) -> Result<Vec<u32>> {
    Ok(t.flatten_all()?
        .to_vec1::<f32>()?
        .into_iter()
        .map(f32::to_bits)
        .collect())
}

/// Builds both versions both ways and compares every shared parameter.
pub fn compare(seed: u64, cfg: &AttentionConfig) -> Result<Vec<Comparison>> {
    let init = Init::new(seed);
    let v1 = AttentionV1::init(cfg, &init)?.parameters();
    let v2 = AttentionV2::init(cfg, &init)?.parameters();
    // Construction order is declaration order, as in a PyTorch __init__.
    let seq1 = sequential_init(seed, &pytorch_schemes(&declared(&v1)))?;
    let seq2 = sequential_init(seed, &pytorch_schemes(&declared(&v2)))?;
    let mut out = Vec::new();
    for p1 in &v1 {
        let Some(p2) = v2.iter().find(|p| p.path == p1.path) else {
            continue;
        };
        let s1 = &seq1.iter().find(|(p, _)| *p == p1.path).expect("same list").1;
        let s2 = &seq2.iter().find(|(p, _)| *p == p1.path).expect("same list").1;
        out.push(Comparison {
            path: p1.path.clone(),
            keyed_identical: bits(&p1.tensor)? == bits(&p2.tensor)?,
            sequential_identical: s1.iter().map(|v| v.to_bits()).eq(s2.iter().map(|v| v.to_bits())),
        });
    }
    Ok(out)
}
