use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Block {
    #[module(linear(cfg.dim, cfg.dim))]
    fc: Linear,
    #[param(shape = [cfg.dim], init = ones())]
    alpha: Tensor,
    #[param(shape = [cfg.dim], init = zeros())]
    gamma: Tensor,
    #[module(linear(cfg.dim, cfg.dim))]
    linear: Linear,
}

#[reproducible::forward]
impl Module for Block {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc.forward(x)
    }
}

fn main() {}
