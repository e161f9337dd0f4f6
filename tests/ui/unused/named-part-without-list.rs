// A named part of a model that lists no parts.
use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[module(linear(cfg.dim, cfg.dim))]
    body: Linear,
}

#[reproducible::forward(head)]
impl Module for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.body.forward(x)
    }
}

fn main() {}
