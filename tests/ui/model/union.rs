use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub union Bits {
    a: u32,
    b: f32,
}

fn main() {}
