// Fields named after every layer function and every name the expansion uses:
// each keeps its meaning, and the layer functions keep theirs in every later
// attribute.
use reproducible::model::ModelExt;
use reproducible::prelude::*;

pub struct Config {
    pub dim: usize,
}

#[reproducible_model(config = Config)]
pub struct Hostile {
    #[module(linear(cfg.dim, cfg.dim))]
    linear: Linear,
    #[module(linear_no_bias(cfg.dim, cfg.dim))]
    linear_no_bias: Linear,
    #[module(embedding(10, cfg.dim))]
    embedding: Embedding,
    #[module(layer_norm(cfg.dim))]
    layer_norm: LayerNorm,
    #[module(rms_norm(cfg.dim))]
    rms_norm: RmsNorm,
    #[module(batch_norm(cfg.dim))]
    batch_norm: BatchNorm,
    #[module(group_norm(2, cfg.dim))]
    group_norm: GroupNorm,
    #[module(conv1d(cfg.dim, cfg.dim, 1))]
    conv1d: Conv1d,
    #[module(conv2d(cfg.dim, cfg.dim, 1))]
    conv2d: Conv2d,
    #[module(lstm(cfg.dim, cfg.dim))]
    lstm: Lstm,
    #[module(gru(cfg.dim, cfg.dim))]
    gru: Gru,
    #[module(dropout(0.1))]
    dropout: KeyedDropout,
    #[module(linear(cfg.dim, cfg.dim))]
    ctx: Linear,
    #[param(shape = [cfg.dim], init = ones())]
    cfg: Tensor,
    #[param(shape = [cfg.dim], init = zeros())]
    field_0: Tensor,
    #[module(linear(cfg.dim, cfg.dim), count = 2)]
    list: Vec<Linear>,
    #[config(cfg.dim)]
    count: usize,
    #[module(linear(cfg.dim, cfg.dim), count = 1)]
    modules: Vec<Linear>,
    #[config(cfg.dim + 1)]
    index: usize,
    #[param(shape = [cfg.dim], init = uniform(-1, 1))]
    f: Tensor,
    #[param(shape = [cfg.dim], init = normal(0.0, 1.0))]
    value: Tensor,
    #[param(shape = [cfg.dim], init = normal(0.0, 1.0))]
    init: Tensor,
    #[param(shape = [cfg.dim], init = normal(0.0, 1.0))]
    r#type: Tensor,
    #[module(linear(cfg.dim, cfg.dim))]
    last: Linear,
}

#[reproducible::forward]
impl Hostile {
    pub fn forward_t(&self, x: &Tensor) -> Result<Tensor> {
        let _ = (&self.linear, &self.linear_no_bias, &self.embedding, &self.layer_norm, &self.rms_norm);
        let _ = (&self.batch_norm, &self.group_norm, &self.conv1d, &self.conv2d, &self.lstm, &self.gru);
        let _ = (&self.dropout, &self.ctx, &self.cfg, &self.field_0, &self.list, self.count, &self.modules);
        let _ = (self.index, &self.f, &self.value, &self.init, &self.r#type);
        self.last.forward(x)
    }
}

fn main() {
    let cfg = Config { dim: 4 };
    let net = Hostile::init(&cfg, &Init::new(1)).unwrap();
    let paths: Vec<String> = net.parameters().into_iter().map(|p| p.path).collect();
    assert!(paths.contains(&"linear.weight".to_string()) && paths.contains(&"type".to_string()));
    assert!(paths.contains(&"list.1.bias".to_string()) && paths.contains(&"ctx.weight".to_string()));
    assert_eq!((net.count, net.index), (4, 5));
    assert_eq!(net.forward_t(&Tensor::ones((2, 4), DType::F32, &Device::Cpu).unwrap()).unwrap().dims(), &[2, 4]);
}
