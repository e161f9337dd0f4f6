use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [4, 4], init = kaiming_unifrom())]
    w: Tensor,
}

fn main() {}
