use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    #[module(key = "proj")]
    proj: Linear,
}

fn main() {}
