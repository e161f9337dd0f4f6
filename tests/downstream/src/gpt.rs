//! A GPT-2-style decoder written from the README: token embeddings, `Vec`
//! blocks with rotary position embeddings, a const-generic MLP, keyed dropout,
//! forward code split in two named parts, and the language-model head tied to
//! the token embedding. The rotary tables and the causal mask are built on the
//! model's device, in its dtype (`#[config(build = |ctx| ..)]`).

use reproducible::dropout::{dropout, KeyedDropout};
use reproducible::model::Ctx;
use reproducible::prelude::*;

/// The decoder's sizes.
#[derive(Clone, Debug)]
pub struct GptConfig {
    /// Vocabulary size.
    pub vocab: usize,
    /// Model width.
    pub dim: usize,
    /// Attention heads.
    pub heads: usize,
    /// Blocks.
    pub layers: usize,
    /// Longest sequence.
    pub max_len: usize,
    /// Dropout probability (attention output and MLP output).
    pub drop: f32,
}

/// The MLP of a block, `R` times as wide inside.
#[reproducible_model(config = GptConfig)]
pub struct Mlp<const R: usize> {
    #[module(linear(cfg.dim, cfg.dim * R).weight_init(normal(0.0, 0.02)).bias_init(zeros()))]
    fc: Linear,
    #[module(linear(cfg.dim * R, cfg.dim).weight_init(normal(0.0, 0.02)).bias_init(zeros()))]
    proj: Linear,
}

#[reproducible::forward]
impl<const R: usize> Module for Mlp<R> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.proj.forward(&self.fc.forward(x)?.gelu()?)
    }
}

/// One pre-norm decoder block.
#[reproducible_model(config = GptConfig)]
pub struct Block {
    #[module(layer_norm(cfg.dim))]
    ln_1: LayerNorm,
    #[module(linear(cfg.dim, 3 * cfg.dim).weight_init(normal(0.0, 0.02)).bias_init(zeros()))]
    qkv: Linear,
    #[module(linear(cfg.dim, cfg.dim).weight_init(normal(0.0, 0.02)).bias_init(zeros()))]
    attn_proj: Linear,
    #[module(layer_norm(cfg.dim))]
    ln_2: LayerNorm,
    #[module(*cfg)]
    mlp: Mlp<4>,
    #[module(dropout(cfg.drop))]
    attn_drop: KeyedDropout,
    #[module(dropout(cfg.drop))]
    mlp_drop: KeyedDropout,
    #[config(cfg.heads)]
    heads: usize,
}

/// `x` rotated by the rotary tables (`[tokens, head_dim / 2]` each), halves
/// rotated as pairs; composed of candle ops that have a backward pass.
fn rotate(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let half = x.dim(D::Minus1)? / 2;
    let (a, b) = (x.narrow(D::Minus1, 0, half)?, x.narrow(D::Minus1, half, half)?);
    let ra = (a.broadcast_mul(cos)? - b.broadcast_mul(sin)?)?;
    let rb = (a.broadcast_mul(sin)? + b.broadcast_mul(cos)?)?;
    Tensor::cat(&[ra, rb], D::Minus1)
}

#[reproducible::forward]
impl Block {
    /// `x` is `[batch, tokens, dim]`; `rope` the model's tables; `mask` its
    /// causal mask cut to the tokens; `train` enables dropout, whose masks are
    /// those of the step the model was set to (`Model::set_step`).
    pub fn forward(&self, x: &Tensor, rope: &Rope, mask: &Tensor, train: bool) -> Result<Tensor> {
        let (b, n, c) = x.dims3()?;
        let h = self.heads;
        let qkv = self
            .qkv
            .forward(&self.ln_1.forward(x)?)?
            .reshape((b, n, 3, h, c / h))?
            .permute((2, 0, 3, 1, 4))?;
        let (cos, sin) = (rope.cos.narrow(0, 0, n)?, rope.sin.narrow(0, 0, n)?);
        let q = rotate(&qkv.get(0)?, &cos, &sin)?;
        let k = rotate(&qkv.get(1)?, &cos, &sin)?;
        let v = qkv.get(2)?.contiguous()?;
        let att = (q.matmul(&k.t()?.contiguous()?)? * ((c / h) as f64).powf(-0.5))?;
        let att = candle_nn::ops::softmax(&att.broadcast_add(mask)?, D::Minus1)?;
        let y = att.matmul(&v)?.transpose(1, 2)?.reshape((b, n, c))?;
        let x = (x + self.attn_proj.forward(&y)?.apply_t(&self.attn_drop, train)?)?;
        &x + self
            .mlp
            .forward(&self.ln_2.forward(&x)?)?
            .apply_t(&self.mlp_drop, train)?
    }
}

/// Rotary tables, `[max_len, head_dim / 2]`: `cos` and `sin` of position
/// times `10000^(-2i / head_dim)`.
#[derive(Clone, Debug)]
pub struct Rope {
    /// Cosines.
    pub cos: Tensor,
    /// Sines.
    pub sin: Tensor,
}

/// The rotary tables for `cfg`, on `device` in `dtype`.
pub fn rope(cfg: &GptConfig, device: &Device, dtype: DType) -> Result<Rope> {
    let d = cfg.dim / cfg.heads;
    let inv: Vec<f32> = (0..d / 2).map(|i| 10000f32.powf(-2.0 * i as f32 / d as f32)).collect();
    let inv = Tensor::from_vec(inv, (1, d / 2), device)?;
    let pos = Tensor::arange(0u32, cfg.max_len as u32, device)?
        .to_dtype(DType::F32)?
        .reshape((cfg.max_len, 1))?;
    let angles = pos.broadcast_mul(&inv)?;
    Ok(Rope {
        cos: angles.cos()?.to_dtype(dtype)?,
        sin: angles.sin()?.to_dtype(dtype)?,
    })
}

/// The additive causal mask, `[max_len, max_len]`, on `device` in `dtype`.
pub fn causal_mask(len: usize, device: &Device, dtype: DType) -> Result<Tensor> {
    let m: Vec<f32> = (0..len * len)
        .map(|i| if i % len > i / len { f32::NEG_INFINITY } else { 0.0 })
        .collect();
    Tensor::from_vec(m, (len, len), device)?.to_dtype(dtype)
}

/// The decoder.
#[reproducible_model(config = GptConfig, forward = [features, head])]
pub struct Gpt {
    #[module(embedding(cfg.vocab, cfg.dim).weight_init(normal(0.0, 0.02)))]
    wte: Embedding,
    #[module(*cfg, count = cfg.layers)]
    blocks: Vec<Block>,
    #[module(layer_norm(cfg.dim))]
    ln_f: LayerNorm,
    #[module(linear_no_bias(cfg.dim, cfg.vocab), tie(weight = wte.weight))]
    lm_head: Linear,
    #[config(build = |ctx: &Ctx| rope(cfg, ctx.device(), ctx.dtype()))]
    rope: Rope,
    #[config(build = |ctx| causal_mask(cfg.max_len, ctx.device(), ctx.dtype()))]
    mask: Tensor,
}

#[reproducible::forward(features)]
impl Gpt {
    /// The final hidden states of `ids` (`[batch, tokens]`, u32).
    pub fn features(&self, ids: &Tensor, train: bool) -> Result<Tensor> {
        let n = ids.dim(1)?;
        let mask = self.mask.narrow(0, 0, n)?.narrow(1, 0, n)?;
        let mut x = self.wte.forward(ids)?;
        for block in &self.blocks {
            x = block.forward(&x, &self.rope, &mask, train)?;
        }
        self.ln_f.forward(&x)
    }
}

#[reproducible::forward(head)]
impl Gpt {
    /// Next-token logits, `[batch, tokens, vocab]`.
    pub fn logits(&self, ids: &Tensor, train: bool) -> Result<Tensor> {
        self.lm_head.forward(&self.features(ids, train)?)
    }

    /// The token embedding, which the head shares.
    pub fn token_embedding(&self) -> &Tensor {
        self.wte.embeddings()
    }

    /// The head's weight (the token embedding's tensor).
    pub fn head_weight(&self) -> &Tensor {
        self.lm_head.weight()
    }

    /// The rotary tables.
    pub fn rope(&self) -> &Rope {
        &self.rope
    }
}
