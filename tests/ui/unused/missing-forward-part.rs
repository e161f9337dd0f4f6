use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C, forward = [features, head])]
pub struct Net {
    #[module(linear(cfg.dim, cfg.dim))]
    body: Linear,
    #[module(linear(cfg.dim, 2))]
    classifier: Linear,
}

#[reproducible::forward(features)]
impl Net {
    pub fn features(&self, x: &Tensor) -> Result<Tensor> {
        self.body.forward(x)
    }
}

fn main() {}
