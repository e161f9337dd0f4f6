//! `repro explain <checkpoint> <path>`: how one parameter's values were made,
//! whether they are still exactly what the spec generates, and a histogram of
//! them against the scheme's density.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use reproducible::manifest::{tensor_bytes, Digest};
use reproducible::math::erf_f64;
use reproducible::provenance::Provenance;
use reproducible::scheme::{closest, Plan};
use reproducible::transform::Draw;
use reproducible::{DType, Device, Init, Scheme, Stream, Tensor, SPEC_VERSION};
use serde_json::{json, Value};

use crate::lock::{exit, message, open_checkpoint};

/// Arguments of `repro explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A safetensors checkpoint with reproducible metadata.
    checkpoint: PathBuf,
    /// The parameter's dotted path, e.g. `blocks.0.attn.qkv.weight`.
    path: String,
    /// Number of histogram bins.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=200))]
    bins: u16,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `repro explain`: 0 when the stored values are what the spec generates,
/// 1 when they differ, 2 on error.
pub fn main(args: &Args) -> ExitCode {
    exit(run(args, &mut std::io::stdout().lock()))
}

/// What `explain` found out about one parameter.
struct Report {
    prov: Provenance,
    scheme: Scheme,
    plan: Plan,
    stored: Vec<u8>,
    numel: usize,
    differing: usize,
    first: Option<(Vec<usize>, f64, f64)>,
    values: Vec<f64>,
}

/// Writes the explanation; `Ok(true)` when the stored values match the spec bit for bit.
pub fn run(args: &Args, out: &mut impl Write) -> Result<bool, String> {
    let r = investigate(args)?;
    let bins = histogram(&r.values, &r.plan, usize::from(args.bins));
    let text = if args.json {
        serde_json::to_string_pretty(&report_json(args, &r, &bins)).map_err(|e| e.to_string())? + "\n"
    } else {
        report_text(args, &r, &bins)
    };
    out.write_all(text.as_bytes())
        .map_err(|e| format!("writing output: {e}"))?;
    Ok(r.differing == 0)
}

fn investigate(args: &Args) -> Result<Report, String> {
    let checkpoint = open_checkpoint(&args.checkpoint)?;
    let file = args.checkpoint.display();
    let Some(prov) = checkpoint.provenance(&args.path).cloned() else {
        let names: Vec<&str> = checkpoint.metadata().params.iter().map(|p| p.path.as_str()).collect();
        let hint = closest(&args.path, &names)
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        return Err(format!("{file}: has no parameter `{}`{hint}", args.path));
    };
    let fail = |e: reproducible::Error| format!("{file}: parameter `{}`: {}", prov.path, message(e));
    let scheme: Scheme = prov.scheme.parse().map_err(fail)?;
    let plan = scheme.plan(&prov.shape).map_err(fail)?;
    let dtype: DType = prov
        .dtype
        .parse()
        .map_err(|_| format!("{file}: parameter `{}`: unknown dtype `{}`", prov.path, prov.dtype))?;
    let stored = checkpoint.tensor_bytes(&prov.path).map_err(message)?;
    let generated = Init::new(prov.seed)
        .dtype(dtype)
        .tensor(&prov.path, &prov.shape, &scheme, prov.version)
        .map_err(fail)?;
    let tensor = Tensor::from_raw_buffer(&stored, dtype, &prov.shape, &Device::Cpu).map_err(|e| fail(e.into()))?;
    let values = as_f64(&tensor).map_err(fail)?;
    let spec_values = as_f64(&generated).map_err(fail)?;
    let spec_bytes = tensor_bytes(&generated).map_err(fail)?;
    let numel = values.len();
    let size = dtype.size_in_bytes();
    let mut differing = 0;
    let mut first = None;
    for (i, (a, b)) in stored.chunks(size).zip(spec_bytes.chunks(size)).enumerate() {
        if a != b {
            differing += 1;
            first.get_or_insert_with(|| (unravel(i, &prov.shape), values[i], spec_values[i]));
        }
    }
    Ok(Report {
        prov,
        scheme,
        plan,
        stored,
        numel,
        differing,
        first,
        values,
    })
}

fn as_f64(t: &Tensor) -> reproducible::Result<Vec<f64>> {
    Ok(t.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?)
}

/// The coordinates of flat (row-major) index `i` in `shape`.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut out = vec![0; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        out[d] = i % n.max(1);
        i /= n.max(1);
    }
    out
}

/// `x` to 6 significant digits, shortest form (`0.49999999999999994` reads `0.5`).
fn g(x: f64) -> String {
    format!("{:.5e}", x).parse::<f64>().unwrap_or(x).to_string()
}

/// What the plan draws, in words (to 6 significant digits; the init line is exact).
fn draws(plan: &Plan) -> String {
    match *plan {
        Plan::Elementwise(Draw::Uniform { a, b }) => format!("uniform on [{}, {})", g(a), g(b)),
        Plan::Elementwise(Draw::Normal { mean, std }) => format!("normal with mean {}, std {}", g(mean), g(std)),
        Plan::Elementwise(Draw::TruncNormal { mean, std, a, b }) => format!(
            "normal with mean {}, std {}, truncated to [{}, {}]",
            g(mean),
            g(std),
            g(a),
            g(b)
        ),
        Plan::Elementwise(Draw::Constant { value }) => format!("the constant {}", g(value)),
        Plan::Eye => "the identity matrix".into(),
        Plan::Dirac { groups } => format!("the identity convolution ({groups} groups)"),
        Plan::Orthogonal { gain } => format!("an orthogonal matrix scaled by {}", g(gain)),
        Plan::Sparse { sparsity, std } => {
            format!("a sparse normal ({} of each column zero, std {})", g(sparsity), g(std))
        }
    }
}

/// The distribution function of an elementwise draw with a density (`None` otherwise).
fn cdf(plan: &Plan) -> Option<Box<dyn Fn(f64) -> f64>> {
    let phi = |z: f64| 0.5 * (1.0 + erf_f64(z / std::f64::consts::SQRT_2));
    match *plan {
        Plan::Elementwise(Draw::Uniform { a, b }) if b > a => {
            Some(Box::new(move |x| ((x - a) / (b - a)).clamp(0.0, 1.0)))
        }
        Plan::Elementwise(Draw::Normal { mean, std }) if std > 0.0 => Some(Box::new(move |x| phi((x - mean) / std))),
        Plan::Elementwise(Draw::TruncNormal { mean, std, a, b }) if std > 0.0 && b > a => {
            let (lo, hi) = (phi((a - mean) / std), phi((b - mean) / std));
            (hi > lo).then(|| -> Box<dyn Fn(f64) -> f64> {
                Box::new(move |x| ((phi((x.clamp(a, b) - mean) / std) - lo) / (hi - lo)).clamp(0.0, 1.0))
            })
        }
        _ => None,
    }
}

/// Where the scheme puts (almost) all its mass, so the bins cover it even when
/// the stored values do not (a wrong init then shows as counts outside it).
fn bulk(plan: &Plan) -> Option<(f64, f64)> {
    match *plan {
        Plan::Elementwise(Draw::Uniform { a, b }) => Some((a, b)),
        Plan::Elementwise(Draw::Normal { mean, std }) => Some((mean - 4.0 * std, mean + 4.0 * std)),
        Plan::Elementwise(Draw::TruncNormal { mean, std, a, b }) => {
            Some((a.max(mean - 4.0 * std), b.min(mean + 4.0 * std)))
        }
        _ => None,
    }
}

/// One histogram bin: `[lo, hi)` (the last one closed), its count and the
/// count the scheme's distribution expects.
struct Bin {
    lo: f64,
    hi: f64,
    count: usize,
    expected: Option<f64>,
}

fn histogram(values: &[f64], plan: &Plan, bins: usize) -> Vec<Bin> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (mut lo, mut hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    if let Some((a, b)) = bulk(plan).filter(|(a, b)| a.is_finite() && b.is_finite()) {
        lo = lo.min(a);
        hi = hi.max(b);
    }
    // No finite value (lo = +inf, hi = -inf), or all equal: nothing to bin.
    if lo >= hi {
        return Vec::new();
    }
    let width = (hi - lo) / bins as f64;
    let mut out: Vec<Bin> = (0..bins)
        .map(|i| Bin {
            lo: lo + width * i as f64,
            hi: if i + 1 == bins { hi } else { lo + width * (i + 1) as f64 },
            count: 0,
            expected: None,
        })
        .collect();
    for v in values.iter().filter(|v| v.is_finite()) {
        let i = (((v - lo) / width) as usize).min(bins - 1);
        out[i].count += 1;
    }
    if let Some(f) = cdf(plan) {
        let n = values.len() as f64;
        for b in &mut out {
            b.expected = Some(n * (f(b.hi) - f(b.lo)));
        }
    }
    out
}

/// Decimals that tell neighbouring bin edges apart.
fn decimals(width: f64) -> usize {
    if width > 0.0 && width.is_finite() {
        (2.0 - width.log10().floor()).clamp(1.0, 12.0) as usize
    } else {
        4
    }
}

const BAR: usize = 40;

fn report_text(args: &Args, r: &Report, bins: &[Bin]) -> String {
    let p = &r.prov;
    let mut s = String::new();
    let _ = writeln!(s, "parameter `{}` in {}", p.path, args.checkpoint.display());
    let _ = writeln!(s, "  seed          {}", p.seed);
    let _ = writeln!(s, "  path          {}", p.path);
    let _ = writeln!(s, "  version       {}", p.version);
    let _ = writeln!(s, "  init          {}", r.scheme);
    let _ = writeln!(s, "  draws         {}", draws(&r.plan));
    let _ = writeln!(s, "  shape         {:?}", p.shape);
    let _ = writeln!(s, "  dtype         {}", p.dtype);
    let _ = writeln!(s, "  trainable     {}", if p.trainable { "yes" } else { "no (frozen)" });
    let _ = writeln!(s, "  spec version  {}", p.spec_version);
    let _ = writeln!(
        s,
        "  stream key    {}",
        hex(Stream::new(p.seed, &p.path, p.version).digest())
    );
    let _ = writeln!(s, "  blake3        {}", Digest::of(&r.stored));
    if r.differing == 0 {
        let _ = writeln!(
            s,
            "matches the spec: all {} values are bit-identical to what spec version {SPEC_VERSION} generates",
            r.numel
        );
    } else {
        let _ = write!(
            s,
            "DIFFERS from the spec: {} of {} values are not what spec version {SPEC_VERSION} generates",
            r.differing, r.numel
        );
        if let Some((at, stored, spec)) = &r.first {
            let (stored, spec) = (shortest(*stored, &p.dtype), shortest(*spec, &p.dtype));
            let _ = write!(s, " (first at {at:?}: stored {stored}, generated {spec})");
        }
        let _ = writeln!(s, "; trained, converted or modified after initialisation?");
    }
    let finite: Vec<f64> = r.values.iter().copied().filter(|v| v.is_finite()).collect();
    let n = finite.len() as f64;
    if !finite.is_empty() {
        let mean = finite.iter().sum::<f64>() / n;
        let std = (finite.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
        let (min, max) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let _ = writeln!(s, "\nvalues: min {min:.6}, max {max:.6}, mean {mean:.6}, std {std:.6}");
    }
    if finite.len() < r.values.len() {
        let _ = writeln!(s, "{} values are NaN or infinite", r.values.len() - finite.len());
    }
    if bins.is_empty() {
        if let Some(v) = finite.first() {
            let _ = writeln!(s, "all {} values equal {v:?}", finite.len());
        }
        return s;
    }
    let has_expected = bins.iter().any(|b| b.expected.is_some());
    let legend = if has_expected {
        format!("# = stored values, | = expected count under {}", draws(&r.plan))
    } else {
        "# = stored values (no density to compare with for this scheme)".to_owned()
    };
    let _ = writeln!(s, "histogram, {} bins: {legend}", bins.len());
    let scale = bins
        .iter()
        .map(|b| (b.count as f64).max(b.expected.unwrap_or(0.0)))
        .fold(0.0, f64::max)
        .max(1.0);
    let d = decimals(bins[0].hi - bins[0].lo);
    let edges: Vec<(String, String)> = bins
        .iter()
        .map(|b| (format!("{:.d$}", b.lo), format!("{:.d$}", b.hi)))
        .collect();
    let w = edges.iter().map(|(a, b)| a.len().max(b.len())).max().unwrap_or(1);
    for (i, (b, (lo, hi))) in bins.iter().zip(&edges).enumerate() {
        let close = if i + 1 == bins.len() { ']' } else { ')' };
        let filled = ((b.count as f64 / scale) * BAR as f64).round() as usize;
        let mut bar: Vec<char> = (0..=BAR).map(|k| if k < filled { '#' } else { ' ' }).collect();
        if let Some(e) = b.expected {
            bar[(((e / scale) * BAR as f64).round() as usize).min(BAR)] = '|';
        }
        let bar: String = bar.into_iter().collect();
        let _ = write!(s, "  [{lo:>w$}, {hi:>w$}{close} {bar} {:>8}", b.count);
        match b.expected {
            Some(e) => {
                let _ = writeln!(s, "  (expected {e:.1})");
            }
            None => s.push('\n'),
        }
    }
    s
}

/// The shortest text that round-trips a value of `dtype` (f16 and bf16 values are exact f32s).
fn shortest(v: f64, dtype: &str) -> String {
    if dtype == "f64" {
        format!("{v:?}")
    } else {
        format!("{:?}", v as f32)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn report_json(args: &Args, r: &Report, bins: &[Bin]) -> Value {
    let p = &r.prov;
    json!({
        "file": args.checkpoint.display().to_string(),
        "path": p.path,
        "seed": p.seed,
        "version": p.version,
        "init": r.scheme.to_string(),
        "draws": draws(&r.plan),
        "shape": p.shape,
        "dtype": p.dtype,
        "trainable": p.trainable,
        "spec_version": p.spec_version,
        "stream_key": hex(Stream::new(p.seed, &p.path, p.version).digest()),
        "blake3": Digest::of(&r.stored).to_string(),
        "matches_spec": r.differing == 0,
        "elements": r.numel,
        "differing_elements": r.differing,
        "first_difference": r.first.as_ref().map(|(at, stored, spec)| json!({
            "index": at, "stored": stored, "generated": spec,
        })),
        "histogram": bins.iter().map(|b| json!({
            "lo": b.lo, "hi": b.hi, "count": b.count, "expected": b.expected,
        })).collect::<Vec<_>>(),
    })
}
