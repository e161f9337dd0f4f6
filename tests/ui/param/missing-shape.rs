use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    #[param(init = normal(0.0, 1.0))]
    w: Tensor,
}

fn main() {}
