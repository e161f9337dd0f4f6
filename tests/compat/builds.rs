//! How long unmodified candle-transformers models take to build: through
//! candle-nn's `VarMap` (candle's own random init) and through `KeyedVars`
//! (trainable, so both give `Var`s), with candle's hints and with the family's
//! recipe; and first, the cost of one request of each kind a layer makes.
//! Base-sized configurations (Llama-family models cut to a few layers
//! so that a run stays short); one thread and all threads; best of a few runs
//! after a warm-up. Prints figures and ratios, asserts nothing about speed.
//!
//! ```text
//! cargo bench -p reproducible-compat-tests --bench builds [-- --runs N] [--requests-only]
//! ```

use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models as m;
use reproducible::backend::KeyedVars;
use reproducible::recipes::{self, T5Sizes};
use reproducible::rules::Rules;

type Build = Box<dyn Fn(VarBuilder) + Send + Sync>;

struct Family {
    name: &'static str,
    build: Build,
    recipe: Rules,
}

/// The number of parameter elements a builder created.
fn count(keyed: Option<&KeyedVars>, varmap: Option<&VarMap>) -> usize {
    let vars = match (keyed, varmap) {
        (Some(k), _) => k.varmap().all_vars(),
        (_, Some(v)) => v.all_vars(),
        _ => Vec::new(),
    };
    vars.iter().map(|v| v.elem_count()).sum()
}

fn llama_json(layers: usize, extra: serde_json::Value) -> serde_json::Value {
    let mut base = serde_json::json!({
        "vocab_size": 32000, "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": layers,
        "num_attention_heads": 32, "num_key_value_heads": 4, "rms_norm_eps": 1e-5,
        "max_position_embeddings": 2048, "rope_theta": 10000.0, "hidden_act": "silu",
        "tie_word_embeddings": false, "sliding_window": 2048, "max_window_layers": layers,
        "use_sliding_window": false
    });
    base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    base
}

fn families() -> Vec<Family> {
    let bert: m::bert::Config = serde_json::from_value(serde_json::json!({
        "vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
        "intermediate_size": 3072, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "max_position_embeddings": 512, "type_vocab_size": 2, "initializer_range": 0.02,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "model_type": "bert"
    }))
    .unwrap();
    let llama: m::llama::LlamaConfig = serde_json::from_value(llama_json(4, serde_json::json!({}))).unwrap();
    let llama = llama.into_config(false);
    let mistral: m::mistral::Config = serde_json::from_value(llama_json(4, serde_json::json!({}))).unwrap();
    let qwen2: m::qwen2::Config = serde_json::from_value(llama_json(4, serde_json::json!({}))).unwrap();
    let mixtral: m::mixtral::Config = serde_json::from_value(llama_json(
        2,
        serde_json::json!({"hidden_size": 1024, "intermediate_size": 1408, "num_local_experts": 8, "num_experts_per_tok": 2, "use_flash_attn": false}),
    ))
    .unwrap();
    let t5: m::t5::Config = serde_json::from_value(serde_json::json!({
        "vocab_size": 32128, "d_model": 512, "d_kv": 64, "d_ff": 2048, "num_layers": 6,
        "num_decoder_layers": 6, "num_heads": 8, "relative_attention_num_buckets": 32,
        "dropout_rate": 0.1, "layer_norm_epsilon": 1e-6, "initializer_factor": 1.0,
        "feed_forward_proj": "relu", "tie_word_embeddings": true, "is_encoder_decoder": true,
        "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0
    }))
    .unwrap();
    let vit = m::vit::Config::vit_base_patch16_224();
    let whisper: m::whisper::Config = serde_json::from_value(serde_json::json!({
        "num_mel_bins": 80, "max_source_positions": 1500, "d_model": 512, "encoder_attention_heads": 8,
        "encoder_layers": 6, "vocab_size": 51865, "max_target_positions": 448,
        "decoder_attention_heads": 8, "decoder_layers": 6
    }))
    .unwrap();
    let t5_sizes = T5Sizes::default();
    vec![
        Family {
            name: "bert-base",
            build: Box::new(move |vb| {
                m::bert::BertModel::load(vb, &bert).unwrap();
            }),
            recipe: recipes::bert(0.02),
        },
        Family {
            name: "llama (TinyLlama dims, 4 layers)",
            build: Box::new(move |vb| {
                m::llama::Llama::load(vb, &llama).unwrap();
            }),
            recipe: recipes::llama(0.02),
        },
        Family {
            name: "mistral (4 layers)",
            build: Box::new(move |vb| {
                m::mistral::Model::new(&mistral, vb).unwrap();
            }),
            recipe: recipes::mistral(0.02),
        },
        Family {
            name: "qwen2 (4 layers)",
            build: Box::new(move |vb| {
                m::qwen2::ModelForCausalLM::new(&qwen2, vb).unwrap();
            }),
            recipe: recipes::qwen2(0.02),
        },
        Family {
            name: "mixtral (8 experts, 2 layers)",
            build: Box::new(move |vb| {
                m::mixtral::Model::new(&mixtral, vb).unwrap();
            }),
            recipe: recipes::mixtral(0.02),
        },
        Family {
            name: "t5-small",
            build: Box::new(move |vb| {
                m::t5::T5ForConditionalGeneration::load(vb, &t5).unwrap();
            }),
            recipe: recipes::t5(&t5_sizes),
        },
        Family {
            name: "vit-base-patch16-224",
            build: Box::new(move |vb| {
                m::vit::Model::new(&vit, 1000, vb).unwrap();
            }),
            recipe: recipes::vit(0.02),
        },
        Family {
            name: "whisper-base",
            build: Box::new(move |vb| {
                m::whisper::model::Whisper::load(&vb, whisper.clone()).unwrap();
            }),
            recipe: recipes::whisper(0.02),
        },
        Family {
            name: "efficientnet-b0",
            build: Box::new(move |vb| {
                m::efficientnet::EfficientNet::new(vb, m::efficientnet::MBConvConfig::b0(), 1000).unwrap();
            }),
            recipe: Rules::new(),
        },
    ]
}

/// The best of `runs` timed calls after one warm-up, in seconds, and the
/// parameter count the last call built.
fn best(runs: usize, f: impl Fn() -> usize) -> (f64, usize) {
    let mut params = f();
    let mut secs = f64::INFINITY;
    for _ in 0..runs {
        let t = Instant::now();
        params = f();
        secs = secs.min(t.elapsed().as_secs_f64());
    }
    (secs, params)
}

/// The best of `runs` timed calls after one warm-up, in seconds: the time to
/// make what `f` returns, and the time to make it and drop it.
fn best_kept<T>(runs: usize, f: impl Fn() -> T) -> (f64, f64) {
    drop(f());
    let (mut made, mut whole) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..runs {
        let t = Instant::now();
        let kept = f();
        made = made.min(t.elapsed().as_secs_f64());
        drop(kept);
        whole = whole.min(t.elapsed().as_secs_f64());
    }
    (made, whole)
}

/// One kind of request a candle layer makes of its `VarBuilder`.
struct Request {
    name: &'static str,
    shape: &'static [usize],
    hint: candle_nn::Init,
}

const REQUESTS: [Request; 4] = [
    Request {
        name: "constant [64] (a norm's weight)",
        shape: &[64],
        hint: candle_nn::Init::Const(1.0),
    },
    Request {
        name: "zeros [64] (a bias, plain vb.get)",
        shape: &[64],
        hint: candle_nn::Init::Const(0.0),
    },
    Request {
        name: "normal [64]",
        shape: &[64],
        hint: candle_nn::Init::Randn { mean: 0.0, stdev: 0.02 },
    },
    Request {
        name: "kaiming [64, 64] (a linear's weight)",
        shape: &[64, 64],
        hint: candle_nn::init::DEFAULT_KAIMING_NORMAL,
    },
];

/// Per request, in microseconds: `count` requests of one kind at distinct
/// paths through `vb`.
fn requests(vb: &VarBuilder, request: &Request, count: usize) {
    for i in 0..count {
        vb.get_with_hints(request.shape, &format!("layers.{i}.weight"), request.hint)
            .unwrap();
    }
}

fn request_table(runs: usize) {
    const COUNT: usize = 2000;
    let cpu = Device::Cpu;
    println!("Requests of one kind, {COUNT} at distinct paths, F32, one thread, trainable, best of {runs}");
    println!(
        "{:<40} {:>14} {:>14} {:>9} {:>14} {:>14} {:>9}",
        "request", "VarMap", "KeyedVars", "x VarMap", "+ drop: VarMap", "KeyedVars", "x VarMap"
    );
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    for request in &REQUESTS {
        let varmap = pool.install(|| {
            best_kept(runs, || {
                let vm = VarMap::new();
                requests(&VarBuilder::from_varmap(&vm, DType::F32, &cpu), request, COUNT);
                vm
            })
        });
        let keyed = pool.install(|| {
            best_kept(runs, || {
                let k = KeyedVars::trainable(0, DType::F32, &cpu);
                requests(&k.var_builder(), request, COUNT);
                k
            })
        });
        let per = |secs: f64| secs * 1e6 / COUNT as f64;
        println!(
            "{:<40} {:>8.2} us/req {:>8.2} us/req {:>8.2}x {:>8.2} us/req {:>8.2} us/req {:>8.2}x",
            request.name,
            per(varmap.0),
            per(keyed.0),
            varmap.0 / keyed.0,
            per(varmap.1),
            per(keyed.1),
            varmap.1 / keyed.1,
        );
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|r| r.parse().ok())
        .unwrap_or(2usize);
    request_table(runs.max(25));
    if args.iter().any(|a| a == "--requests-only") {
        return;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pools: Vec<(usize, rayon::ThreadPool)> = [1, threads]
        .into_iter()
        .map(|n| (n, rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()))
        .collect();
    let cpu = Device::Cpu;
    println!(
        "Building candle-transformers models, F32, best of {runs} after a warm-up; x VarMap: VarMap's time over ours"
    );
    println!(
        "{:<36} {:>12} {:>8} {:>12} {:>12} {:>9} {:>12} {:>9}",
        "model", "parameters", "threads", "VarMap", "KeyedVars", "x VarMap", "+ recipe", "x VarMap"
    );
    for family in families() {
        for (n, pool) in &pools {
            let (varmap, params) = pool.install(|| {
                best(runs, || {
                    let vm = VarMap::new();
                    (family.build)(VarBuilder::from_varmap(&vm, DType::F32, &cpu));
                    count(None, Some(&vm))
                })
            });
            let (keyed, keyed_params) = pool.install(|| {
                best(runs, || {
                    let k = KeyedVars::trainable(0, DType::F32, &cpu);
                    (family.build)(k.var_builder());
                    count(Some(&k), None)
                })
            });
            let (recipe, _) = pool.install(|| {
                best(runs, || {
                    let k = KeyedVars::trainable(0, DType::F32, &cpu).rules(family.recipe.clone());
                    (family.build)(k.var_builder());
                    count(Some(&k), None)
                })
            });
            assert_eq!(
                params, keyed_params,
                "{}: both builders make the same parameters",
                family.name
            );
            println!(
                "{:<36} {:>12} {:>8} {:>9.1} ms {:>9.1} ms {:>8.2}x {:>9.1} ms {:>8.2}x",
                family.name,
                params,
                n,
                varmap * 1e3,
                keyed * 1e3,
                varmap / keyed,
                recipe * 1e3,
                varmap / recipe
            );
        }
    }
}
