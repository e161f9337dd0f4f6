use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[module(embedding(cfg.dim, cfg.dim), unused = "test")]
    proj: Linear,
}

#[reproducible::forward]
impl Net {}

fn main() {}
