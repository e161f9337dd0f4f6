use reproducible::prelude::*;

pub struct C {
    std: f32,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [4], init = normal(0.0, cfg.std), unused = "test")]
    a: Tensor,
}

#[reproducible::forward]
impl Net {}

fn main() {}
