// A user's own items keep their meaning in the expressions they write: this
// crate's `linear` (no bias) and `ctx` win over the prelude's and the macro's.
use reproducible::layers::LinearSpec;
use reproducible::model::ModelExt;
use reproducible::prelude::*;

/// The user's own `linear`: every layer built with it has no bias.
fn linear(i: usize, o: usize) -> LinearSpec {
    reproducible::layers::linear_no_bias(i, o)
}

const ctx: usize = 3;

pub struct Config;

#[reproducible_model(config = Config)]
pub struct Net {
    #[module(linear(ctx, ctx))]
    fc: Linear,
    #[param(shape = [ctx], init = zeros())]
    b: Tensor,
}

#[reproducible::forward]
impl Net {
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc.forward(x)?.broadcast_add(&self.b)
    }
}

fn main() {
    let net = Net::init(&Config, &Init::new(0)).unwrap();
    let paths: Vec<String> = net.parameters().into_iter().map(|p| p.path).collect();
    assert_eq!(paths, ["fc.weight", "b"]);
}
