use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C, verison = 2)]
pub struct Net {
    #[param(shape = [4], init = zeros(), unused = "test")]
    w: Tensor,
}

fn main() {}
