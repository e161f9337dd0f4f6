use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[module(linear(cfg.dim, cfg.dim), version = 0, unused = "test")]
    fc: Linear,
}

#[reproducible::forward]
impl Net {}

fn main() {}
