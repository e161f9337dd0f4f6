use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [4], init = zeros(), version = 1.5)]
    w: Tensor,
}

fn main() {}
