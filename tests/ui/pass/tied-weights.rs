// A language-model head tied to the token embedding: one tensor, listed once,
// shared by both fields.
use reproducible::prelude::*;

pub struct C {
    vocab: usize,
    dim: usize,
}

#[reproducible_model(config = C)]
pub struct Lm {
    #[module(embedding(cfg.vocab, cfg.dim).weight_init(normal(0.0, 0.02)))]
    wte: Embedding,
    #[module(linear_no_bias(cfg.dim, cfg.vocab), tie(weight = wte.weight))]
    lm_head: Linear,
    #[param(shape = [cfg.vocab, cfg.dim], init = zeros())]
    table: Tensor,
    #[module(linear_no_bias(cfg.dim, cfg.vocab), tie(weight = table))]
    second: Linear,
}

#[reproducible::forward]
impl Lm {
    pub fn run(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.wte.forward(x)?;
        let _ = &self.table;
        self.lm_head.forward(&h)? + self.second.forward(&h)?
    }
}

fn main() {
    let lm = Lm::init(&C { vocab: 11, dim: 4 }, &Init::new(3)).unwrap();
    let paths: Vec<String> = lm.parameters().into_iter().map(|p| p.path).collect();
    assert_eq!(paths, ["wte.weight", "table"]);
    assert_eq!(lm.lm_head.weight().id(), lm.wte.embeddings().id());
}
