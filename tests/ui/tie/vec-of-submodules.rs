use reproducible::prelude::*;

pub struct C {
    vocab: usize,
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Lm {
    #[module(embedding(cfg.vocab, cfg.dim))]
    wte: Embedding,
    #[module(linear_no_bias(cfg.dim, cfg.vocab), count = 2, tie(weight = wte.weight))]
    heads: Vec<Linear>,
}

#[reproducible::forward]
impl Lm {
    pub fn run(&self, x: &Tensor) -> Result<Tensor> {
        self.heads[0].forward(&self.wte.forward(x)?)
    }
}

fn main() {}
