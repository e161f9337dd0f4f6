use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[param(shape = [cfg.dim], init = nromal(0.0, 1.0))]
    w: Tensor,
}

#[reproducible::forward]
impl Net {
    pub fn weight(&self) -> &Tensor {
        &self.w
    }
}

// Only the misspelt scheme is reported: the struct, its fields, `init` and the
// `Model` impl are still there for the rest of the crate.
pub fn build(cfg: &C) -> reproducible::Result<Tensor> {
    let net = Net::init(cfg, &Init::new(0))?;
    Ok(net.weight().clone())
}

fn main() {}
