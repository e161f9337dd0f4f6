use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [4], init = zeros())]
    w: Tensor,
}

impl Module for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.broadcast_add(&self.w)
    }
}

fn main() {}
