// A generic model: the submodule type is a parameter.
use reproducible::prelude::*;

pub struct C<Inner> {
    inner: Inner,
    dim: usize,
}

#[reproducible_model(config = C<M::Config>)]
pub struct Wrapper<M: Model + Module> {
    #[module(cfg.inner)]
    inner: M,
    #[param(shape = [cfg.dim], init = zeros())]
    bias: Tensor,
}

#[reproducible::forward]
impl<M: Model + Module> Module for Wrapper<M> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.inner.forward(x)?.broadcast_add(&self.bias)
    }
}

fn main() -> Result<()> {
    let cfg = C { inner: linear(3, 5), dim: 5 };
    let w = Wrapper::<Linear>::init(&cfg, &Init::new(1))?;
    let paths: Vec<String> = w.parameters().into_iter().map(|p| p.path).collect();
    assert_eq!(paths, ["inner.weight", "inner.bias", "bias"]);
    w.forward(&Tensor::ones((2, 3), DType::F32, &Device::Cpu)?)?;
    Ok(())
}
