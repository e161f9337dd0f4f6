// `version = N` on a submodule re-rolls every parameter below it.
use reproducible::prelude::*;

pub struct Config {
    pub dim: usize,
}

#[reproducible_model(config = Config)]
pub struct Net {
    #[module(linear(cfg.dim, cfg.dim), version = 2)]
    fc: Linear,
    #[module(linear(cfg.dim, cfg.dim), count = 2, version = 3)]
    blocks: Vec<Linear>,
}

#[reproducible::forward]
impl Net {
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = self.fc.forward(x)?;
        self.blocks.iter().try_fold(x, |x, b| b.forward(&x))
    }
}

fn main() {
    Net::init(&Config { dim: 4 }, &Init::new(0)).unwrap();
}
