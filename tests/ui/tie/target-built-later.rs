use reproducible::prelude::*;

pub struct C {
    vocab: usize,
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Lm {
    #[module(linear_no_bias(cfg.dim, cfg.vocab), tie(weight = wte.weight))]
    lm_head: Linear,
    #[module(embedding(cfg.vocab, cfg.dim))]
    wte: Embedding,
}

#[reproducible::forward]
impl Lm {
    pub fn run(&self, x: &Tensor) -> Result<Tensor> {
        self.lm_head.forward(&self.wte.forward(x)?)
    }
}

fn main() {}
