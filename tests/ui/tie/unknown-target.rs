use reproducible::prelude::*;

pub struct C {
    vocab: usize,
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Lm {
    #[module(embedding(cfg.vocab, cfg.dim))]
    wte: Embedding,
    #[module(linear_no_bias(cfg.dim, cfg.vocab), tie(weight = tokens.weight))]
    lm_head: Linear,
}

#[reproducible::forward]
impl Lm {
    pub fn run(&self, x: &Tensor) -> Result<Tensor> {
        self.lm_head.forward(&self.wte.forward(x)?)
    }
}

fn main() {}
