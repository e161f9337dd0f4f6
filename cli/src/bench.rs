//! `repro bench`: how fast parameters are generated, against the machine's own
//! limit (the rate at which it fills memory) and against candle's `rand` /
//! `randn`, all measured in the same run.
//!
//! Every figure is the best of `--runs` timed runs after one warm-up run, wall
//! clock. "Fresh" rows allocate their output and touch it for the first time
//! (page faults included), as a model's constructor does; "prefaulted" rows
//! write into memory already touched. Ratios: `% fill` is the fill rate's time
//! over ours (100% = as fast as writing the bytes at all), `x candle` candle's
//! time over ours, `scaling` the one-thread time over the all-threads time.

use std::fmt::Write as _;
use std::io::Write;
use std::ops::Range;
use std::time::{Duration, Instant};

use candle_core::{DType, Device, FloatDType, Tensor};
use half::bf16;
use rayon::prelude::*;
use reproducible::generate::Element;
use reproducible::generate::{generate_into, generate_into_with};
use reproducible::kernels::{self, Path};
use reproducible::model::ModelExt;
use reproducible::prelude::*;
use reproducible::scheme::{kaiming_uniform, normal, trunc_normal, uniform};
use reproducible::stream::Stream;

/// Arguments of `repro bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tiny sizes and one run each: checks that every benchmark runs, in seconds;
    /// the figures mean nothing.
    #[arg(long)]
    quick: bool,
    /// Timed runs per figure (after one warm-up); the best is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Leave out the 1B-parameter model (it needs about 4 GB of memory).
    #[arg(long)]
    no_llama: bool,
    /// Run only these tables (comma-separated); all of them by default.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Table>,
    #[arg(long, help = crate::kernel::HELP)]
    kernel: Option<String>,
}

/// A table of the report, for `--only`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Table {
    /// Element rates, F32 and BF16, against the fill rate and candle.
    Rates,
    /// Each kernel path this machine runs.
    Paths,
    /// Whole-model init and per-parameter overhead.
    Models,
    /// Short last dimensions and orthogonal init.
    Shapes,
    /// Sharded init per rank.
    Shards,
    /// `repro diff` of two large lockfiles: time and peak memory.
    Files,
}

// ---------------------------------------------------------------------------
// The models, built with the macro exactly as a user would write them.

/// A ViT configuration (`ViT-B/16`: dim 768, depth 12, 12 heads, mlp 3072, patch
/// 16, 224 x 224 images so 197 tokens, 1000 classes).
#[derive(Clone, Debug)]
pub struct VitConfig {
    dim: usize,
    depth: usize,
    heads: usize,
    mlp: usize,
    patch: usize,
    tokens: usize,
    classes: usize,
}

impl VitConfig {
    fn base16() -> Self {
        Self {
            dim: 768,
            depth: 12,
            heads: 12,
            mlp: 3072,
            patch: 16,
            tokens: 197,
            classes: 1000,
        }
    }

    fn tiny() -> Self {
        Self {
            dim: 32,
            depth: 2,
            heads: 2,
            mlp: 64,
            patch: 4,
            tokens: 17,
            classes: 10,
        }
    }
}

/// Softmax over the last dimension.
fn softmax(x: &Tensor) -> Result<Tensor> {
    let e = x.broadcast_sub(&x.max_keepdim(D::Minus1)?)?.exp()?;
    e.broadcast_div(&e.sum_keepdim(D::Minus1)?)
}

/// The parameter count of a ViT configuration.
fn vit_params(c: &VitConfig) -> usize {
    let block =
        2 * 2 * c.dim + 3 * c.dim * c.dim + 3 * c.dim + c.dim * c.dim + c.dim + 2 * c.dim * c.mlp + c.mlp + c.dim;
    3 * c.dim * c.patch * c.patch
        + c.dim
        + c.dim
        + c.tokens * c.dim
        + c.depth * block
        + 2 * c.dim
        + c.dim * c.classes
        + c.classes
}

/// The parameter count of a Llama configuration.
fn llama_params(c: &LlamaConfig) -> usize {
    let layer = 2 * c.dim + 2 * c.dim * c.dim + 2 * c.dim * c.kv_dim + 3 * c.dim * c.ffn;
    2 * c.vocab * c.dim + c.layers * layer + c.dim
}

/// A pre-norm transformer block, as timm's `Block`.
#[reproducible_model(config = VitConfig)]
pub struct VitBlock {
    #[module(layer_norm(cfg.dim))]
    norm1: LayerNorm,
    #[module(linear(cfg.dim, 3 * cfg.dim))]
    qkv: Linear,
    #[module(linear(cfg.dim, cfg.dim))]
    proj: Linear,
    #[module(layer_norm(cfg.dim))]
    norm2: LayerNorm,
    #[module(linear(cfg.dim, cfg.mlp))]
    fc1: Linear,
    #[module(linear(cfg.mlp, cfg.dim))]
    fc2: Linear,
    #[config(cfg.heads)]
    heads: usize,
}

#[reproducible::forward]
impl Module for VitBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, n, c) = x.dims3()?;
        let h = self.heads;
        let qkv = self.qkv.forward(&self.norm1.forward(x)?)?;
        let qkv = qkv.reshape((b, n, 3, h, c / h))?.permute((2, 0, 3, 1, 4))?;
        let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
        let attn = (q.matmul(&k.t()?)? * (1.0 / ((c / h) as f64).sqrt()))?;
        let attn = softmax(&attn)?;
        let y = attn.matmul(&v)?.transpose(1, 2)?.reshape((b, n, c))?;
        let x = (x + self.proj.forward(&y)?)?;
        let m = self.fc2.forward(&self.fc1.forward(&self.norm2.forward(&x)?)?.gelu()?)?;
        x + m
    }
}

/// A vision transformer, as timm's `VisionTransformer`.
#[reproducible_model(config = VitConfig)]
pub struct Vit {
    #[module(conv2d(3, cfg.dim, cfg.patch).stride(cfg.patch))]
    patch_embed: Conv2d,
    #[param(shape = [1, 1, cfg.dim], init = trunc_normal(std = 0.02))]
    cls_token: Tensor,
    #[param(shape = [1, cfg.tokens, cfg.dim], init = trunc_normal(std = 0.02))]
    pos_embed: Tensor,
    #[module(cfg.clone(), count = cfg.depth)]
    blocks: Vec<VitBlock>,
    #[module(layer_norm(cfg.dim))]
    norm: LayerNorm,
    #[module(linear(cfg.dim, cfg.classes))]
    head: Linear,
}

/// Class logits of a batch of images `[b, 3, h, w]`.
#[reproducible::forward]
impl Module for Vit {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let x = self.patch_embed.forward(images)?.flatten_from(2)?.transpose(1, 2)?;
        let cls = self.cls_token.broadcast_as((x.dim(0)?, 1, x.dim(2)?))?;
        let mut x = Tensor::cat(&[&cls, &x], 1)?.broadcast_add(&self.pos_embed)?;
        for block in &self.blocks {
            x = block.forward(&x)?;
        }
        self.head.forward(&self.norm.forward(&x)?.get_on_dim(1, 0)?)
    }
}

/// A Llama-style decoder configuration (`kv_dim` below `dim`: grouped-query
/// attention).
#[derive(Clone, Debug)]
pub struct LlamaConfig {
    vocab: usize,
    dim: usize,
    kv_dim: usize,
    layers: usize,
    ffn: usize,
}

impl LlamaConfig {
    /// TinyLlama-1.1B: 32 query heads and 4 key/value heads of 64.
    fn one_b() -> Self {
        Self {
            vocab: 32_000,
            dim: 2048,
            kv_dim: 256,
            layers: 22,
            ffn: 5632,
        }
    }

    fn tiny() -> Self {
        Self {
            vocab: 256,
            dim: 32,
            kv_dim: 8,
            layers: 2,
            ffn: 64,
        }
    }
}

/// Attention and SwiGLU feed-forward, each behind an RMS norm.
#[reproducible_model(config = LlamaConfig)]
pub struct LlamaLayer {
    #[module(rms_norm(cfg.dim))]
    attn_norm: RmsNorm,
    #[module(linear_no_bias(cfg.dim, cfg.dim))]
    wq: Linear,
    #[module(linear_no_bias(cfg.dim, cfg.kv_dim))]
    wk: Linear,
    #[module(linear_no_bias(cfg.dim, cfg.kv_dim))]
    wv: Linear,
    #[module(linear_no_bias(cfg.dim, cfg.dim))]
    wo: Linear,
    #[module(rms_norm(cfg.dim))]
    ffn_norm: RmsNorm,
    #[module(linear_no_bias(cfg.dim, cfg.ffn))]
    w_gate: Linear,
    #[module(linear_no_bias(cfg.dim, cfg.ffn))]
    w_up: Linear,
    #[module(linear_no_bias(cfg.ffn, cfg.dim))]
    w_down: Linear,
}

#[reproducible::forward]
impl Module for LlamaLayer {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // One key/value head shared by every query head, no mask or rotary
        // embedding: enough to read every weight.
        let (b, n, d) = x.dims3()?;
        let h = self.attn_norm.forward(x)?;
        let kv = self.wk.weight().dim(0)?;
        let q = self
            .wq
            .forward(&h)?
            .reshape((b, n, d / kv, kv))?
            .transpose(1, 2)?
            .contiguous()?;
        let (k, v) = (self.wk.forward(&h)?.unsqueeze(1)?, self.wv.forward(&h)?.unsqueeze(1)?);
        let attn = softmax(&q.broadcast_matmul(&k.t()?)?)?;
        let y = attn.broadcast_matmul(&v)?.transpose(1, 2)?.reshape((b, n, d))?;
        let x = (x + self.wo.forward(&y)?)?;
        let h = self.ffn_norm.forward(&x)?;
        let gated = (self.w_gate.forward(&h)?.silu()? * self.w_up.forward(&h)?)?;
        x + self.w_down.forward(&gated)?
    }
}

/// A Llama-style decoder with an untied output head.
#[reproducible_model(config = LlamaConfig)]
pub struct Llama {
    #[module(embedding(cfg.vocab, cfg.dim))]
    embed: Embedding,
    #[module(cfg.clone(), count = cfg.layers)]
    layers: Vec<LlamaLayer>,
    #[module(rms_norm(cfg.dim))]
    norm: RmsNorm,
    #[module(linear_no_bias(cfg.dim, cfg.vocab))]
    lm_head: Linear,
}

/// Next-token logits of a batch of token ids `[b, n]`.
#[reproducible::forward]
impl Module for Llama {
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let x = self.embed.forward(ids)?;
        let x = self.layers.iter().try_fold(x, |x, l| l.forward(&x))?;
        self.lm_head.forward(&self.norm.forward(&x)?)
    }
}

/// Many tiny layers: what a model costs per parameter, beyond its values.
#[reproducible_model(config = usize)]
pub struct ManyTiny {
    #[module(linear(4, 4), count = *cfg)]
    layers: Vec<Linear>,
}

#[reproducible::forward]
impl Module for ManyTiny {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.layers.iter().try_fold(x.clone(), |x, l| l.forward(&x))
    }
}

// ---------------------------------------------------------------------------
// Measurement.

/// Problem sizes of a run.
struct Sizes {
    /// The tensor of the element-rate tables.
    shape: [usize; 2],
    vit: VitConfig,
    llama: LlamaConfig,
    /// Tiny linear layers (two parameters each) of the per-parameter figure.
    tiny_layers: usize,
    /// The weight split across ranks.
    shard: [usize; 2],
    /// Parameters of each lockfile of the diff figure.
    diff_params: usize,
    /// The side of the square orthogonal matrix.
    orthogonal: usize,
    /// Timed runs per figure.
    runs: usize,
}

impl Sizes {
    fn new(args: &Args) -> Self {
        if args.quick {
            Self {
                shape: [64, 1000],
                vit: VitConfig::tiny(),
                llama: LlamaConfig::tiny(),
                tiny_layers: 100,
                shard: [64, 96],
                diff_params: 1000,
                orthogonal: 64,
                runs: 1,
            }
        } else {
            Self {
                shape: [4096, 4096],
                vit: VitConfig::base16(),
                llama: LlamaConfig::one_b(),
                tiny_layers: 5000,
                shard: [16_384, 4096],
                diff_params: 1_000_000,
                orthogonal: 2048,
                runs: args.runs.max(1),
            }
        }
    }
}

/// The best wall-clock time of `runs` calls of `f` after one warm-up call, in
/// seconds. What `f` returns is dropped outside the timing.
fn best<R>(runs: usize, f: impl FnMut() -> R) -> f64 {
    first_and_best(runs, f)[1]
}

/// The time of the warm-up call and the best of `runs` calls after it.
fn first_and_best<R>(runs: usize, mut f: impl FnMut() -> R) -> [f64; 2] {
    let mut time = || {
        let t = Instant::now();
        let r = f();
        let s = t.elapsed().as_secs_f64();
        drop(r);
        s
    };
    let first = time();
    [first, (0..runs).map(|_| time()).fold(f64::INFINITY, f64::min)]
}

/// Thread pools: one thread, and every hardware thread.
struct Pools {
    one: rayon::ThreadPool,
    all: rayon::ThreadPool,
    threads: usize,
}

impl Pools {
    fn new() -> std::result::Result<Self, String> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| e.to_string())
        };
        Ok(Self {
            one: pool(1)?,
            all: pool(threads)?,
            threads,
        })
    }

    /// `f` timed on one thread and on all threads.
    fn both<R: Send>(&self, runs: usize, f: impl Fn() -> R + Sync) -> [f64; 2] {
        [self.one.install(|| best(runs, &f)), self.all.install(|| best(runs, &f))]
    }

    /// `f` timed on one thread (its first run and its best) and on all threads.
    fn first_and_both<R: Send>(&self, runs: usize, f: impl Fn() -> R + Sync) -> [f64; 3] {
        let [first, one] = self.one.install(|| first_and_best(runs, &f));
        [first, one, self.all.install(|| best(runs, &f))]
    }
}

/// An element type of the rate tables.
trait Elem: Element + FloatDType {
    const NAME: &'static str;
    const TYPE: DType;
    fn of(v: f32) -> Self;
}

impl Elem for f32 {
    const NAME: &'static str = "F32";
    const TYPE: DType = DType::F32;
    fn of(v: f32) -> Self {
        v
    }
}

impl Elem for bf16 {
    const NAME: &'static str = "BF16";
    const TYPE: DType = DType::BF16;
    fn of(v: f32) -> Self {
        bf16::from_f32(v)
    }
}

/// One row of a rate table: seconds on one thread and on all threads.
struct Row {
    name: String,
    secs: [f64; 2],
    /// The fill-rate row this one is a percentage of.
    fill: Option<[f64; 2]>,
    /// The candle row this one is compared with.
    candle: Option<[f64; 2]>,
}

fn rate_table<T: Elem>(sizes: &Sizes, pools: &Pools, out: &mut String) -> std::result::Result<(), String> {
    let shape = sizes.shape;
    let n = shape[0] * shape[1];
    let runs = sizes.runs;
    let bytes = (n * std::mem::size_of::<T>()) as f64;
    let one = T::of(1.0);
    let chunk = 1 << 15;

    // The machine's fill rate: fresh memory written for the first time (with
    // the system's default pages, and with huge pages advised as generation
    // advises them), and memory already touched.
    let fresh = |huge: bool| {
        pools.both(runs, || {
            let mut v: Vec<T> = Vec::with_capacity(n);
            if huge {
                kernels::advise_huge_pages(&mut v.spare_capacity_mut()[..n]);
            }
            v.par_extend(rayon::iter::repeat_n(one, n));
            v
        })
    };
    let fresh_fill = fresh(false);
    let huge = kernels::huge_pages().map_err(|e| e.to_string())?;
    let huge_fill = fresh(true);
    let ours_fill = if huge { huge_fill } else { fresh_fill };
    let mut buf = vec![one; n];
    let pre_fill = {
        let mut secs = [0.0; 2];
        for (k, pool) in [&pools.one, &pools.all].into_iter().enumerate() {
            secs[k] = pool.install(|| best(runs, || buf.par_chunks_mut(chunk).for_each(|c| c.fill(one))));
        }
        secs
    };

    let stream = Stream::new(0, "blocks.0.mlp.fc1.weight", 1);
    let init = Init::new(0).set_dtype(<T as Elem>::TYPE);
    let mut rows = vec![
        Row {
            name: "fill: fresh allocation + first touch".into(),
            secs: fresh_fill,
            fill: None,
            candle: None,
        },
        Row {
            name: "fill: fresh, huge pages advised".into(),
            secs: huge_fill,
            fill: None,
            candle: None,
        },
        Row {
            name: "fill: prefaulted store".into(),
            secs: pre_fill,
            fill: None,
            candle: None,
        },
    ];
    let device = Device::Cpu;
    let candle_rand = pools.both(runs, || Tensor::rand(T::of(-1.0), T::of(1.0), &shape, &device));
    let candle_randn = pools.both(runs, || Tensor::randn(T::of(0.0), T::of(1.0), &shape, &device));
    let draws: [(&str, Scheme, [f64; 2]); 4] = [
        ("uniform(-1, 1)", uniform(-1.0, 1.0), candle_rand),
        ("normal(0, 1)", normal(0.0, 1.0), candle_randn),
        (
            "trunc_normal(0, 0.02, -2, 2)",
            trunc_normal(0.0, 0.02, -2.0, 2.0),
            candle_randn,
        ),
        (
            "kaiming_uniform(a=sqrt 5)",
            kaiming_uniform().a(5f64.sqrt()),
            candle_rand,
        ),
    ];
    for (name, scheme, candle) in draws {
        let mut secs = [0.0; 2];
        for (k, pool) in [&pools.one, &pools.all].into_iter().enumerate() {
            secs[k] = pool.install(|| {
                best(runs, || {
                    generate_into(&stream, &scheme, &shape, None, &mut buf).map_err(|e| e.to_string())
                })
            });
        }
        rows.push(Row {
            name: format!("{name}: prefaulted buffer"),
            secs,
            fill: Some(pre_fill),
            candle: None,
        });
        let fresh = pools.both(runs, || init.tensor(stream.path(), &shape, &scheme, 1));
        rows.push(Row {
            name: format!("{name}: fresh tensor"),
            secs: fresh,
            fill: Some(ours_fill),
            candle: Some(candle),
        });
        if huge && name.starts_with("normal") {
            kernels::set_huge_pages(Some(false));
            let plain = pools.both(runs, || init.tensor(stream.path(), &shape, &scheme, 1));
            kernels::set_huge_pages(None);
            rows.push(Row {
                name: format!("{name}: fresh tensor, huge pages off"),
                secs: plain,
                fill: Some(fresh_fill),
                candle: Some(candle),
            });
        }
    }
    rows.push(Row {
        name: "candle Tensor::rand: fresh tensor".into(),
        secs: candle_rand,
        fill: Some(fresh_fill),
        candle: None,
    });
    rows.push(Row {
        name: "candle Tensor::randn: fresh tensor".into(),
        secs: candle_randn,
        fill: Some(fresh_fill),
        candle: None,
    });

    let t = pools.threads;
    writeln!(
        out,
        "\n{} {shape:?} = {n} elements ({:.0} MiB)",
        <T as Elem>::NAME,
        bytes / (1 << 20) as f64
    )
    .ok();
    writeln!(
        out,
        "{:<48} {:>38} | {:>38} | {:>7}",
        "",
        "1 thread",
        format!("{t} threads"),
        "scaling"
    )
    .ok();
    writeln!(
        out,
        "{:<48} {:>8} {:>7} {:>7} {:>13} | {:>8} {:>7} {:>7} {:>13} |",
        "", "ns/elem", "GB/s", "% fill", "x candle", "ns/elem", "GB/s", "% fill", "x candle"
    )
    .ok();
    for row in &rows {
        write!(out, "{:<48}", row.name).ok();
        for k in 0..2 {
            let s = row.secs[k];
            let fill = row.fill.map_or("-".into(), |f| format!("{:.0}%", 100.0 * f[k] / s));
            let candle = row.candle.map_or("-".into(), |c| format!("{:.1}x", c[k] / s));
            write!(
                out,
                " {:>8.3} {:>7.2} {:>7} {:>13} |",
                s * 1e9 / n as f64,
                bytes / s / 1e9,
                fill,
                candle
            )
            .ok();
        }
        writeln!(out, " {:>6.2}x", row.secs[0] / row.secs[1]).ok();
    }
    Ok(())
}

/// The time per element of each kernel path on one thread, prefaulted.
fn path_table(sizes: &Sizes, pools: &Pools, out: &mut String) -> std::result::Result<(), String> {
    // 1 MiB: the buffer stays in the caches, so this is the kernels' own speed.
    let shape = [sizes.shape[0].min(64), sizes.shape[1]];
    let n = shape[0] * shape[1];
    let stream = Stream::new(0, "w", 1);
    writeln!(
        out,
        "\nKernel paths, F32, 1 thread, {shape:?} prefaulted, in cache (ns/elem; every path gives the same bits)"
    )
    .ok();
    let paths = Path::supported();
    write!(out, "{:<30}", "").ok();
    for p in &paths {
        write!(out, " {:>9}", p.name()).ok();
    }
    writeln!(out, " {:>14}", "best vs scalar").ok();
    let mut buf = vec![0f32; n];
    for (name, scheme) in [
        ("uniform(-1, 1)", uniform(-1.0, 1.0)),
        ("normal(0, 1)", normal(0.0, 1.0)),
        ("trunc_normal(0, 0.02, -2, 2)", trunc_normal(0.0, 0.02, -2.0, 2.0)),
    ] {
        write!(out, "{name:<30}").ok();
        let mut secs = Vec::new();
        for &path in &paths {
            let s = pools.one.install(|| {
                // More runs: each is short.
                best(4 * sizes.runs, || {
                    generate_into_with(&stream, &scheme, &shape, None, 1 << 15, path, &mut buf)
                        .map_err(|e| e.to_string())
                })
            });
            write!(out, " {:>9.3}", s * 1e9 / n as f64).ok();
            secs.push(s);
        }
        let fastest = secs.iter().copied().fold(f64::INFINITY, f64::min);
        writeln!(out, " {:>13.1}x", secs[0] / fastest).ok();
    }
    Ok(())
}

/// Short last dimensions against long rows, prefaulted, one thread; and
/// orthogonal init of a square matrix.
fn shape_table(sizes: &Sizes, pools: &Pools, out: &mut String) -> std::result::Result<(), String> {
    // The same number of elements in each shape (1.2 MiB of f32: in cache).
    let n = 480 * 80 * 8;
    let last = [4096, 80, 16, 4, 3, 1];
    writeln!(
        out,
        "\nShort rows, F32, 1 thread, {n} elements prefaulted (ns/elem; x long: the time per element over [rows, 4096]'s)"
    )
    .ok();
    write!(out, "{:<30}", "").ok();
    for l in last {
        write!(out, " {:>14}", format!("[{}, {l}]", n / l)).ok();
    }
    writeln!(out).ok();
    let stream = Stream::new(0, "blocks.0.conv.weight", 1);
    let mut buf = vec![0f32; n];
    for (name, scheme) in [
        ("kaiming_uniform(a=sqrt 5)", kaiming_uniform().a(5f64.sqrt())),
        ("normal(0, 1)", normal(0.0, 1.0)),
    ] {
        write!(out, "{name:<30}").ok();
        let mut long = 0.0;
        for l in last {
            let rows = n / l;
            let shape = [rows, l];
            let buf = &mut buf[..rows * l];
            let s = pools.one.install(|| {
                best(4 * sizes.runs, || {
                    generate_into(&stream, &scheme, &shape, None, buf).map_err(|e| e.to_string())
                })
            }) / (rows * l) as f64;
            if l == last[0] {
                long = s;
                write!(out, " {:>14.3}", s * 1e9).ok();
            } else {
                write!(out, " {:>14}", format!("{:.3} {:.1}x", s * 1e9, s / long)).ok();
            }
        }
        writeln!(out).ok();
    }

    let side = sizes.orthogonal;
    let init = Init::new(0);
    let scheme = reproducible::scheme::orthogonal();
    // One timed run on each pool: a run takes long enough not to need a warm-up.
    let once = |pool: &rayon::ThreadPool| {
        pool.install(|| {
            let t = Instant::now();
            let w = init.tensor("w", &[side, side], &scheme, 1).map_err(|e| e.to_string());
            (t.elapsed().as_secs_f64(), w)
        })
    };
    let (one, w) = once(&pools.one);
    w?;
    let (all, w) = once(&pools.all);
    w?;
    writeln!(
        out,
        "Orthogonal [{side}, {side}] F32, one run: 1 thread {}, {} threads {} ({:.2}x)",
        time(one),
        pools.threads,
        time(all),
        one / all
    )
    .ok();
    Ok(())
}

fn param_count<M: ModelExt>(m: &M) -> usize {
    m.parameters().iter().map(|p| p.tensor.elem_count()).sum()
}

/// Whole-model construction with `Init`, on one thread and on all threads.
fn model_table(args: &Args, sizes: &Sizes, pools: &Pools, out: &mut String) -> std::result::Result<(), String> {
    writeln!(
        out,
        "\nModel init through #[reproducible_model] (Vit::init / Llama::init), seed 0. The first run \
         allocates fresh memory (page faults); later runs reuse what the allocator kept."
    )
    .ok();
    writeln!(
        out,
        "{:<54} {:>14} {:>11} {:>11} {:>11} {:>8} {:>9}",
        "",
        "parameters",
        "1t first",
        "1t best",
        format!("{}t best", pools.threads),
        "scaling",
        "ns/param"
    )
    .ok();
    let vit = &sizes.vit;
    let init32 = Init::new(0).set_dtype(DType::F32);
    let model = Vit::init(vit, &init32).map_err(|e| e.to_string())?;
    let count = param_count(&model);
    if count != vit_params(vit) {
        return Err(format!("the ViT has {count} parameters, expected {}", vit_params(vit)));
    }
    // The same tensors without the model: `Init::tensor` alone, no candle `Var`
    // and no macro bookkeeping.
    let shapes: Vec<(String, Vec<usize>)> = model
        .parameters()
        .into_iter()
        .map(|p| (p.path, p.tensor.dims().to_vec()))
        .collect();
    drop(model);
    let secs = pools.first_and_both(sizes.runs, || Vit::init(vit, &init32));
    model_row(
        out,
        &format!("ViT (dim {}, depth {}, patch {}), F32", vit.dim, vit.depth, vit.patch),
        count,
        secs,
    );
    let scheme = uniform(-0.02, 0.02);
    let secs = pools.first_and_both(sizes.runs, || {
        shapes
            .iter()
            .map(|(path, shape)| init32.tensor(path, shape, &scheme, 1))
            .collect::<std::result::Result<Vec<_>, _>>()
    });
    model_row(out, "  its shapes, uniform, Init::tensor alone", count, secs);
    if !args.no_llama {
        let llama = &sizes.llama;
        let init16 = Init::new(0).set_dtype(DType::BF16);
        // One timed run each: a run allocates the whole model.
        let init_once = |pool: &rayon::ThreadPool| -> std::result::Result<(f64, usize), String> {
            pool.install(|| {
                let t = Instant::now();
                let m = Llama::init(llama, &init16).map_err(|e| e.to_string())?;
                let s = t.elapsed().as_secs_f64();
                Ok((s, param_count(&m)))
            })
        };
        let (one, count) = init_once(&pools.one)?;
        if count != llama_params(llama) {
            return Err(format!(
                "the Llama has {count} parameters, expected {}",
                llama_params(llama)
            ));
        }
        let (all, _) = init_once(&pools.all)?;
        model_row(
            out,
            &format!(
                "Llama (vocab {}, dim {}, kv {}, {} layers, ffn {}), BF16, one run",
                llama.vocab, llama.dim, llama.kv_dim, llama.layers, llama.ffn
            ),
            count,
            [one, one, all],
        );
    }

    // Per-parameter cost beyond the values: many parameters of 4 and 16 elements.
    let tiny = sizes.tiny_layers;
    let params = 2 * tiny;
    let model = pools
        .one
        .install(|| best(sizes.runs, || ManyTiny::init(&tiny, &init32)));
    let looped = pools.one.install(|| {
        best(sizes.runs, || {
            (0..params)
                .map(|i| init32.tensor(&format!("p.{i}"), &[4, 4], &uniform(-0.5, 0.5), 1))
                .collect::<std::result::Result<Vec<_>, _>>()
        })
    });
    writeln!(
        out,
        "Per-parameter overhead, 1 thread: {:.2} us/parameter in a model of {params} tiny parameters \
         ({tiny} x linear(4, 4)); {:.2} us/parameter calling Init::tensor for {params} [4, 4] tensors",
        model * 1e6 / params as f64,
        looped * 1e6 / params as f64
    )
    .ok();
    Ok(())
}

fn model_row(out: &mut String, name: &str, params: usize, secs: [f64; 3]) {
    writeln!(
        out,
        "{name:<54} {params:>14} {:>11} {:>11} {:>11} {:>7.2}x {:>9.2}",
        time(secs[0]),
        time(secs[1]),
        time(secs[2]),
        secs[1] / secs[2],
        secs[1] * 1e9 / params as f64
    )
    .ok();
}

/// A duration in seconds with a unit that keeps three or four digits.
fn time(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.3} s")
    } else if secs >= 1e-3 {
        format!("{:.2} ms", secs * 1e3)
    } else {
        format!("{:.1} us", secs * 1e6)
    }
}

/// Tensor-parallel shards: each rank generates its block alone with `Init::shard`.
fn shard_table(sizes: &Sizes, pools: &Pools, out: &mut String) -> std::result::Result<(), String> {
    let shape = sizes.shard;
    let init = Init::new(0).set_dtype(DType::F32);
    let scheme = normal(0.0, 0.02);
    let path = "layers.0.mlp.w_up.weight";
    let full = pools
        .all
        .install(|| best(sizes.runs, || init.tensor(path, &shape, &scheme, 1)));
    writeln!(
        out,
        "\nSharded init with Init::shard, {shape:?} F32 normal(0, 0.02), {} threads per rank; the whole tensor: {}",
        pools.threads,
        time(full)
    )
    .ok();
    writeln!(
        out,
        "{:<8} {:>20} {:>13} {:>20} {:>13}",
        "ranks", "rows: per rank", "x whole/ranks", "columns: per rank", "x whole/ranks"
    )
    .ok();
    for ranks in [2, 4, 8] {
        let mut per = [0.0; 2];
        for (k, dim) in [0, 1].into_iter().enumerate() {
            let len = shape[dim] / ranks;
            let mut total = 0.0;
            for r in 0..ranks {
                let mut region: [Range<usize>; 2] = [0..shape[0], 0..shape[1]];
                region[dim] = r * len..(r + 1) * len;
                total += pools
                    .all
                    .install(|| best(sizes.runs, || init.shard(path, &shape, &region, &scheme, 1)));
            }
            per[k] = total / ranks as f64;
        }
        let ideal = full / ranks as f64;
        writeln!(
            out,
            "{ranks:<8} {:>20} {:>12.2}x {:>20} {:>12.2}x",
            time(per[0]),
            per[0] / ideal,
            time(per[1]),
            per[1] / ideal
        )
        .ok();
    }
    Ok(())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .map(|s| format!(", transparent huge pages {}", s.trim()))
        .unwrap_or_default();
    format!("{cpu}{thp}{}", load())
}

/// The system's one-minute load average, where known: other work on the machine
/// skews every figure.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(|l| format!(", load average {l}")))
        .unwrap_or_default()
}

/// Runs the benchmarks, writing the report to `out`.
pub fn run(args: &Args, out: &mut impl Write) -> std::result::Result<(), String> {
    let path = crate::kernel::choose(args.kernel.as_deref())?;
    let sizes = Sizes::new(args);
    let pools = Pools::new()?;
    let start = Instant::now();
    let mut report = String::new();
    let supported: Vec<&str> = Path::supported().iter().map(|p| p.name()).collect();
    writeln!(
        report,
        "repro bench{}: {}; {} threads; kernel path {} (supported: {}); best of {} runs after a warm-up",
        if args.quick {
            " --quick (figures meaningless)"
        } else {
            ""
        },
        machine(),
        pools.threads,
        path,
        supported.join(", "),
        sizes.runs
    )
    .ok();
    let wanted = |t| args.only.is_empty() || args.only.contains(&t);
    if wanted(Table::Rates) {
        rate_table::<f32>(&sizes, &pools, &mut report)?;
        rate_table::<bf16>(&sizes, &pools, &mut report)?;
    }
    if wanted(Table::Paths) {
        path_table(&sizes, &pools, &mut report)?;
    }
    if wanted(Table::Models) {
        model_table(args, &sizes, &pools, &mut report)?;
    }
    if wanted(Table::Shapes) {
        shape_table(&sizes, &pools, &mut report)?;
    }
    if wanted(Table::Shards) {
        shard_table(&sizes, &pools, &mut report)?;
    }
    if wanted(Table::Files) {
        files_table(&sizes, &mut report)?;
    }
    writeln!(
        report,
        "\nTotal benchmark time {}{}",
        time(start.elapsed().as_secs_f64()),
        load()
    )
    .ok();
    out.write_all(report.as_bytes()).map_err(|e| e.to_string())
}

/// `repro diff` of two lockfiles of `sizes.diff_params` parameters each,
/// every path renamed (an alias names the old one), in a child process: its
/// wall time and peak memory (`VmHWM`, sampled every 5 ms), and the diff
/// alone in this process.
fn files_table(sizes: &Sizes, out: &mut String) -> std::result::Result<(), String> {
    use reproducible::manifest::{Digest, Manifest};
    let n = sizes.diff_params;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let template = Manifest::init::<Linear>(&linear(4, 2), &Init::new(1))
        .map_err(|e| e.to_string())?
        .params()[1]
        .clone();
    let manifest = |renamed: bool| {
        let params = (0..n)
            .map(|i| {
                let mut p = template.clone();
                let old = format!("experts.{}.layers.{}.mlp.w{}.weight", i / 1000, (i / 10) % 100, i % 10);
                p.digest = Digest::of(&(i as u64).to_le_bytes());
                if renamed {
                    p.path = format!("moe.{old}");
                    p.alias = Some(old);
                } else {
                    p.path = old;
                }
                p
            })
            .collect();
        Manifest::new(Some(1), 1, params).map_err(|e| e.to_string())
    };
    let (old, new) = (manifest(false)?, manifest(true)?);
    let (old_file, new_file) = (dir.path().join("old.lock"), dir.path().join("new.lock"));
    reproducible::lock::write(&old_file, &old).map_err(|e| e.to_string())?;
    reproducible::lock::write(&new_file, &new).map_err(|e| e.to_string())?;
    let size = std::fs::metadata(&old_file).map_err(|e| e.to_string())?.len();
    let in_process = best(sizes.runs.min(3), || reproducible::diff::diff(&old, &new));
    let report = std::fs::File::create(dir.path().join("diff.txt")).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut child = std::process::Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .arg("diff")
        .arg(&old_file)
        .arg(&new_file)
        .stdout(report)
        .spawn()
        .map_err(|e| e.to_string())?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(kib) = std::fs::read_to_string(&status_file).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        }) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = start.elapsed().as_secs_f64();
    let renamed = std::fs::read_to_string(dir.path().join("diff.txt"))
        .map_err(|e| e.to_string())?
        .lines()
        .filter(|l| l.starts_with("renamed: "))
        .count();
    if status.code() != Some(1) || renamed != n {
        return Err(format!("repro diff: exit {status}, {renamed} renames of {n}"));
    }
    writeln!(
        out,
        "\nrepro diff of two lockfiles of {n} parameters ({:.0} MB each), every path renamed through an alias:\n           {} wall in a child process, peak memory {:.0} MiB (VmHWM, sampled); the diff alone, in process: {}",
        size as f64 / 1e6,
        time(wall),
        peak_kib as f64 / 1024.0,
        time(in_process)
    )
    .ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_have_the_published_sizes() {
        // timm's `vit_base_patch16_224` has 86,567,656 parameters.
        assert_eq!(vit_params(&VitConfig::base16()), 86_567_656);
        // TinyLlama-1.1B has 1,100,048,384.
        assert_eq!(llama_params(&LlamaConfig::one_b()), 1_100_048_384);
        let init = Init::new(1);
        let vit = VitConfig::tiny();
        assert_eq!(param_count(&Vit::init(&vit, &init).unwrap()), vit_params(&vit));
        let llama = LlamaConfig::tiny();
        assert_eq!(param_count(&Llama::init(&llama, &init).unwrap()), llama_params(&llama));
    }

    #[test]
    fn the_models_run_forward() {
        let init = Init::new(2);
        let vit = Vit::init(&VitConfig::tiny(), &init).unwrap();
        let images = Tensor::zeros((2, 3, 16, 16), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(vit.forward(&images).unwrap().dims(), &[2, 10]);
        let llama = Llama::init(&LlamaConfig::tiny(), &init).unwrap();
        let ids = Tensor::new(&[[1u32, 2, 3]], &Device::Cpu).unwrap();
        assert_eq!(llama.forward(&ids).unwrap().dims(), &[1, 3, 256]);
    }
}
