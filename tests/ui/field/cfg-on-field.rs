use reproducible::prelude::*;

pub struct C;

#[reproducible_model(config = C)]
pub struct Net {
    #[cfg(unix)]
    #[param(shape = [4], init = zeros(), unused = "test")]
    extra: Tensor,
}

fn main() {}
