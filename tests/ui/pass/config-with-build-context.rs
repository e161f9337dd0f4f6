// A field computed on the model's device and in its dtype: `build = |ctx| ..`.
// The fields are named after the generated code's own names, which changes
// nothing.
use reproducible::prelude::*;

pub struct C {
    dim: usize,
    max_len: usize,
}

fn positions(cfg: &C, device: &Device, dtype: DType) -> Result<Tensor> {
    Tensor::arange(0u32, cfg.max_len as u32, device)?.to_dtype(dtype)
}

#[reproducible_model(config = C)]
pub struct Net {
    #[module(linear(cfg.dim, cfg.dim))]
    ctx: Linear,
    #[config(build = |b| positions(cfg, b.device(), b.dtype()))]
    cfg: Tensor,
    #[config(build = |c| Ok::<_, candle_core::Error>(c.dtype()))]
    __ctx: DType,
}

#[reproducible::forward]
impl Net {
    pub fn run(&self, x: &Tensor) -> Result<Tensor> {
        let _ = (&self.cfg, self.__ctx);
        self.ctx.forward(x)
    }
}

fn main() {
    let net = Net::init(&C { dim: 4, max_len: 5 }, &Init::new(0).set_dtype(DType::F64)).unwrap();
    assert_eq!(net.cfg.dims(), &[5]);
    assert_eq!(net.cfg.dtype(), DType::F64);
    assert_eq!(net.__ctx, DType::F64);
}
