// The natural first try at forward code in two impls: each needs a part name.
use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[module(linear(cfg.dim, cfg.dim))]
    body: Linear,
    #[module(linear(cfg.dim, 2))]
    head: Linear,
}

#[reproducible::forward]
impl Net {
    pub fn features(&self, x: &Tensor) -> Result<Tensor> {
        self.body.forward(x)
    }
}

#[reproducible::forward]
impl Module for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.head.forward(&self.features(x)?)
    }
}

fn main() {}
