use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Block {
    #[module(linear(cfg.dim, cfg.dim), unused = "kept for old checkpoints")]
    fc: Linear,
}

#[reproducible::forward]
impl Module for Block {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc.forward(x)
    }
}

fn main() {}
