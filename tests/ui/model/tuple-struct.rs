use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Tuple(Tensor);

fn main() {}
