use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [cfg.dim], init = zeros())]
    bias: Vec<f32>,
}

#[reproducible::forward]
impl Net {
    pub fn run(&self) -> usize {
        self.bias.len()
    }
}

fn main() {}
