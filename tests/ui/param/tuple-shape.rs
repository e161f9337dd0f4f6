use reproducible::prelude::*;

pub struct C {
    heads: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = (1, cfg.heads, 1, 1), init = ones(), unused = "test")]
    alpha: Tensor,
}

#[reproducible::forward]
impl Net {}

fn main() {}
