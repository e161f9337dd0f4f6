// Uses the check accepts: helpers in the annotated impl, destructuring, macros;
// field options: #[config] sugar, dtype, frozen, key alias, unused opt-out.
use reproducible::prelude::*;

#[derive(Clone)]
pub struct C {
    dim: usize,
    eps: f64,
}

#[reproducible_model(config = C, version = 7)]
pub struct Norm {
    #[param(shape = [cfg.dim], init = ones(), key = "weight")]
    scale: Tensor,
    #[param(shape = [cfg.dim], init = zeros(), dtype = F64, frozen)]
    shift: Tensor,
    #[param(shape = [cfg.dim], init = normal(0.0, 0.02), unused = "kept for checkpoint compatibility")]
    legacy: Tensor,
    #[config]
    eps: f64,
}

#[reproducible::forward]
impl Norm {
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let Self { scale, .. } = self;
        let y = self.normalise(x)?.broadcast_mul(scale)?;
        let shift = self.shift.to_dtype(DType::F32)?;
        y.broadcast_add(&shift)
    }

    fn normalise(&self, x: &Tensor) -> Result<Tensor> {
        let eps = format!("{}", self.eps).parse::<f64>().unwrap();
        let var = x.sqr()?.mean_keepdim(D::Minus1)?;
        x.broadcast_div(&(var + eps)?.sqrt()?)
    }
}

fn main() -> Result<()> {
    let n = Norm::init(&C { dim: 3, eps: 1e-5 }, &Init::new(0))?;
    let p = n.parameters();
    assert_eq!(p.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(), ["weight", "shift", "legacy"]);
    assert!(!p[1].trainable && p[1].tensor.dtype() == DType::F64);
    assert_eq!(n.trainable_vars()?.len(), 2);
    assert_eq!(Norm::MODEL_VERSION, 7);
    n.forward(&Tensor::ones((2, 3), DType::F32, &Device::Cpu)?)?;
    Ok(())
}
