//! Filling a tensor, or any hyper-rectangular region of one, from a stream.
//!
//! Elementwise plans fill in parallel chunks (rayon); each chunk derives every
//! element's counter from its coordinates, so the result is the same for any
//! thread count, chunk size or schedule, and a region costs only its own size.
//! Orthogonal and sparse plans are whole-tensor computations: a region of them
//! is computed in full and then cut.
//!
//! ```
//! use reproducible::{generate::generate, scheme::normal, stream::Stream};
//! let s = Stream::new(7, "w", 1);
//! let full: Vec<f32> = generate(&s, &normal(0.0, 1.0), &[4, 6], None).unwrap();
//! let rows = generate::<f32>(&s, &normal(0.0, 1.0), &[4, 6], Some(&[1..3, 0..6])).unwrap();
//! assert_eq!(rows, full[6..18]);
//! ```

use std::ops::Range;

use rayon::prelude::*;

use crate::coords::{check_shape, row_counter};
use crate::error::{Error, Result, ShapeDisplay};
use crate::orthogonal::orthonormal_columns;
use crate::philox::philox4x32_10;
use crate::scheme::{Plan, Scheme};
use crate::stream::Stream;
use crate::transform::{Draw, Prepared32, Prepared64, LANES_F32, LANES_F64};

/// Elements per parallel task. Any value gives the same bits; this one keeps a
/// task's output in L2 while amortising rayon's scheduling.
pub const CHUNK: usize = 1 << 15;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for half::f16 {}
    impl Sealed for half::bf16 {}
}

/// A parameter element type: f32 and f64 are generated natively, f16 and bf16
/// are the f32 values rounded to nearest, ties to even.
pub trait Element: sealed::Sealed + Copy + Send + Sync + 'static {
    /// Generates `region` (or the whole tensor) of `shape` under `plan`.
    #[doc(hidden)]
    fn generate_plan(
        stream: &Stream,
        plan: &Plan,
        shape: &[usize],
        region: &[Range<usize>],
        chunk: usize,
    ) -> Result<Vec<Self>>;

    /// Why `values` cannot be stored in this type, if they cannot (f16 overflow).
    #[doc(hidden)]
    fn overflow(_values: &[Self]) -> Option<String> {
        None
    }
}

/// The values of `scheme` for parameter stream `stream` with the given global
/// `shape`, restricted to `region` (one range per dimension) when given, in
/// row-major order of the region.
pub fn generate<T: Element>(
    stream: &Stream,
    scheme: &Scheme,
    shape: &[usize],
    region: Option<&[Range<usize>]>,
) -> Result<Vec<T>> {
    generate_with_chunk(stream, scheme, shape, region, CHUNK)
}

/// [`generate`] with an explicit parallel chunk size (for tests and benchmarks:
/// the bits never depend on it).
pub fn generate_with_chunk<T: Element>(
    stream: &Stream,
    scheme: &Scheme,
    shape: &[usize],
    region: Option<&[Range<usize>]>,
    chunk: usize,
) -> Result<Vec<T>> {
    check_shape(shape)?;
    let plan = scheme.plan(shape)?;
    let full: Vec<Range<usize>> = shape.iter().map(|&n| 0..n).collect();
    let region = match region {
        Some(r) => {
            check_region(shape, r)?;
            r
        }
        None => &full,
    };
    let values = T::generate_plan(stream, &plan, shape, region, chunk.max(1))?;
    match T::overflow(&values) {
        Some(reason) => Err(Error::scheme(scheme, reason)),
        None => Ok(values),
    }
}

fn check_region(shape: &[usize], region: &[Range<usize>]) -> Result<()> {
    let text = region
        .iter()
        .map(|r| format!("{}:{}", r.start, r.end))
        .collect::<Vec<_>>()
        .join(",");
    let fail = |reason: String| {
        Err(Error::Region {
            region: text.clone(),
            shape: ShapeDisplay(shape.to_vec()),
            reason,
        })
    };
    if region.len() != shape.len() {
        return fail(format!(
            "needs {} ranges, one per dimension, got {}",
            shape.len(),
            region.len()
        ));
    }
    for (d, (r, &n)) in region.iter().zip(shape).enumerate() {
        if r.start >= r.end || r.end > n {
            return fail(format!(
                "range {}:{} of dimension {d} is empty or outside 0:{n}",
                r.start, r.end
            ));
        }
    }
    Ok(())
}

/// The coordinates (in the full tensor) of the first element of region row `row`.
fn row_prefix(prefix_ranges: &[Range<usize>], mut row: usize, out: &mut [usize]) {
    for (d, r) in prefix_ranges.iter().enumerate().rev() {
        let len = r.end - r.start;
        out[d] = r.start + row % len;
        row /= len;
    }
}

/// Fills `out` (the region, row-major) with `f(counter_prefix, first_coordinate, run)`
/// for each contiguous run along the last dimension, in parallel chunks.
fn fill_runs<T: Send>(
    shape: &[usize],
    region: &[Range<usize>],
    chunk: usize,
    out: &mut [T],
    run: impl Fn(&[usize], [u32; 3], usize, &mut [T]) + Sync,
) {
    let rank = shape.len();
    let (prefix_ranges, last) = match region.split_last() {
        Some((last, prefix)) => (prefix, last.clone()),
        None => (&[][..], 0..1),
    };
    let row_len = last.end - last.start;
    let work = |(ci, buf): (usize, &mut [T])| {
        let mut prefix = vec![0usize; rank.saturating_sub(1)];
        let mut flat = ci * chunk;
        let mut pos = 0;
        while pos < buf.len() {
            let (row, col) = (flat / row_len, flat % row_len);
            row_prefix(prefix_ranges, row, &mut prefix);
            let n = (row_len - col).min(buf.len() - pos);
            run(
                &prefix,
                row_counter(shape, &prefix),
                last.start + col,
                &mut buf[pos..pos + n],
            );
            pos += n;
            flat += n;
        }
    };
    if out.len() <= chunk {
        work((0, out));
    } else {
        out.par_chunks_mut(chunk).enumerate().for_each(work);
    }
}

/// One run of an elementwise draw: elements `start..start + out.len()` of a row.
#[inline]
fn draw_run<T: Copy, const L: usize>(
    key: [u32; 2],
    ctr: [u32; 3],
    start: usize,
    out: &mut [T],
    block: impl Fn([u32; 4]) -> [T; L],
) {
    let end = start + out.len();
    let (mut i, mut o) = (start, 0);
    while i < end {
        let (blk, lane) = (i / L, i % L);
        let vals = block(philox4x32_10([ctr[0], ctr[1], ctr[2], blk as u32], key));
        let take = (L - lane).min(end - i);
        out[o..o + take].copy_from_slice(&vals[lane..lane + take]);
        i += take;
        o += take;
    }
}

fn region_len(region: &[Range<usize>]) -> usize {
    region.iter().map(|r| r.end - r.start).product()
}

/// Value of the identity-like plans at coordinates `idx` (last one included).
fn structured_one(plan: &Plan, shape: &[usize], idx: &[usize]) -> bool {
    match *plan {
        Plan::Eye => idx[0] == idx[1],
        Plan::Dirac { groups } => {
            let per_group = shape[0] / groups;
            let d = idx[0] % per_group;
            d < per_group.min(shape[1]) && idx[1] == d && idx[2..].iter().zip(&shape[2..]).all(|(&i, &n)| i == n / 2)
        }
        _ => unreachable!("only eye and dirac are structured elementwise plans"),
    }
}

/// Shared driver for the two native precisions.
macro_rules! native_element {
    ($t:ty, $prepare:ident, $prepared:ty, $lanes:expr) => {
        impl Element for $t {
            fn generate_plan(
                stream: &Stream,
                plan: &Plan,
                shape: &[usize],
                region: &[Range<usize>],
                chunk: usize,
            ) -> Result<Vec<Self>> {
                let mut out: Vec<$t> = vec![0.0; region_len(region)];
                match plan {
                    Plan::Elementwise(draw) => {
                        let p: $prepared = draw.$prepare()?;
                        let key = stream.key();
                        fill_runs(shape, region, chunk, &mut out, |_, ctr, start, buf| {
                            draw_run::<$t, { $lanes }>(key, ctr, start, buf, |x| {
                                let v = p.block(x);
                                std::array::from_fn(|l| v[l])
                            })
                        });
                    }
                    Plan::Eye | Plan::Dirac { .. } => {
                        fill_runs(shape, region, chunk, &mut out, |prefix, _, start, buf| {
                            let mut idx = prefix.to_vec();
                            idx.push(0);
                            for (k, v) in buf.iter_mut().enumerate() {
                                *idx.last_mut().expect("rank >= 2") = start + k;
                                *v = if structured_one(plan, shape, &idx) {
                                    1.0
                                } else {
                                    0.0
                                };
                            }
                        });
                    }
                    Plan::Orthogonal { gain } => {
                        let full = orthogonal_full(stream, shape, *gain)?;
                        out = cut(&full, shape, region, |v| v as $t);
                    }
                    Plan::Sparse { sparsity, std } => {
                        let full_region: Vec<Range<usize>> = shape.iter().map(|&n| 0..n).collect();
                        let normal = Plan::Elementwise(Draw::Normal { mean: 0.0, std: *std });
                        let mut full = <$t>::generate_plan(stream, &normal, shape, &full_region, chunk)?;
                        sparse_mask(stream, shape, *sparsity, &mut full, 0.0);
                        out = cut(&full, shape, region, |v| v);
                    }
                }
                Ok(out)
            }
        }
    };
}

native_element!(f32, prepare_f32, Prepared32, LANES_F32);
native_element!(f64, prepare_f64, Prepared64, LANES_F64);

impl Element for half::f16 {
    fn generate_plan(
        stream: &Stream,
        plan: &Plan,
        shape: &[usize],
        region: &[Range<usize>],
        chunk: usize,
    ) -> Result<Vec<Self>> {
        let v = f32::generate_plan(stream, plan, shape, region, chunk)?;
        Ok(v.into_par_iter().map(half::f16::from_f32).collect())
    }

    fn overflow(values: &[Self]) -> Option<String> {
        values
            .iter()
            .find(|h| h.is_infinite())
            .map(|_| "values overflow F16 (largest finite 65504); use F32 or BF16".to_owned())
    }
}

impl Element for half::bf16 {
    fn generate_plan(
        stream: &Stream,
        plan: &Plan,
        shape: &[usize],
        region: &[Range<usize>],
        chunk: usize,
    ) -> Result<Vec<Self>> {
        let v = f32::generate_plan(stream, plan, shape, region, chunk)?;
        Ok(v.into_par_iter().map(half::bf16::from_f32).collect())
    }
}

/// Copies `region` out of the row-major `full` tensor of `shape`.
fn cut<S: Copy, T>(full: &[S], shape: &[usize], region: &[Range<usize>], conv: impl Fn(S) -> T) -> Vec<T> {
    let mut out = Vec::with_capacity(region_len(region));
    let rank = shape.len();
    let mut strides = vec![1usize; rank];
    for d in (0..rank.saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    let last = region.last().expect("structured plans have rank >= 2").clone();
    let rows = region_len(&region[..rank - 1]);
    let mut prefix = vec![0usize; rank - 1];
    for row in 0..rows {
        row_prefix(&region[..rank - 1], row, &mut prefix);
        let base: usize = prefix.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.extend(full[base + last.start..base + last.end].iter().map(|&v| conv(v)));
    }
    out
}

/// The whole orthogonal tensor in f64, row-major (SPEC.md 6.3): the normal draw
/// of the flattened `[rows, cols]` matrix, transposed when `rows < cols`, its
/// sign-fixed Q, scaled by `gain`.
fn orthogonal_full(stream: &Stream, shape: &[usize], gain: f64) -> Result<Vec<f64>> {
    let rows = shape[0];
    let cols = shape[1..].iter().product::<usize>();
    let flat = [rows, cols];
    let normal = Plan::Elementwise(Draw::Normal { mean: 0.0, std: 1.0 });
    let a = f64::generate_plan(stream, &normal, &flat, &[0..rows, 0..cols], CHUNK)?;
    // `a` row-major [rows, cols] is column-major [cols, rows]; QR needs m >= n.
    let out = if rows < cols {
        // Factor a^T (cols x rows, column-major = `a` as stored); Q^T is the result.
        // Its column-major [cols, rows] Q is the row-major [rows, cols] result.
        orthonormal_columns(&a, cols, rows)
    } else {
        let mut at = vec![0.0; rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                at[j * rows + i] = a[i * cols + j];
            }
        }
        let q = orthonormal_columns(&at, rows, cols);
        let mut out = vec![0.0; rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                out[i * cols + j] = q[j * rows + i];
            }
        }
        out
    };
    Ok(out.into_iter().map(|v| v * gain).collect())
}

/// Zeros `ceil(sparsity * rows)` entries of each column of the 2-D `full`
/// (SPEC.md 6.4): the rows with the smallest auxiliary-stream words.
fn sparse_mask<T: Copy>(stream: &Stream, shape: &[usize], sparsity: f64, full: &mut [T], zero: T) {
    let (rows, cols) = (shape[0], shape[1]);
    let num_zeros = ((sparsity * rows as f64).ceil() as usize).min(rows);
    let key = stream.aux_key();
    let mut order: Vec<(u32, usize)> = Vec::with_capacity(rows);
    for j in 0..cols {
        order.clear();
        for i in 0..rows {
            let w = philox4x32_10([0, 0, i as u32, (j / 4) as u32], key)[j % 4];
            order.push((w, i));
        }
        order.sort_unstable();
        for &(_, i) in &order[..num_zeros] {
            full[i * cols + j] = zero;
        }
    }
}
