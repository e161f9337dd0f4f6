//! Tensor parallelism as candle code writes it: the loaders below are written
//! the way candle-examples' `llama_multiprocess` writes its model, against
//! candle-nn's `ShardedVarBuilder` and `Shard` hints: column-parallel linears
//! split dim 0, row-parallel ones dim 1, embeddings, norms and the head are
//! asked for whole with `vb.get`. Porting such code to keyed streams changes
//! the `VarBuilder` import and the constructor; the recipe gives every tensor
//! its scheme, since a `Shard` hint carries none.

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{Embedding, Linear, RmsNorm};
// The one import that changes: was `candle_nn::var_builder::ShardedVarBuilder as VarBuilder`.
use reproducible::backend::{KeyedVars, ShardedVarBuilder as VarBuilder};
use reproducible::recipes;

/// What the loaders need of NCCL's communicator: the rank and the world size.
/// (The all-reduce of the row-parallel outputs is done by the test, by summing
/// the ranks' partial outputs.)
#[derive(Clone, Copy)]
struct Comm {
    rank: usize,
    world_size: usize,
}

struct Config {
    hidden_size: usize,
    intermediate_size: usize,
    vocab_size: usize,
    num_hidden_layers: usize,
}

fn shard(dim: usize, rank: usize, world_size: usize) -> candle_nn::var_builder::Shard {
    candle_nn::var_builder::Shard { dim, rank, world_size }
}

struct ColumnParallel(Linear);

impl ColumnParallel {
    fn load(vb: VarBuilder, comm: Comm, shape: (usize, usize)) -> Result<Self> {
        let weight = vb.get_with_hints(shape, "weight", shard(0, comm.rank, comm.world_size))?;
        Ok(Self(Linear::new(weight, None)))
    }
}

/// Without its all-reduce: each rank's output is a partial sum.
struct RowParallel(Linear);

impl RowParallel {
    fn load(vb: VarBuilder, comm: Comm, shape: (usize, usize)) -> Result<Self> {
        let weight = vb.get_with_hints(shape, "weight", shard(1, comm.rank, comm.world_size))?;
        Ok(Self(Linear::new(weight, None)))
    }
}

struct Mlp {
    gate: ColumnParallel,
    up: ColumnParallel,
    down: RowParallel,
}

impl Mlp {
    fn load(vb: VarBuilder, cfg: &Config, comm: Comm) -> Result<Self> {
        let (h, i) = (cfg.hidden_size, cfg.intermediate_size);
        Ok(Self {
            gate: ColumnParallel::load(vb.pp("gate_proj"), comm, (i, h))?,
            up: ColumnParallel::load(vb.pp("up_proj"), comm, (i, h))?,
            down: RowParallel::load(vb.pp("down_proj"), comm, (h, i))?,
        })
    }

    /// This rank's partial output: the sum over ranks is the MLP's output.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let gated = (candle_nn::ops::silu(&self.gate.0.forward(x)?)? * self.up.0.forward(x)?)?;
        self.down.0.forward(&gated)
    }
}

struct Block {
    q: ColumnParallel,
    o: RowParallel,
    norm: RmsNorm,
    mlp: Mlp,
}

fn rms_norm(size: usize, vb: VarBuilder) -> Result<RmsNorm> {
    let weight = vb.get_with_hints(size, "weight", shard(0, 0, 1))?;
    Ok(RmsNorm::new(weight, 1e-5))
}

struct Llama {
    wte: Embedding,
    blocks: Vec<Block>,
    ln_f: RmsNorm,
    lm_head: Linear,
}

impl Llama {
    fn load(vb: VarBuilder, cfg: &Config, comm: Comm) -> Result<Self> {
        let h = cfg.hidden_size;
        let wte = Embedding::new(vb.pp("model.embed_tokens").get((cfg.vocab_size, h), "weight")?, h);
        let lm_head = Linear::new(vb.pp("lm_head").get((cfg.vocab_size, h), "weight")?, None);
        let ln_f = rms_norm(h, vb.pp("model.norm"))?;
        let blocks = (0..cfg.num_hidden_layers)
            .map(|i| {
                let vb = vb.pp(format!("model.layers.{i}"));
                Ok(Block {
                    q: ColumnParallel::load(vb.pp("self_attn.q_proj"), comm, (h, h))?,
                    o: RowParallel::load(vb.pp("self_attn.o_proj"), comm, (h, h))?,
                    norm: rms_norm(h, vb.pp("input_layernorm"))?,
                    mlp: Mlp::load(vb.pp("mlp"), cfg, comm)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            wte,
            blocks,
            ln_f,
            lm_head,
        })
    }
}

const CFG: Config = Config {
    hidden_size: 32,
    intermediate_size: 64,
    vocab_size: 40,
    num_hidden_layers: 2,
};

/// One rank's model, built through keyed streams: the constructor that changes.
fn rank_model(comm: Comm) -> (KeyedVars, Llama) {
    let keyed = KeyedVars::new(2024, DType::F32, &Device::Cpu).rules(recipes::llama(0.02));
    let model = Llama::load(keyed.sharded_var_builder(), &CFG, comm).unwrap();
    keyed.check_rules().unwrap();
    (keyed, model)
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .into_iter()
        .map(f32::to_bits)
        .collect()
}

#[test]
fn shards_concatenate_to_the_whole_and_the_parallel_mlp_computes_the_whole_one() {
    let (whole_vars, whole) = rank_model(Comm { rank: 0, world_size: 1 });
    let whole_tensors: std::collections::HashMap<String, Tensor> = whole_vars.tensors().into_iter().collect();
    assert_eq!(whole_tensors.len(), 3 + 2 * 6);
    // The recipe gave the whole-tensor requests their schemes: nothing is zero.
    assert!(bits(&whole_tensors["model.norm.weight"])
        .iter()
        .all(|&b| b == 1f32.to_bits()));
    assert!(bits(&whole_tensors["model.embed_tokens.weight"])
        .iter()
        .all(|&b| b != 0));

    let x = Tensor::arange(0f32, 4.0 * 32.0, &Device::Cpu)
        .unwrap()
        .reshape((4, 32))
        .unwrap()
        .affine(0.01, -0.5)
        .unwrap()
        .sin()
        .unwrap();
    let reference = whole.blocks[1].mlp.forward(&x).unwrap();

    for world_size in [1usize, 2, 4, 8] {
        let ranks: Vec<(KeyedVars, Llama)> = (0..world_size)
            .map(|rank| rank_model(Comm { rank, world_size }))
            .collect();
        let tensors: Vec<std::collections::HashMap<String, Tensor>> =
            ranks.iter().map(|(k, _)| k.tensors().into_iter().collect()).collect();
        for (path, full) in &whole_tensors {
            let split = if path.contains("q_proj") || path.contains("gate_proj") || path.contains("up_proj") {
                Some(0)
            } else if path.contains("o_proj") || path.contains("down_proj") {
                Some(1)
            } else {
                None
            };
            match split {
                Some(dim) => {
                    let parts: Vec<Tensor> = tensors.iter().map(|t| t[path].clone()).collect();
                    assert_eq!(parts[0].dim(dim).unwrap() * world_size, full.dim(dim).unwrap());
                    let joined = Tensor::cat(&parts, dim).unwrap();
                    assert_eq!(bits(&joined), bits(full), "{path}: world {world_size}");
                }
                None => {
                    for t in &tensors {
                        assert_eq!(bits(&t[path]), bits(full), "{path}: world {world_size}");
                    }
                }
            }
        }
        // The all-reduce: the sum of the ranks' partial outputs. Summing in
        // another order rounds differently, so it agrees to float precision.
        let mut sum = ranks[0].1.blocks[1].mlp.forward(&x).unwrap();
        for (_, model) in &ranks[1..] {
            sum = (sum + model.blocks[1].mlp.forward(&x).unwrap()).unwrap();
        }
        let diff = (sum - &reference)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let scale = reference.abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(
            scale > 0.0 && diff <= 1e-5 * scale,
            "world {world_size}: {diff} of {scale}"
        );
        if world_size == 1 {
            assert_eq!(diff, 0.0, "one rank is the whole model");
        }
        // The rest of the model runs on each rank.
        let (_, model) = &ranks[world_size - 1];
        let h = model
            .wte
            .forward(&Tensor::new(&[[1u32, 2, 3]], &Device::Cpu).unwrap())
            .unwrap();
        let h = model.blocks[0].norm.forward(&h).unwrap();
        let q = model.blocks[0].q.0.forward(&h).unwrap();
        assert_eq!(q.dims(), &[1, 3, 32 / world_size]);
        let partial = model.blocks[0].o.0.forward(&q).unwrap();
        let logits = model.lm_head.forward(&model.ln_f.forward(&partial).unwrap()).unwrap();
        assert_eq!(logits.dims(), &[1, 3, 40]);
    }
}
