use reproducible::prelude::*;

pub struct C {
    scale: f32,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [4, cfg.scale], init = zeros(), unused = "test")]
    w: Tensor,
}

#[reproducible::forward]
impl Net {}

fn main() {}
