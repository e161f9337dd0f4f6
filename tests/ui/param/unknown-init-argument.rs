use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [4], init = normal(mean = 0.0, sdt = 0.02))]
    w: Tensor,
}

fn main() {}
