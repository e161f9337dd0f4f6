use reproducible::prelude::*;

pub struct C {
    heads: usize,
}

#[reproducible_model(config = C)]
pub struct Attention {
    #[param(shape = [1, cfg.heads, 1, 1], init = ones())]
    alpha: Tensor,
    #[param(shape = [1, cfg.heads, 1, 1], init = normal(0.0, 1.0))]
    gamma: Tensor,
}

#[reproducible::forward]
impl Module for Attention {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.broadcast_mul(&self.alpha)
    }
}

fn main() {}
