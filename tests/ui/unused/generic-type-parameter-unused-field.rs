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
        self.inner.forward(x)
    }
}

fn main() {}
