// `init = my_init(..)`: a function of one's own returning a `Scheme`, called
// by its bare name; and arguments of `f64` type computed from the config.
use reproducible::model::ModelExt;
use reproducible::prelude::*;
use reproducible::scheme::{normal, trunc_normal};

fn scaled_normal(depth: usize) -> Scheme {
    normal(0.0, 0.02 / (2.0 * depth as f64).sqrt())
}

pub struct Config {
    pub depth: usize,
    pub std: f64,
}

#[reproducible_model(config = Config)]
pub struct Net {
    #[param(shape = [4, 4], init = scaled_normal(cfg.depth))]
    w: Tensor,
    #[param(shape = [4], init = normal(1, cfg.std))]
    b: Tensor,
    #[param(shape = [4], init = trunc_normal(0.0, cfg.std, -2.0 * cfg.std, 2.0 * cfg.std))]
    c: Tensor,
}

#[reproducible::forward]
impl Net {
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.matmul(&self.w)?.broadcast_add(&self.b)?.broadcast_add(&self.c)
    }
}

fn main() {
    let net = Net::init(&Config { depth: 8, std: 0.5 }, &Init::new(0)).unwrap();
    assert_eq!(net.parameters().len(), 3);
}
