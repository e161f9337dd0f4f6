use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C, forward = [head])]
pub struct Net {
    #[module(linear(cfg.dim, cfg.dim))]
    body: Linear,
}

#[reproducible::forward(head)]
impl Net {
    pub fn run(&self, x: &Tensor) -> Result<Tensor> {
        self.body.forward(x)
    }
}

#[reproducible::forward(head)]
impl Module for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.run(x)
    }
}

fn main() {}
