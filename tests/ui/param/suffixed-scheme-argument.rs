use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [4], init = normal(0.0, 0.02f32), unused = "test")]
    b: Tensor,
}

#[reproducible::forward]
impl Net {}

fn main() {}
