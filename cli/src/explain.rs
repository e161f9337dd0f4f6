//! `repro explain <checkpoint> <path>`: how one parameter's values were made,
//! whether they are still exactly what the spec generates, and a histogram of
//! them against the scheme's density.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;

use candle_core::DType;
use reproducible::error::{closest, printable};
use reproducible::generate::generate;
use reproducible::manifest::Digest;
use reproducible::math::erf_f64;
use reproducible::provenance::Provenance;
use reproducible::scheme::Plan;
use reproducible::stream::{Stream, SPEC_VERSION};
use reproducible::transform::Draw;
use reproducible::Scheme;
use serde_json::{json, Value};

use crate::input::open_checkpoint;
use crate::pieces;
use crate::report::{exit, message, print, shown};

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
    digest: Digest,
    numel: usize,
    differing: usize,
    first: Option<(Vec<usize>, f64, f64)>,
    stats: Stats,
    bins: Vec<Bin>,
}

/// Writes the explanation; `Ok(true)` when the stored values match the spec bit for bit.
pub fn run(args: &Args, out: &mut impl Write) -> Result<bool, String> {
    let r = investigate(args)?;
    let text = if args.json {
        serde_json::to_string_pretty(&report_json(args, &r)).map_err(|e| e.to_string())? + "\n"
    } else {
        report_text(args, &r)
    };
    print(out, &text)?;
    Ok(r.differing == 0)
}

/// Elements read, regenerated and compared at a time: memory stays bounded
/// whatever the tensor's size.
const PIECE: usize = 1 << 20;

/// Reads the stored tensor twice, piece by piece: first to hash it, compare it
/// with what the spec generates and take its statistics, then to bin it.
fn investigate(args: &Args) -> Result<Report, String> {
    let checkpoint = open_checkpoint(&args.checkpoint, &args.path)?;
    let file = if args.checkpoint.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        shown(&args.checkpoint)
    };
    let Some(prov) = checkpoint.provenance(&args.path).cloned() else {
        let names: Vec<&str> = checkpoint.metadata().params.iter().map(|p| p.path.as_str()).collect();
        let hint = closest(&args.path, &names)
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        return Err(format!("{file}: has no parameter `{}`{hint}", printable(&args.path)));
    };
    let fail = |e: reproducible::Error| format!("{file}: parameter `{}`: {}", printable(&prov.path), message(e));
    let scheme: Scheme = prov.scheme.parse().map_err(fail)?;
    let plan = scheme.plan(&prov.shape).map_err(fail)?;
    let dtype: DType = prov
        .dtype
        .parse()
        .map_err(|_| format!("{file}: parameter `{}`: unknown dtype `{}`", prov.path, prov.dtype))?;
    let stream = Stream::new(prov.seed, &prov.path, prov.version);
    let whole: Vec<Range<usize>> = prov.shape.iter().map(|&n| 0..n).collect();
    // Orthogonal and sparse are whole-tensor computations: regenerated once.
    let budget = if plan.is_elementwise() { PIECE } else { usize::MAX };
    let size = dtype.size_in_bytes();
    let mut reader = checkpoint.tensor_reader(&prov.path)?;
    let mut hasher = blake3::Hasher::new();
    let (mut at, mut differing, mut first, mut stats) = (0usize, 0usize, None, Stats::default());
    pieces::for_each(&whole, budget, |piece| -> Result<(), String> {
        let n: usize = piece.region.iter().map(|r| r.len()).product();
        let stored = read_piece(&mut reader, n * size, &prov.path).map_err(|e| format!("{file}: {e}"))?;
        hasher.update(&stored);
        let values = as_f64(dtype, &stored).map_err(|e| format!("{file}: parameter `{}`: {e}", prov.path))?;
        let (spec, spec_values) = spec_piece(dtype, &stream, &scheme, &prov.shape, piece.region).map_err(fail)?;
        for (i, (a, b)) in stored.chunks(size).zip(spec.chunks(size)).enumerate() {
            if a != b {
                differing += 1;
                first.get_or_insert_with(|| (unravel(at + i, &prov.shape), values[i], spec_values[i]));
            }
        }
        values.iter().for_each(|&v| stats.add(v));
        at += n;
        Ok(())
    })?;
    let mut bins = Histogram::new(&plan, &stats, usize::from(args.bins));
    if let Some(h) = bins.as_mut() {
        let mut reader = checkpoint.tensor_reader(&prov.path)?;
        pieces::for_each(&whole, PIECE, |piece| -> Result<(), String> {
            let n: usize = piece.region.iter().map(|r| r.len()).product();
            let stored = read_piece(&mut reader, n * size, &prov.path).map_err(|e| format!("{file}: {e}"))?;
            let values = as_f64(dtype, &stored).map_err(|e| format!("{file}: parameter `{}`: {e}", prov.path))?;
            values.iter().for_each(|&v| h.add(v));
            Ok(())
        })?;
    }
    Ok(Report {
        numel: at,
        prov,
        scheme,
        digest: Digest(*hasher.finalize().as_bytes()),
        bins: bins.map(|h| h.finish(&plan, at)).unwrap_or_default(),
        plan,
        differing,
        first,
        stats,
    })
}

/// The next `len` stored bytes.
fn read_piece(reader: &mut impl Read, len: usize, path: &str) -> Result<Vec<u8>, String> {
    let mut bytes = vec![0u8; len];
    reader
        .read_exact(&mut bytes)
        .map_err(|e| format!("reading `{path}`: {e}"))?;
    Ok(bytes)
}

/// Little-endian values of `dtype` as f64.
fn as_f64(dtype: DType, bytes: &[u8]) -> Result<Vec<f64>, String> {
    Ok(match dtype {
        DType::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
            .collect(),
        DType::F64 => bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
            .collect(),
        DType::F16 => bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f64())
            .collect(),
        DType::BF16 => bytes
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f64())
            .collect(),
        other => {
            return Err(format!(
                "dtype {} is not a floating-point parameter dtype",
                other.as_str()
            ))
        }
    })
}

/// The spec's values of `region`, as little-endian bytes and as f64.
fn spec_piece(
    dtype: DType,
    stream: &Stream,
    scheme: &Scheme,
    shape: &[usize],
    region: &[Range<usize>],
) -> reproducible::Result<(Vec<u8>, Vec<f64>)> {
    macro_rules! piece {
        ($t:ty, $f64:expr) => {{
            let v: Vec<$t> = generate(stream, scheme, shape, Some(region))?;
            (
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                v.iter().map($f64).collect(),
            )
        }};
    }
    Ok(match dtype {
        DType::F32 => piece!(f32, |&x| x as f64),
        DType::F64 => piece!(f64, |&x| x),
        DType::F16 => piece!(half::f16, |x| x.to_f64()),
        DType::BF16 => piece!(half::bf16, |x| x.to_f64()),
        other => {
            return Err(reproducible::Error::Candle(candle_core::Error::Msg(format!(
                "dtype {} is not a floating-point parameter dtype",
                other.as_str()
            ))))
        }
    })
}

/// Count, mean and standard deviation (Welford), extremes, of the finite
/// values; and how many were not finite.
#[derive(Debug, Default)]
struct Stats {
    finite: usize,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    non_finite: usize,
}

impl Stats {
    fn add(&mut self, v: f64) {
        if !v.is_finite() {
            self.non_finite += 1;
            return;
        }
        if self.finite == 0 {
            (self.min, self.max) = (v, v);
        }
        self.finite += 1;
        let d = v - self.mean;
        self.mean += d / self.finite as f64;
        self.m2 += d * (v - self.mean);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    fn std(&self) -> f64 {
        (self.m2 / self.finite as f64).sqrt()
    }
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

/// Bins filled one value at a time.
struct Histogram {
    lo: f64,
    width: f64,
    bins: Vec<Bin>,
}

impl Histogram {
    /// Bins over the finite values' range and the scheme's bulk; `None` when
    /// there is nothing to bin (no finite value, or all equal).
    fn new(plan: &Plan, stats: &Stats, bins: usize) -> Option<Self> {
        if stats.finite == 0 {
            return None;
        }
        let (mut lo, mut hi) = (stats.min, stats.max);
        if let Some((a, b)) = bulk(plan).filter(|(a, b)| a.is_finite() && b.is_finite()) {
            lo = lo.min(a);
            hi = hi.max(b);
        }
        if lo >= hi {
            return None;
        }
        let width = (hi - lo) / bins as f64;
        let bins = (0..bins)
            .map(|i| Bin {
                lo: lo + width * i as f64,
                hi: if i + 1 == bins { hi } else { lo + width * (i + 1) as f64 },
                count: 0,
                expected: None,
            })
            .collect();
        Some(Self { lo, width, bins })
    }

    fn add(&mut self, v: f64) {
        if v.is_finite() {
            let i = (((v - self.lo) / self.width) as usize).min(self.bins.len() - 1);
            self.bins[i].count += 1;
        }
    }

    /// The bins, with the counts the scheme expects of `n` values.
    fn finish(mut self, plan: &Plan, n: usize) -> Vec<Bin> {
        if let Some(f) = cdf(plan) {
            for b in &mut self.bins {
                b.expected = Some(n as f64 * (f(b.hi) - f(b.lo)));
            }
        }
        self.bins
    }
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

fn report_text(args: &Args, r: &Report) -> String {
    let bins = &r.bins;
    let p = &r.prov;
    let mut s = String::new();
    let _ = writeln!(s, "parameter `{}` in {}", p.path, shown(&args.checkpoint));
    let _ = writeln!(s, "  seed          {}", p.seed);
    let _ = writeln!(s, "  path          {}", p.path);
    let _ = writeln!(s, "  version       {}", p.version);
    let _ = writeln!(s, "  init          {}", r.scheme);
    match &p.rule {
        Some(rule) => {
            let _ = writeln!(s, "  rule          `{rule}`");
        }
        None => {
            let _ = writeln!(s, "  rule          none: the code that built it chose the init");
        }
    }
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
    let _ = writeln!(s, "  blake3        {}", r.digest);
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
    let st = &r.stats;
    if st.finite > 0 {
        let _ = writeln!(
            s,
            "\nvalues: min {:.6}, max {:.6}, mean {:.6}, std {:.6}",
            st.min,
            st.max,
            st.mean,
            st.std()
        );
    }
    if st.non_finite > 0 {
        let _ = writeln!(s, "{} values are NaN or infinite", st.non_finite);
    }
    if bins.is_empty() {
        if st.finite > 0 {
            let _ = writeln!(s, "all {} values equal {:?}", st.finite, st.min);
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

fn report_json(args: &Args, r: &Report) -> Value {
    let p = &r.prov;
    json!({
        "file": args.checkpoint.display().to_string(),
        "path": p.path,
        "seed": p.seed,
        "version": p.version,
        "init": r.scheme.to_string(),
        "rule": p.rule,
        "draws": draws(&r.plan),
        "shape": p.shape,
        "dtype": p.dtype,
        "trainable": p.trainable,
        "spec_version": p.spec_version,
        "stream_key": hex(Stream::new(p.seed, &p.path, p.version).digest()),
        "blake3": r.digest.to_string(),
        "matches_spec": r.differing == 0,
        "elements": r.numel,
        "differing_elements": r.differing,
        "first_difference": r.first.as_ref().map(|(at, stored, spec)| json!({
            "index": at, "stored": stored, "generated": spec,
        })),
        "histogram": r.bins.iter().map(|b| json!({
            "lo": b.lo, "hi": b.hi, "count": b.count, "expected": b.expected,
        })).collect::<Vec<_>>(),
    })
}
