// The attention block of the README, as users write it.
use reproducible::prelude::*;

pub struct AttentionConfig {
    pub dim: usize,
    pub num_heads: usize,
    pub attn_drop: f32,
    pub proj_drop: f32,
}

#[reproducible_model(config = AttentionConfig, version = 1)]
pub struct Attention {
    #[module(linear_no_bias(cfg.dim, cfg.dim * 3))]
    qkv: Linear,
    #[module(linear(cfg.dim, cfg.dim))]
    proj: Linear,
    #[param(shape = [1, cfg.num_heads, 1, 1], init = ones(), frozen)]
    alpha: Tensor,
    #[param(shape = [1, cfg.num_heads, 1, 1], init = normal(0.0, 1.0), version = 2)]
    gamma: Tensor,
    #[config(cfg.num_heads)]
    num_heads: usize,
    #[config(Dropout::new(cfg.attn_drop))]
    attn_drop: Dropout,
}

#[reproducible::forward]
impl Module for Attention {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, n, c) = x.dims3()?;
        let h = self.num_heads;
        let qkv = self.qkv.forward(x)?.reshape((b, n, 3, h, c / h))?.permute((2, 0, 3, 1, 4))?;
        let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
        let attn = (q.matmul(&k.t()?)? * (1.0 / ((c / h) as f64).sqrt()))?;
        let attn = attn.broadcast_mul(&self.alpha)?.broadcast_add(&self.gamma)?;
        let attn = self.attn_drop.forward(&candle_nn::ops::softmax_last_dim(&attn)?, false)?;
        let y = attn.matmul(&v)?.transpose(1, 2)?.reshape((b, n, c))?;
        self.proj.forward(&y)
    }
}

fn main() -> Result<()> {
    let cfg = AttentionConfig { dim: 16, num_heads: 4, attn_drop: 0.1, proj_drop: 0.1 };
    let model = Attention::init(&cfg, &Init::new(42).set_device(&Device::Cpu).set_dtype(DType::F32))?;
    let y = model.forward(&Tensor::ones((2, 5, 16), DType::F32, &Device::Cpu)?)?;
    assert_eq!(y.dims(), &[2, 5, 16]);
    assert_eq!(Attention::MODEL_VERSION, 1);
    Ok(())
}
