// Scheme functions in a `#[module(..)]` config have the scope they have in
// `#[param(init = ..)]`.
use reproducible::prelude::*;

pub struct C {
    vocab: usize,
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[module(embedding(cfg.vocab, cfg.dim).weight_init(normal(0.0, 0.02)))]
    wte: Embedding,
    #[module(linear(cfg.dim, cfg.dim).weight_init(trunc_normal(std = 0.02)).bias_init(zeros()))]
    proj: Linear,
    #[module(linear(cfg.dim, cfg.dim).weight_init(kaiming_uniform(a = 5f64.sqrt(), mode = fan_out)))]
    out: Linear,
}

#[reproducible::forward]
impl Net {
    pub fn run(&self, x: &Tensor) -> Result<Tensor> {
        self.out.forward(&self.proj.forward(&self.wte.forward(x)?)?)
    }
}

fn main() {
    Net::init(&C { vocab: 7, dim: 4 }, &Init::new(0)).unwrap();
}
