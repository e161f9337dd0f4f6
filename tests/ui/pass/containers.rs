// Vec of submodules (same or per-index config) and Option submodules.
use reproducible::prelude::*;

pub struct C {
    dims: Vec<usize>,
    head: bool,
}

#[reproducible_model(config = C)]
pub struct Mlp {
    #[module(|i: usize| linear(cfg.dims[i], cfg.dims[i + 1]), count = cfg.dims.len() - 1)]
    layers: Vec<Linear>,
    #[module(linear_no_bias(*cfg.dims.last().unwrap(), 1), when = cfg.head)]
    head: Option<Linear>,
    #[module(layer_norm(cfg.dims[0]), count = 2, unused = "normalisers kept for checkpoint compatibility")]
    norms: Vec<LayerNorm>,
}

#[reproducible::forward]
impl Module for Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        for l in &self.layers {
            x = l.forward(&x)?.relu()?;
        }
        match &self.head {
            Some(h) => h.forward(&x),
            None => Ok(x),
        }
    }
}

fn main() -> Result<()> {
    let m = Mlp::init(&C { dims: vec![4, 8, 2], head: true }, &Init::new(3))?;
    let paths: Vec<String> = m.parameters().into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "head.weight",
         "norms.0.weight", "norms.0.bias", "norms.1.weight", "norms.1.bias"]
    );
    assert_eq!(m.forward(&Tensor::ones((3, 4), DType::F32, &Device::Cpu)?)?.dims(), &[3, 1]);
    Ok(())
}
