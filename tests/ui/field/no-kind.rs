use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    w: Tensor,
}

fn main() {}
