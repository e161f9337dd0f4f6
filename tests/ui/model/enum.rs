use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub enum Either {
    Left { w: Tensor },
    Right { b: Tensor },
}

fn main() {}
