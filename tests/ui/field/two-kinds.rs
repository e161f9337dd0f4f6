use reproducible::prelude::*;

pub struct C {
    n: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[config(cfg.n)]
    #[param(shape = [4], init = zeros())]
    n: usize,
}

fn main() {}
