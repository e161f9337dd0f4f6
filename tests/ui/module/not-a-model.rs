use reproducible::prelude::*;

pub struct C;
pub struct Plain;

#[reproducible_model(config = C)]
pub struct Net {
    #[module(C, unused = "test")]
    inner: Plain,
}

#[reproducible::forward]
impl Net {}

fn main() {}
