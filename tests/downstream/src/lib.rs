//! A user's crate: the blog's attention block ported to candle with
//! `#[reproducible_model]`, under the blog's own field names, and a small
//! vision transformer around it.

use reproducible::prelude::*;

/// `Attention(dim, num_heads, attn_drop, proj_drop)`.
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

/// The block after the tidy-up: a per-head `alpha` and `gamma`, and the
/// `nn.Linear` that `forward` never uses, kept with a reason.
#[reproducible_model(config = AttentionConfig)]
pub struct Attention {
    #[module(linear_no_bias(cfg.dim, cfg.dim * 3))]
    qkv: Linear,
    #[module(linear(cfg.dim, cfg.dim), unused = "the blog's unused layer, kept to show it changes nothing")]
    linear: Linear,
    #[config(Dropout::new(cfg.attn_drop))]
    attn_drop: Dropout,
    #[module(linear(cfg.dim, cfg.dim))]
    proj: Linear,
    #[config(Dropout::new(cfg.proj_drop))]
    proj_drop: Dropout,
    #[param(shape = [1, cfg.num_heads, 1, 1], init = ones())]
    alpha: Tensor,
    #[param(shape = [1, cfg.num_heads, 1, 1], init = normal(0.0, 1.0))]
    gamma: Tensor,
    #[config(cfg.num_heads)]
    num_heads: usize,
}

#[reproducible::forward]
impl Attention {
    /// `x` is `[batch, tokens, dim]`; `train` enables dropout.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let (b, n, c) = x.dims3()?;
        let h = self.num_heads;
        let qkv = self
            .qkv
            .forward(x)?
            .reshape((b, n, 3, h, c / h))?
            .permute((2, 0, 3, 1, 4))?;
        let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
        let scale = ((c / h) as f64).powf(-0.5);
        let attn = (q.matmul(&k.t()?.contiguous()?)? * scale)?;
        let attn = attn.broadcast_mul(&self.alpha)?.broadcast_add(&self.gamma)?;
        let attn = candle_nn::ops::softmax_last_dim(&attn)?;
        let attn = self.attn_drop.forward(&attn, train)?;
        let x = attn.matmul(&v.contiguous()?)?.transpose(1, 2)?.reshape((b, n, c))?;
        self.proj_drop.forward(&self.proj.forward(&x)?, train)
    }
}

/// A small vision transformer: patch embedding, blocks of attention and MLP.
#[derive(Clone, Debug)]
pub struct VitConfig {
    /// Embedding dimension.
    pub dim: usize,
    /// Number of blocks.
    pub depth: usize,
    /// Heads per block.
    pub heads: usize,
    /// Hidden width of each MLP.
    pub mlp: usize,
    /// Patch side, in pixels.
    pub patch: usize,
    /// Image side, in pixels.
    pub image: usize,
    /// Output classes.
    pub classes: usize,
}

impl VitConfig {
    /// ViT-B/16 at 224 x 224: 86.6 million parameters.
    pub fn base() -> Self {
        Self {
            dim: 768,
            depth: 12,
            heads: 12,
            mlp: 3072,
            patch: 16,
            image: 224,
            classes: 1000,
        }
    }

    /// A tiny one for tests.
    pub fn tiny() -> Self {
        Self {
            dim: 32,
            depth: 2,
            heads: 4,
            mlp: 64,
            patch: 4,
            image: 16,
            classes: 10,
        }
    }

    fn attention(&self) -> AttentionConfig {
        AttentionConfig {
            dim: self.dim,
            num_heads: self.heads,
            attn_drop: 0.0,
            proj_drop: 0.0,
        }
    }

    fn tokens(&self) -> usize {
        (self.image / self.patch).pow(2) + 1
    }
}

/// One transformer block.
#[reproducible_model(config = VitConfig)]
pub struct Block {
    #[module(layer_norm(cfg.dim))]
    norm1: LayerNorm,
    #[module(cfg.attention())]
    attn: Attention,
    #[module(layer_norm(cfg.dim))]
    norm2: LayerNorm,
    #[module(linear(cfg.dim, cfg.mlp))]
    fc1: Linear,
    #[module(linear(cfg.mlp, cfg.dim))]
    fc2: Linear,
}

#[reproducible::forward]
impl Block {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let x = (x + self.attn.forward_t(&self.norm1.forward(x)?, train)?)?;
        let h = self.fc1.forward(&self.norm2.forward(&x)?)?.gelu()?;
        x + self.fc2.forward(&h)?
    }
}

/// The vision transformer.
#[reproducible_model(config = VitConfig)]
pub struct Vit {
    #[module(conv2d(3, cfg.dim, cfg.patch).stride(cfg.patch))]
    patch_embed: Conv2d,
    #[param(shape = [1, 1, cfg.dim], init = trunc_normal(std = 0.02))]
    cls_token: Tensor,
    #[param(shape = [1, cfg.tokens(), cfg.dim], init = trunc_normal(std = 0.02))]
    pos_embed: Tensor,
    #[module(cfg.clone(), count = cfg.depth)]
    blocks: Vec<Block>,
    #[module(layer_norm(cfg.dim))]
    norm: LayerNorm,
    #[module(linear(cfg.dim, cfg.classes))]
    head: Linear,
}

#[reproducible::forward]
impl Vit {
    /// `images` is `[batch, 3, image, image]`; returns the class logits.
    pub fn forward_t(&self, images: &Tensor, train: bool) -> Result<Tensor> {
        let x = self.patch_embed.forward(images)?.flatten_from(2)?.transpose(1, 2)?;
        let b = x.dim(0)?;
        let cls = self.cls_token.broadcast_as((b, 1, x.dim(2)?))?;
        let mut x = Tensor::cat(&[&cls, &x], 1)?.broadcast_add(&self.pos_embed)?;
        for block in &self.blocks {
            x = block.forward_t(&x, train)?;
        }
        self.head.forward(&self.norm.forward(&x)?.get_on_dim(1, 0)?)
    }
}

pub mod gpt;
