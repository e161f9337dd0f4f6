use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [4], init = zeros(), unused = "test")]
    scale: Tensor,
    #[param(shape = [4], init = ones(), key = "scale", unused = "test")]
    renamed_scale: Tensor,
}

fn main() {}
