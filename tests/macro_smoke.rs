use reproducible::prelude::*;

pub struct ScaleConfig {
    pub dim: usize,
}

#[reproducible_model(config = ScaleConfig, version = 3)]
pub struct Scale {
    #[param(shape = [cfg.dim], init = normal(1.0, 0.02))]
    gamma: Tensor,
    #[param(shape = [cfg.dim], init = zeros(), frozen, key = "bias")]
    beta: Tensor,
    #[config(cfg.dim)]
    dim: usize,
}

#[reproducible::forward]
impl Module for Scale {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _ = self.dim;
        x.broadcast_mul(&self.gamma)?.broadcast_add(&self.beta)
    }
}

pub struct NetConfig {
    pub dim: usize,
    pub depth: usize,
    pub head: bool,
}

#[reproducible_model(config = NetConfig)]
pub struct Net {
    #[module(ScaleConfig { dim: cfg.dim }, count = cfg.depth)]
    blocks: Vec<Scale>,
    #[module(ScaleConfig { dim: cfg.dim }, when = cfg.head)]
    head: Option<Scale>,
    #[param(shape = [cfg.dim, cfg.dim], init = kaiming_uniform(a = 5f64.sqrt(), mode = fan_out), version = 2)]
    w: Tensor,
}

#[reproducible::forward]
impl Module for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.matmul(&self.w)?;
        for b in &self.blocks {
            x = b.forward(&x)?;
        }
        match &self.head {
            Some(h) => h.forward(&x),
            None => Ok(x),
        }
    }
}

#[test]
fn smoke() {
    let cfg = NetConfig { dim: 4, depth: 2, head: true };
    let net = Net::init(&cfg, &Init::new(0)).unwrap();
    let paths: Vec<String> = net.parameters().into_iter().map(|p| format!("{}:{}", p.path, p.trainable)).collect();
    assert_eq!(paths, ["blocks.0.gamma:true", "blocks.0.bias:false", "blocks.1.gamma:true", "blocks.1.bias:false", "head.gamma:true", "head.bias:false", "w:true"]);
    assert_eq!(Scale::MODEL_VERSION, 3);
    let y = net.forward(&Tensor::ones((1, 4), DType::F32, &Device::Cpu).unwrap()).unwrap();
    assert_eq!(y.dims(), &[1, 4]);
}
