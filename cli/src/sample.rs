//! `repro sample`: the values of one parameter stream.

use std::io::Write;
use std::ops::Range;

use reproducible::error::printable;
use reproducible::generate::{generate, Element};
use reproducible::stream::Stream;
use reproducible::Scheme;

use crate::pieces;
use crate::report::note;

/// Arguments of `repro sample`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The seed (u64).
    #[arg(long)]
    seed: u64,
    /// The parameter's dotted path, e.g. `blocks.0.attn.qkv.weight`.
    #[arg(long)]
    path: String,
    /// The parameter's declared version (u32).
    #[arg(long, default_value_t = 1)]
    version: u32,
    /// The global shape, comma-separated (`4,8`); empty for a scalar.
    #[arg(long, allow_hyphen_values = true)]
    shape: String,
    /// The init scheme, e.g. `kaiming_uniform(a=2.236)` or `normal(0, 0.02)`.
    #[arg(long)]
    init: String,
    /// Element type: f32, f64, f16 or bf16.
    #[arg(long, default_value = "f32")]
    dtype: String,
    /// `values` (shortest round-trip decimals) or `bits` (hex bit patterns).
    #[arg(long, default_value = "values")]
    format: String,
    /// Print only this slice: `start:end` per dimension, comma-separated (`1:3,0:8`);
    /// `:` is the whole dimension and `i` the single index i.
    #[arg(long, allow_hyphen_values = true)]
    slice: Option<String>,
    #[arg(long, help = crate::kernel::HELP)]
    kernel: Option<String>,
}

/// Runs the command, writing one line per row of the last dimension.
/// The kernel path used goes to standard error, the values to `out`.
pub fn run(args: &Args, out: &mut impl Write) -> Result<(), String> {
    let path = crate::kernel::choose(args.kernel.as_deref())?;
    note(&format!("kernel path: {path}"));
    let shape = parse_shape(&args.shape)?;
    let scheme: Scheme = args
        .init
        .parse()
        .map_err(|e: reproducible::Error| format!("--init: {}", printable(&e.to_string())))?;
    let region = args.slice.as_deref().map(|s| parse_slice(s, &shape)).transpose()?;
    let stream = Stream::new(args.seed, &args.path, args.version);
    let bits = match args.format.as_str() {
        "values" => false,
        "bits" => true,
        other => {
            return Err(format!(
                "--format: unknown format `{other}`; expected `values` or `bits`"
            ))
        }
    };
    // Validate everything once, before printing anything.
    // The path is the user's, but may hold anything: shown escaped, as every command shows paths.
    let shown = printable(&args.path);
    reproducible::coords::check_shape(&shape).map_err(|e| format!("parameter `{shown}`: {e}"))?;
    let plan = scheme.plan(&shape).map_err(|e| format!("parameter `{shown}`: {e}"))?;
    let region = region.unwrap_or_else(|| shape.iter().map(|&n| 0..n).collect());
    // Row by row, in pieces of bounded size: a slice of a huge tensor costs
    // its own size, and a huge tensor streams. Orthogonal and sparse are
    // whole-tensor computations, made once.
    let budget = if plan.is_elementwise() { PIECE } else { usize::MAX };
    let printer = Printer {
        stream: &stream,
        scheme: &scheme,
        shape: &shape,
        budget,
        bits,
    };
    match args.dtype.as_str() {
        "f32" => printer.run::<f32>(&region, out, |v, bits| {
            if bits {
                format!("{:08x}", v.to_bits())
            } else {
                format!("{v:?}")
            }
        }),
        "f64" => printer.run::<f64>(&region, out, |v, bits| {
            if bits {
                format!("{:016x}", v.to_bits())
            } else {
                format!("{v:?}")
            }
        }),
        "f16" => printer.run::<half::f16>(&region, out, |v, bits| {
            if bits {
                format!("{:04x}", v.to_bits())
            } else {
                format!("{:?}", v.to_f32())
            }
        }),
        "bf16" => printer.run::<half::bf16>(&region, out, |v, bits| {
            if bits {
                format!("{:04x}", v.to_bits())
            } else {
                format!("{:?}", v.to_f32())
            }
        }),
        other => Err(format!(
            "--dtype: unknown dtype `{other}`; expected f32, f64, f16 or bf16"
        )),
    }
}

/// Elements generated and printed at a time.
const PIECE: usize = 1 << 16;

struct Printer<'a> {
    stream: &'a Stream,
    scheme: &'a Scheme,
    shape: &'a [usize],
    budget: usize,
    bits: bool,
}

impl Printer<'_> {
    /// Prints `region` one line per row of the last dimension, piece by piece.
    fn run<T: Element>(
        &self,
        region: &[Range<usize>],
        out: &mut impl Write,
        fmt: impl Fn(T, bool) -> String,
    ) -> Result<(), String> {
        let fail = |e: reproducible::Error| format!("parameter `{}`: {e}", printable(self.stream.path()));
        let row = region.last().map_or(1, |r| r.len());
        // Whether the next value continues a row already begun (a row longer
        // than a piece is written piece by piece).
        let mut in_row = false;
        let mut text = String::new();
        pieces::for_each(region, self.budget, |piece| -> Result<(), String> {
            let values: Vec<T> = generate(self.stream, self.scheme, self.shape, Some(piece.region)).map_err(fail)?;
            text.clear();
            let per_line = if piece.whole_rows { row } else { values.len() };
            for chunk in values.chunks(per_line.max(1)) {
                for &v in chunk {
                    if in_row {
                        text.push(' ');
                    }
                    text.push_str(&fmt(v, self.bits));
                    in_row = true;
                }
                if piece.ends_row {
                    text.push('\n');
                    in_row = false;
                }
            }
            out.write_all(text.as_bytes())
                .map_err(|e| format!("writing output: {e}"))
        })?;
        out.flush().map_err(|e| format!("writing output: {e}"))
    }
}

fn parse_shape(text: &str) -> Result<Vec<usize>, String> {
    let text = text.trim().trim_start_matches('[').trim_end_matches(']');
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .enumerate()
        .map(|(d, s)| {
            let s = s.trim();
            s.parse::<usize>().map_err(|_| {
                format!(
                    "--shape: dimension {d} is `{s}`, expected a size from 1 to {}",
                    usize::MAX
                )
            })
        })
        .collect()
}

fn parse_slice(text: &str, shape: &[usize]) -> Result<Vec<Range<usize>>, String> {
    let parts: Vec<&str> = if text.trim().is_empty() {
        Vec::new()
    } else {
        text.split(',').collect()
    };
    if parts.len() != shape.len() {
        return Err(format!(
            "--slice: `{text}` has {} ranges but the shape has {} dimensions",
            parts.len(),
            shape.len()
        ));
    }
    parts
        .iter()
        .zip(shape)
        .enumerate()
        .map(|(d, (p, &n))| {
            let p = p.trim();
            let num = |s: &str, default: usize| -> Result<usize, String> {
                if s.is_empty() {
                    Ok(default)
                } else {
                    s.parse()
                        .map_err(|_| format!("--slice: `{s}` in dimension {d} is not an index"))
                }
            };
            let r = match p.split_once(':') {
                Some((a, b)) => num(a, 0)?..num(b, n)?,
                None => {
                    let i = num(p, 0)?;
                    i..i.saturating_add(1)
                }
            };
            if r.start >= r.end || r.end > n {
                return Err(format!(
                    "--slice: range {}:{} of dimension {d} is empty or outside 0:{n}",
                    r.start, r.end
                ));
            }
            Ok(r)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(shape: &str, init: &str, dtype: &str, format: &str, slice: Option<&str>) -> Args {
        Args {
            seed: 42,
            path: "blocks.0.attn.qkv.weight".into(),
            version: 1,
            shape: shape.into(),
            init: init.into(),
            dtype: dtype.into(),
            format: format.into(),
            slice: slice.map(Into::into),
            kernel: None,
        }
    }

    fn output(a: &Args) -> Result<String, String> {
        let mut buf = Vec::new();
        run(a, &mut buf)?;
        Ok(String::from_utf8(buf).unwrap())
    }

    #[test]
    fn prints_one_line_per_row_and_slices_exactly() {
        let full = output(&args("4,8", "kaiming_uniform(a=2.236)", "f32", "bits", None)).unwrap();
        let rows: Vec<&str> = full.lines().collect();
        assert_eq!(rows.len(), 4);
        assert!(rows.iter().all(|r| r.split(' ').count() == 8));
        let part = output(&args("4,8", "kaiming_uniform(a=2.236)", "f32", "bits", Some("1:3,0:8"))).unwrap();
        assert_eq!(part.lines().collect::<Vec<_>>(), rows[1..3]);
        let col = output(&args("4,8", "kaiming_uniform(a=2.236)", "f32", "bits", Some(":,5"))).unwrap();
        let want: Vec<&str> = rows.iter().map(|r| r.split(' ').nth(5).unwrap()).collect();
        assert_eq!(col.lines().collect::<Vec<_>>(), want);
    }

    #[test]
    fn bad_input_is_an_error_naming_it() {
        let e = |a: Args| output(&a).unwrap_err();
        assert!(e(args("4,8", "kaiming_unform()", "f32", "values", None)).contains("did you mean `kaiming_uniform`"));
        assert!(e(args("4,0", "normal(0, 1)", "f32", "values", None)).contains("dimension 1 has size 0"));
        assert!(e(args("4,-1", "normal(0, 1)", "f32", "values", None)).contains("dimension 1 is `-1`"));
        assert!(e(args("99999999999,99999999999", "normal(0, 1)", "f32", "values", None)).contains("overflows"));
        assert!(e(args("4", "normal(0, -1)", "f32", "values", None)).contains("std must be >= 0"));
        assert!(e(args("4", "uniform(1, 0)", "f32", "values", None)).contains("need a < b"));
        assert!(e(args("4", "normal(0, 1)", "f8", "values", None)).contains("unknown dtype `f8`"));
        assert!(e(args("4", "normal(0, 1)", "f32", "hex", None)).contains("unknown format"));
        assert!(e(args("4,8", "normal(0, 1)", "f32", "values", Some("0:5"))).contains("has 1 ranges"));
        assert!(e(args("4,8", "normal(0, 1)", "f32", "values", Some("3:2,0:8"))).contains("empty or outside"));
    }
}
