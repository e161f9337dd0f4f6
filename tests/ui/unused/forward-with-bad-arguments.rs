use reproducible::prelude::*;

pub struct C {
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Net {
    #[module(linear(cfg.dim, cfg.dim))]
    body: Linear,
}

#[reproducible::forward(part = "main")]
impl Net {
    pub fn run(&self, x: &Tensor) -> Result<Tensor> {
        self.body.forward(x)
    }
}

// The impl is kept: this still type-checks, so only the attribute is reported.
pub fn use_it(net: &Net, x: &Tensor) -> Result<Tensor> {
    net.run(x)
}

fn main() {}
