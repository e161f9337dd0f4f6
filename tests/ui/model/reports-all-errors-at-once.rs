use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

// Three mistakes, three errors in one compile.
#[reproducible_model(config = C)]
pub struct Net {
    #[param(shpe = [cfg.dim], init = zeros())]
    a: Tensor,
    #[param(shape = [cfg.dim], init = nromal(0.0, 1.0))]
    b: Tensor,
    c: Tensor,
}

fn main() {}
