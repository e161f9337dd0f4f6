// A generic model that is never instantiated: its unused field is still an
// error where the model is defined, in `cargo check` too.
use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Mlp<const R: usize> {
    #[module(linear(cfg.dim, cfg.dim * R))]
    up: Linear,
    #[module(linear(cfg.dim * R, cfg.dim))]
    down: Linear,
}

#[reproducible::forward]
impl<const R: usize> Module for Mlp<R> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.up.forward(x)
    }
}

fn main() {}
