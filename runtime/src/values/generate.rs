//! Filling a tensor, or any hyper-rectangular region of one, from a stream.
//!
//! Elementwise plans fill in parallel chunks (rayon); each chunk derives every
//! element's counter from its coordinates, so the result is the same for any
//! thread count, chunk size or schedule, and a region costs only its own size.
//! Orthogonal and sparse plans are whole-tensor computations: a region of them
//! is computed in full and then cut.
//!
//! Runs along a row go through the vectorised kernels of [`crate::kernels`]
//! (the fastest path the CPU has, chosen at run time, every path with the same
//! bits), straight into the output's fresh memory; f16 and bf16 are rounded in
//! the kernels, with no f32 copy. [`generate_into`] writes into an existing
//! buffer instead.
//!
//! ```
//! use reproducible::{generate::generate, scheme::normal, stream::Stream};
//! let s = Stream::new(7, "w", 1);
//! let full: Vec<f32> = generate(&s, &normal(0.0, 1.0), &[4, 6], None).unwrap();
//! let rows = generate::<f32>(&s, &normal(0.0, 1.0), &[4, 6], Some(&[1..3, 0..6])).unwrap();
//! assert_eq!(rows, full[6..18]);
//! ```

use std::ops::Range;

use crate::coords::{check_shape, row_counter};
use crate::error::{Error, Result, ShapeDisplay};
use crate::kernels::{self, collect_fresh, fill_slice, Out32, Path, Rows, Sink};
use crate::orthogonal::orthonormal_columns;
use crate::philox::philox4x32_10;
use crate::scheme::{Plan, Scheme};
use crate::stream::Stream;
use crate::transform::{Draw, Prepared32, Prepared64};

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
    /// Generates `region` (or the whole tensor) of `shape` under `plan` on the kernel `path`.
    #[doc(hidden)]
    fn generate_plan_on(
        stream: &Stream,
        plan: &Plan,
        shape: &[usize],
        region: &[Range<usize>],
        chunk: usize,
        path: Path,
    ) -> Result<Vec<Self>>;

    /// [`Element::generate_plan_on`] into `out` (of the region's length).
    #[doc(hidden)]
    fn generate_plan_into(
        stream: &Stream,
        plan: &Plan,
        shape: &[usize],
        region: &[Range<usize>],
        chunk: usize,
        path: Path,
        out: &mut [Self],
    ) -> Result<()>;

    /// The type's name (`f16`).
    #[doc(hidden)]
    const NAME: &'static str;
    /// The largest finite value.
    #[doc(hidden)]
    const LARGEST: f64;
    /// Whether values are drawn in f64 (else in f32, SPEC.md 6).
    #[doc(hidden)]
    const DRAWS_F64: bool = false;
}

/// A scheme whose values could exceed the largest finite value of `T` is an
/// error naming the scheme and the type (the callers add the parameter), decided from the
/// scheme and shape alone (SPEC.md 7), so a slice fails exactly when the whole
/// tensor does.
fn check_range<T: Element>(scheme: &Scheme, plan: &Plan) -> Result<()> {
    let bound = plan.bound(T::DRAWS_F64);
    if bound <= T::LARGEST {
        return Ok(());
    }
    let wider = match T::NAME {
        "f16" => "; F32 or BF16 hold larger values",
        "bf16" | "f32" => "; F64 holds larger values",
        _ => "",
    };
    Err(Error::scheme(
        scheme,
        format!(
            "its values reach {bound:e} in magnitude, beyond the largest finite {} ({:e}){wider}",
            T::NAME,
            T::LARGEST
        ),
    ))
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
    generate_with_path(stream, scheme, shape, region, chunk, kernels::current()?)
}

/// [`generate_with_chunk`] on an explicit kernel path (for tests and benchmarks:
/// every path gives the same bits). A path this machine does not support
/// ([`Path::is_supported`]) is an error.
pub fn generate_with_path<T: Element>(
    stream: &Stream,
    scheme: &Scheme,
    shape: &[usize],
    region: Option<&[Range<usize>]>,
    chunk: usize,
    path: Path,
) -> Result<Vec<T>> {
    check_shape(shape)?;
    check_path(path)?;
    let plan = scheme.plan(shape)?;
    // The whole tensor's region, on the stack for the usual ranks: a tiny
    // tensor's request allocates nothing here.
    let mut small: [Range<usize>; 6] = Default::default();
    let large: Vec<Range<usize>>;
    let region = match region {
        Some(r) => {
            check_region(shape, r)?;
            r
        }
        None if shape.len() <= small.len() => {
            for (r, &n) in small.iter_mut().zip(shape) {
                *r = 0..n;
            }
            &small[..shape.len()]
        }
        None => {
            large = whole(shape);
            &large
        }
    };
    check_range::<T>(scheme, &plan)?;
    T::generate_plan_on(stream, &plan, shape, region, chunk.max(1), path)
}

/// [`generate`] into `out`, which must hold exactly the region's element count:
/// the same values, written over whatever `out` held (for instance an existing
/// tensor's storage, or a buffer reused from tensor to tensor).
pub fn generate_into<T: Element>(
    stream: &Stream,
    scheme: &Scheme,
    shape: &[usize],
    region: Option<&[Range<usize>]>,
    out: &mut [T],
) -> Result<()> {
    generate_into_with(stream, scheme, shape, region, CHUNK, kernels::current()?, out)
}

/// [`generate_into`] with an explicit chunk size and kernel path (an error if
/// this machine does not support it).
pub fn generate_into_with<T: Element>(
    stream: &Stream,
    scheme: &Scheme,
    shape: &[usize],
    region: Option<&[Range<usize>]>,
    chunk: usize,
    path: Path,
    out: &mut [T],
) -> Result<()> {
    check_shape(shape)?;
    check_path(path)?;
    let plan = scheme.plan(shape)?;
    let full = whole(shape);
    let region = match region {
        Some(r) => {
            check_region(shape, r)?;
            r
        }
        None => &full,
    };
    if out.len() != region_len(region) {
        return Err(Error::Region {
            region: format!("{region:?}"),
            shape: ShapeDisplay(shape.to_vec()),
            reason: format!(
                "the output holds {} elements, the region {}",
                out.len(),
                region_len(region)
            ),
        });
    }
    check_range::<T>(scheme, &plan)?;
    T::generate_plan_into(stream, &plan, shape, region, chunk.max(1), path, out)
}

fn check_path(path: Path) -> Result<()> {
    if path.is_supported() {
        Ok(())
    } else {
        Err(Error::Kernel(format!(
            "kernel path `{path}` is not supported on this machine; it supports {}",
            Path::supported_names()
        )))
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

/// Ranks up to this keep a row's coordinates on the stack.
const STACK_RANK: usize = 8;

/// Calls `f(prefix, counter_prefix, first_coordinate, len)` for each
/// contiguous run along the last dimension of the region's elements
/// `first .. first + len` (row-major).
fn for_each_run(
    shape: &[usize],
    region: &[Range<usize>],
    first: usize,
    len: usize,
    mut f: impl FnMut(&[usize], [u32; 3], usize, usize),
) {
    let rank = shape.len();
    let (prefix_ranges, last) = match region.split_last() {
        Some((last, prefix)) => (prefix, last.clone()),
        None => (&[][..], 0..1),
    };
    let row_len = last.end - last.start;
    let (mut on_stack, mut on_heap) = ([0usize; STACK_RANK], Vec::new());
    let prefix = if rank <= STACK_RANK {
        &mut on_stack[..rank.saturating_sub(1)]
    } else {
        on_heap.resize(rank - 1, 0);
        &mut on_heap[..]
    };
    let (mut flat, end) = (first, first + len);
    let mut col = first % row_len;
    row_prefix(prefix_ranges, first / row_len, prefix);
    while flat < end {
        let n = (row_len - col).min(end - flat);
        f(prefix, row_counter(shape, prefix), last.start + col, n);
        flat += n;
        col = 0;
        next_row(prefix_ranges, prefix);
    }
}

/// Moves `prefix` to the next row of the region, row-major (an odometer:
/// the last coordinate counts up and carries; past the last row it wraps to
/// the first).
fn next_row(prefix_ranges: &[Range<usize>], prefix: &mut [usize]) {
    for (i, r) in prefix.iter_mut().zip(prefix_ranges).rev() {
        *i += 1;
        if *i < r.end {
            return;
        }
        *i = r.start;
    }
}

/// The task filling one chunk of the region (row-major) from flat index
/// `first`: `run(prefix, counter_prefix, first_coordinate, len, sink)` for each
/// contiguous run along the last dimension appends the run's `len` values.
fn runs<'r, T>(
    shape: &'r [usize],
    region: &'r [Range<usize>],
    run: impl Fn(&[usize], [u32; 3], usize, usize, &mut Sink<'_, T>) + Sync + 'r,
) -> impl Fn(usize, &mut Sink<'_, T>) + Sync + 'r {
    move |first, sink| {
        let len = sink.remaining();
        for_each_run(shape, region, first, len, |prefix, ctr, start, n| {
            run(prefix, ctr, start, n, sink)
        });
    }
}

/// A piece of the region's rows, for [`for_each_row_segment`].
#[derive(Clone, Copy)]
enum Segment {
    /// Elements `start .. start + n` of the row with counter words `ctr`: a
    /// part of a row, where a chunk starts or ends inside one.
    Part { ctr: [u32; 3], start: usize, n: usize },
    /// `count` whole rows, the first with counter words `ctr`, then counting up
    /// by one in word `k`, the others fixed.
    Rows { ctr: [u32; 3], k: usize, count: usize },
}

/// [`for_each_run`] for whole rows in segments: calls `f` for the region's
/// elements `first .. first + len` (row-major), in order. For ranks 1 to 4 a
/// row's counter words are its prefix coordinates, left-padded with zeros
/// (SPEC.md 3), so consecutive rows count up in the innermost word whose
/// dimension is longer than one, and a segment is as long as that dimension
/// allows: short rows (one or a few elements each) cost no walk over their
/// coordinates, one row at a time. Higher ranks give segments of one row.
///
/// Inlined, so that `f` is too: the counter words stay in registers.
#[inline(always)]
fn for_each_row_segment(
    shape: &[usize],
    region: &[Range<usize>],
    first: usize,
    len: usize,
    mut f: impl FnMut(Segment),
) {
    let rank = shape.len();
    let Some((last, prefix)) = region.split_last().filter(|_| rank <= 4) else {
        let row_len = region.last().map_or(1, |r| r.end - r.start);
        return for_each_run(shape, region, first, len, |_, ctr, start, n| {
            f(if n == row_len {
                Segment::Rows { ctr, k: 2, count: 1 }
            } else {
                Segment::Part { ctr, start, n }
            })
        });
    };
    let pad = 4 - rank;
    let (mut lo, mut hi) = ([0usize; 3], [1usize; 3]);
    for (d, r) in prefix.iter().enumerate() {
        (lo[pad + d], hi[pad + d]) = (r.start, r.end);
    }
    // The innermost word that varies; the words after it stay at `lo`.
    let k = (0..3).rev().find(|&k| hi[k] - lo[k] > 1).unwrap_or(2);
    let row_len = last.end - last.start;
    let (mut at, mut row) = ([0usize; 3], first / row_len);
    for w in (0..3).rev() {
        let n = hi[w] - lo[w];
        at[w] = lo[w] + row % n;
        row /= n;
    }
    // Coordinates are below 2^32: shapes are checked before generation.
    let words = |at: &[usize; 3]| [at[0] as u32, at[1] as u32, at[2] as u32];
    // Moves `at` on by `m` rows, `m` at most what word `k` has left.
    let advance = |at: &mut [usize; 3], m: usize| {
        at[k] += m;
        if at[k] == hi[k] {
            at[k] = lo[k];
            for w in (0..k).rev() {
                at[w] += 1;
                if at[w] < hi[w] {
                    return;
                }
                at[w] = lo[w];
            }
        }
    };
    let (mut flat, end, col) = (first, first + len, first % row_len);
    if col != 0 {
        let n = (row_len - col).min(len);
        f(Segment::Part {
            ctr: words(&at),
            start: last.start + col,
            n,
        });
        flat += n;
        advance(&mut at, 1);
    }
    while end - flat >= row_len {
        let count = (hi[k] - at[k]).min((end - flat) / row_len);
        f(Segment::Rows {
            ctr: words(&at),
            k,
            count,
        });
        flat += count * row_len;
        advance(&mut at, count);
    }
    if flat < end {
        f(Segment::Part {
            ctr: words(&at),
            start: last.start,
            n: end - flat,
        });
    }
}

/// Rows of an f32-family elementwise draw shorter than this (a 3 x 3 kernel's
/// rows of 3) are computed in batches gathered across rows, not one batch each.
const SHORT_ROW: usize = 64;

/// Whole short rows handed to the kernels at once by [`draw32_task`].
const ROWS_AT_ONCE: usize = 256;

/// The task of [`runs`] for the f32 family's elementwise draws, gathering the
/// runs of short rows into shared batches.
fn draw32_task<'r, T: Out32>(
    shape: &'r [usize],
    region: &'r [Range<usize>],
    path: Path,
    p: &'r Prepared32,
    key: [u32; 2],
) -> impl Fn(usize, &mut Sink<'_, T>) + Sync + 'r {
    let row_len = region.last().map_or(1, |r| r.end - r.start);
    let short = row_len < SHORT_ROW;
    move |first, sink| {
        let len = sink.remaining();
        if !short {
            for_each_run(shape, region, first, len, |_, ctr, start, n| {
                sink.run32(path, p, key, ctr, start, n)
            });
            return;
        }
        // Whole rows queue their counter words, word by word; a part of a row
        // (where the chunk starts or ends mid-row) goes alone, in order.
        let mut ctr = [[0u32; ROWS_AT_ONCE]; 3];
        let mut queued = 0;
        let row_start = region.last().map_or(0, |r| r.start);
        let flush = |ctr: &[[u32; ROWS_AT_ONCE]; 3], queued: usize, sink: &mut Sink<'_, T>| {
            let ctr = [&ctr[0][..queued], &ctr[1][..queued], &ctr[2][..queued]];
            sink.rows32(
                path,
                p,
                key,
                Rows {
                    ctr,
                    start: row_start,
                    n: row_len,
                },
            );
        };
        for_each_row_segment(shape, region, first, len, |segment| match segment {
            Segment::Rows {
                ctr: mut c,
                k,
                mut count,
            } => {
                while count > 0 {
                    let m = count.min(ROWS_AT_ONCE - queued);
                    for (w, (words, c)) in ctr.iter_mut().zip(c).enumerate() {
                        let words = &mut words[queued..queued + m];
                        if w == k {
                            for (i, word) in words.iter_mut().enumerate() {
                                *word = c + i as u32;
                            }
                        } else {
                            words.fill(c);
                        }
                    }
                    (queued, count, c[k]) = (queued + m, count - m, c[k] + m as u32);
                    if queued == ROWS_AT_ONCE {
                        flush(&ctr, queued, sink);
                        queued = 0;
                    }
                }
            }
            Segment::Part { ctr: c, start, n } => {
                if queued > 0 {
                    flush(&ctr, queued, sink);
                    queued = 0;
                }
                sink.runs32(path, p, key, &[(c, start, n)]);
            }
        });
        if queued > 0 {
            flush(&ctr, queued, sink);
        }
    }
}

/// The region (row-major) as a new vector, filled in parallel chunks by [`runs`].
fn fill_runs<T: Send>(
    shape: &[usize],
    region: &[Range<usize>],
    chunk: usize,
    run: impl Fn(&[usize], [u32; 3], usize, usize, &mut Sink<'_, T>) + Sync,
) -> Result<Vec<T>> {
    collected(region_len(region), chunk, runs(shape, region, run))
}

/// [`collect_fresh`], with huge pages as [`kernels::huge_pages`] says and
/// memory that cannot be had as an error naming the size.
fn collected<T: Send>(len: usize, chunk: usize, fill: impl Fn(usize, &mut Sink<'_, T>) + Sync) -> Result<Vec<T>> {
    collect_fresh(len, chunk, kernels::huge_pages()?, fill).map_err(|e| {
        let bytes = len as u128 * std::mem::size_of::<T>() as u128;
        Error::shape(&[len], format!("cannot allocate {len} elements ({bytes} bytes): {e}"))
    })
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

/// The identity-like plans: 1.0 where `structured_one` holds, else 0.0.
fn structured<T: Copy + Send + Sync>(
    plan: &Plan,
    shape: &[usize],
    region: &[Range<usize>],
    chunk: usize,
    one: T,
    zero: T,
) -> Result<Vec<T>> {
    fill_runs(shape, region, chunk, |prefix, _, start, n, sink| {
        let mut idx = prefix.to_vec();
        idx.push(0);
        sink.extend(n, |k| {
            *idx.last_mut().expect("rank >= 2") = start + k;
            if structured_one(plan, shape, &idx) {
                one
            } else {
                zero
            }
        });
    })
}

impl Element for f64 {
    const NAME: &'static str = "f64";
    const LARGEST: f64 = f64::MAX;
    const DRAWS_F64: bool = true;

    fn generate_plan_on(
        stream: &Stream,
        plan: &Plan,
        shape: &[usize],
        region: &[Range<usize>],
        chunk: usize,
        path: Path,
    ) -> Result<Vec<Self>> {
        Ok(match plan {
            Plan::Elementwise(draw) => {
                let p: Prepared64 = draw.prepare_f64()?;
                let key = stream.key();
                fill_runs(shape, region, chunk, |_, ctr, start, n, sink| {
                    sink.run64(path, &p, key, ctr, start, n)
                })?
            }
            Plan::Eye | Plan::Dirac { .. } => structured(plan, shape, region, chunk, 1.0, 0.0)?,
            Plan::Orthogonal { gain } => {
                let full = orthogonal_full(stream, shape, *gain, path)?;
                cut(&full, shape, region, |v| v)
            }
            Plan::Sparse { sparsity, std } => {
                let mut full = Self::generate_plan_on(stream, &sparse_normal(*std), shape, &whole(shape), chunk, path)?;
                sparse_mask(stream, shape, *sparsity, &mut full, 0.0);
                cut(&full, shape, region, |v| v)
            }
        })
    }

    fn generate_plan_into(
        stream: &Stream,
        plan: &Plan,
        shape: &[usize],
        region: &[Range<usize>],
        chunk: usize,
        path: Path,
        out: &mut [Self],
    ) -> Result<()> {
        match plan {
            Plan::Elementwise(draw) => {
                let p: Prepared64 = draw.prepare_f64()?;
                let key = stream.key();
                let run =
                    |_: &[usize], ctr, start, n, sink: &mut Sink<'_, f64>| sink.run64(path, &p, key, ctr, start, n);
                fill_slice(out, chunk, runs(shape, region, run));
            }
            _ => out.copy_from_slice(&Self::generate_plan_on(stream, plan, shape, region, chunk, path)?),
        }
        Ok(())
    }
}

/// [`Element::generate_plan_into`] for the f32 family.
fn generate_f32_family_into<T: Out32>(
    stream: &Stream,
    plan: &Plan,
    shape: &[usize],
    region: &[Range<usize>],
    chunk: usize,
    path: Path,
    out: &mut [T],
) -> Result<()> {
    match plan {
        Plan::Elementwise(draw) => {
            let p: Prepared32 = draw.prepare_f32()?;
            fill_slice(out, chunk, draw32_task(shape, region, path, &p, stream.key()));
        }
        _ => out.copy_from_slice(&generate_f32_family::<T>(stream, plan, shape, region, chunk, path)?),
    }
    Ok(())
}

/// The f32 family: elementwise draws straight into the element type, the
/// structured plans through f32.
fn generate_f32_family<T>(
    stream: &Stream,
    plan: &Plan,
    shape: &[usize],
    region: &[Range<usize>],
    chunk: usize,
    path: Path,
) -> Result<Vec<T>>
where
    T: Out32,
{
    Ok(match plan {
        Plan::Elementwise(draw) => {
            let p: Prepared32 = draw.prepare_f32()?;
            collected(
                region_len(region),
                chunk,
                draw32_task(shape, region, path, &p, stream.key()),
            )?
        }
        Plan::Eye | Plan::Dirac { .. } => structured(plan, shape, region, chunk, T::from_f32(1.0), T::from_f32(0.0))?,
        Plan::Orthogonal { gain } => {
            let full = orthogonal_full(stream, shape, *gain, path)?;
            cut(&full, shape, region, |v| T::from_f32(v as f32))
        }
        Plan::Sparse { sparsity, std } => {
            let normal = sparse_normal(*std);
            let mut full: Vec<f32> = generate_f32_family(stream, &normal, shape, &whole(shape), chunk, path)?;
            sparse_mask(stream, shape, *sparsity, &mut full, 0.0);
            cut(&full, shape, region, T::from_f32)
        }
    })
}

/// The generation methods of an f32-family element (f32, f16, bf16): all three
/// draw in f32 (SPEC.md 6.1) and differ only in how a value is stored.
macro_rules! f32_family_generation {
    () => {
        fn generate_plan_on(
            stream: &Stream,
            plan: &Plan,
            shape: &[usize],
            region: &[Range<usize>],
            chunk: usize,
            path: Path,
        ) -> Result<Vec<Self>> {
            generate_f32_family(stream, plan, shape, region, chunk, path)
        }

        fn generate_plan_into(
            stream: &Stream,
            plan: &Plan,
            shape: &[usize],
            region: &[Range<usize>],
            chunk: usize,
            path: Path,
            out: &mut [Self],
        ) -> Result<()> {
            generate_f32_family_into(stream, plan, shape, region, chunk, path, out)
        }
    };
}

impl Element for f32 {
    f32_family_generation!();
    const NAME: &'static str = "f32";
    const LARGEST: f64 = f32::MAX as f64;
}

impl Element for half::f16 {
    f32_family_generation!();
    const NAME: &'static str = "f16";
    const LARGEST: f64 = 65504.0;
}

impl Element for half::bf16 {
    f32_family_generation!();
    const NAME: &'static str = "bf16";
    const LARGEST: f64 = 3.3895313892515355e38;
}

/// The whole tensor as a region.
fn whole(shape: &[usize]) -> Vec<Range<usize>> {
    shape.iter().map(|&n| 0..n).collect()
}

/// The normal draw `sparse` zeros entries of (SPEC.md 7.6).
fn sparse_normal(std: f64) -> Plan {
    Plan::Elementwise(Draw::Normal { mean: 0.0, std })
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
fn orthogonal_full(stream: &Stream, shape: &[usize], gain: f64, path: Path) -> Result<Vec<f64>> {
    let rows = shape[0];
    let cols = shape[1..].iter().product::<usize>();
    let flat = [rows, cols];
    let normal = Plan::Elementwise(Draw::Normal { mean: 0.0, std: 1.0 });
    let a = f64::generate_plan_on(stream, &normal, &flat, &[0..rows, 0..cols], CHUNK, path)?;
    // QR needs m >= n: factor `a` itself, or its transpose when it is wide.
    let out = if rows >= cols {
        orthonormal_columns(&a, rows, cols, path)
    } else {
        let q = orthonormal_columns(&transpose(&a, rows, cols), cols, rows, path);
        transpose(&q, cols, rows)
    };
    Ok(out.into_iter().map(|v| v * gain).collect())
}

/// The row-major `cols x rows` transpose of the row-major `rows x cols` `a`.
fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0.0; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            t[j * rows + i] = a[i * cols + j];
        }
    }
    t
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
