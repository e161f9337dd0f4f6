use reproducible::prelude::*;

#[reproducible_model(version = 1)]
pub struct Net {
    #[param(shape = [4], init = zeros())]
    w: Tensor,
}

fn main() {}
