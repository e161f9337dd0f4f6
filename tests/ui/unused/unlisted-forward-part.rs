// A named part that the model does not list would silently not count.
use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C, forward = [features])]
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

#[reproducible::forward(head)]
impl Module for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.classifier.forward(&self.features(x)?)
    }
}

fn main() {}
