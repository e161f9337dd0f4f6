// Every init scheme, positional and keyword forms, builder chains, and a Scheme value.
use reproducible::prelude::*;
use reproducible::scheme::{orthogonal, FanMode};

pub struct C {
    n: usize,
}

fn my_scheme() -> Scheme {
    orthogonal().gain(2.0)
}

const SCALED: Scheme = Scheme::XavierNormal { gain: 2.0 };

#[reproducible_model(config = C)]
pub struct All {
    #[param(shape = [cfg.n], init = uniform(-0.1, 0.1))]
    a: Tensor,
    #[param(shape = [cfg.n], init = normal(mean = 0.0, std = 0.02))]
    b: Tensor,
    #[param(shape = [cfg.n], init = trunc_normal(std = 0.02, a = -0.04, b = 0.04))]
    c: Tensor,
    #[param(shape = [cfg.n], init = constant(0.5))]
    d: Tensor,
    #[param(shape = [cfg.n], init = zeros())]
    e: Tensor,
    #[param(shape = [cfg.n], init = ones())]
    f: Tensor,
    #[param(shape = [cfg.n, cfg.n], init = eye())]
    g: Tensor,
    #[param(shape = [cfg.n, cfg.n, 3], init = dirac(groups = 2))]
    h: Tensor,
    #[param(shape = [cfg.n, cfg.n], init = xavier_uniform(gain = 5.0 / 3.0))]
    i: Tensor,
    #[param(shape = [cfg.n, cfg.n], init = xavier_normal())]
    j: Tensor,
    #[param(shape = [cfg.n, cfg.n], init = kaiming_uniform(a = 5f64.sqrt()))]
    k: Tensor,
    #[param(shape = [cfg.n, cfg.n], init = kaiming_normal(mode = "fan_out", nonlinearity = relu))]
    l: Tensor,
    #[param(shape = [cfg.n, cfg.n], init = orthogonal(1.0))]
    m: Tensor,
    #[param(shape = [cfg.n, cfg.n], init = sparse(0.5, std = 0.01))]
    n: Tensor,
    #[param(shape = [cfg.n, cfg.n], init = kaiming_uniform().mode(FanMode::FanOut))]
    o: Tensor,
    #[param(shape = [cfg.n, cfg.n], init = SCALED)]
    p: Tensor,
    #[param(shape = vec![cfg.n, 2], init = self::my_scheme())]
    q: Tensor,
}

#[reproducible::forward]
impl All {
    fn total(&self) -> Result<Tensor> {
        let Self { a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q } = self;
        let _ = (g, h, i, j, k, l, m, n, o, p, q);
        ((a + b)? + (c + d)? + (e + f)?)?.sum_all()
    }
}

fn main() -> Result<()> {
    let all = All::init(&C { n: 4 }, &Init::new(0))?;
    all.total()?;
    assert_eq!(all.parameters().len(), 17);
    Ok(())
}
