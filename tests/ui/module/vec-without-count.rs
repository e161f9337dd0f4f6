use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[module(linear(cfg.dim, cfg.dim))]
    blocks: Vec<Linear>,
}

fn main() {}
