// Forward code spread over several impls (timm's `forward_features` and
// `forward_head`, a `Module` impl): each is one named part, and a field read in
// any of them counts.
use reproducible::prelude::*;

pub struct Config {
    pub dim: usize,
}

#[reproducible_model(config = Config, forward = [features, head, module])]
pub struct Net {
    #[module(linear(cfg.dim, cfg.dim))]
    body: Linear,
    #[module(layer_norm(cfg.dim))]
    norm: LayerNorm,
    #[module(linear(cfg.dim, 2))]
    classifier: Linear,
}

#[reproducible::forward(features)]
impl Net {
    pub fn forward_features(&self, x: &Tensor) -> Result<Tensor> {
        self.norm.forward(&self.body.forward(x)?)
    }
}

#[reproducible::forward(head)]
impl Net {
    pub fn forward_head(&self, x: &Tensor) -> Result<Tensor> {
        self.classifier.forward(x)
    }
}

#[reproducible::forward(module)]
impl Module for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_head(&self.forward_features(x)?)
    }
}

fn main() {
    let net = Net::init(&Config { dim: 4 }, &Init::new(0)).unwrap();
    let y = net.forward(&Tensor::ones((3, 4), DType::F32, &Device::Cpu).unwrap()).unwrap();
    assert_eq!(y.dims(), &[3, 2]);
}
