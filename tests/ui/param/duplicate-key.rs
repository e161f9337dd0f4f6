use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [4], init = zeros(), init = ones())]
    w: Tensor,
}

fn main() {}
