//! The check every path passes before its first use: the reference's bits on
//! a sample of every entry (whole rows, short rows gathered into batches,
//! f64), every draw (both branches of the inverse error functions, partial
//! batches at both ends) and every element type (f16 / bf16 rounding of
//! subnormals, overflow and ties).

use std::sync::OnceLock;

use super::draw::MAX_BLOCKS;
use super::run::{Out32, Rows, Run};
use super::{collect, Path};
use crate::transform::{Draw, Prepared32};

/// The first case where `path` differs from the reference, described, or
/// `None` when it agrees everywhere (computed once per process and path).
pub(super) fn result(path: Path) -> Option<String> {
    static RESULTS: [OnceLock<Option<String>>; Path::ALL.len()] = [const { OnceLock::new() }; Path::ALL.len()];
    if path == Path::Scalar {
        return None;
    }
    let index = Path::ALL
        .iter()
        .position(|&p| p == path)
        .expect("every path is in Path::ALL");
    RESULTS[index].get_or_init(|| first_difference(path)).clone()
}

/// The sample's draws: every transform, and constants that exercise rounding
/// to f16 / bf16 (overflow, the largest finite, a tie, subnormals, underflow).
fn draws() -> Vec<Draw> {
    let mut draws = vec![
        Draw::Uniform { a: -0.3, b: 0.7 },
        Draw::Normal { mean: 0.5, std: 2.0 },
        Draw::TruncNormal {
            mean: 0.0,
            std: 1.0,
            a: -6.0,
            b: 6.0,
        },
        Draw::TruncNormal {
            mean: 0.1,
            std: 0.02,
            a: -0.04,
            b: 0.04,
        },
    ];
    for value in [3.4e38, 65520.0, 65504.0, 1.003_906_25, 1e-5, 5.96e-8, 1e-9, -0.0] {
        draws.push(Draw::Constant { value });
    }
    draws
}

const KEY: [u32; 2] = [0x0123_4567, 0x89ab_cdef];
const CTR: [u32; 3] = [1, 2, 3];
/// A whole-row run: starts mid-block, ends mid-batch, spans several batches.
const START: usize = 3;
const LEN: usize = 4 * 4 * MAX_BLOCKS + 5;

/// Short runs of rows 0, 1, ...: every length from 1 to 13, starting at
/// every offset within a block and beyond, so batches fill and split anywhere.
fn short_runs() -> Vec<Run> {
    (0..40u32)
        .map(|r| ([r, r ^ 0x55, 7], (r as usize * 3) % 9, 1 + (r as usize * 5) % 13))
        .collect()
}

/// The counter words of 70 rows (more than one batch holds), word by word.
fn row_counters() -> [Vec<u32>; 3] {
    let rows = 0..70u32;
    [
        rows.clone().map(|r| r / 7).collect(),
        rows.clone().map(|r| r % 7).collect(),
        rows.map(|_| 3).collect(),
    ]
}

fn first_difference(path: Path) -> Option<String> {
    draws().iter().find_map(|draw| {
        let p32 = draw.prepare_f32().expect("the check's draws are valid");
        let p64 = draw.prepare_f64().expect("the check's draws are valid");
        rows32::<f32>(path, draw, &p32)
            .or_else(|| rows32::<half::bf16>(path, draw, &p32))
            .or_else(|| rows32::<half::f16>(path, draw, &p32))
            .or_else(|| {
                let get = |path| {
                    collect::<f64>(LEN, LEN, |_, s| s.run64(path, &p64, KEY, CTR, START, LEN)).expect("a small sample")
                };
                let i = first(&get(Path::Scalar), &get(path), |v| v.to_bits())?;
                Some(format!(
                    "f64 {draw:?} of a row, element {}: {:#018x} instead of {:#018x}",
                    i.0, i.2, i.1
                ))
            })
    })
}

/// The first difference of `path` from the reference for one f32-family
/// type: a whole row, then short rows gathered into batches.
fn rows32<O: Out32>(path: Path, draw: &Draw, p: &Prepared32) -> Option<String> {
    let name = std::any::type_name::<O>().rsplit("::").next().unwrap_or("?");
    let row = |path| collect::<O>(LEN, LEN, |_, s| s.run32(path, p, KEY, CTR, START, LEN)).expect("a small sample");
    if let Some((i, want, got)) = first(&row(Path::Scalar), &row(path), |v| v.bits().into()) {
        return Some(format!(
            "{name} {draw:?} of a row, element {i}: {got:#x} instead of {want:#x}"
        ));
    }
    // Runs of every length and offset.
    let runs = short_runs();
    let len = runs.iter().map(|r| r.2).sum();
    let short = |path| collect::<O>(len, len, |_, s| s.runs32(path, p, KEY, &runs)).expect("a small sample");
    if let Some((i, want, got)) = first(&short(Path::Scalar), &short(path), |v| v.bits().into()) {
        return Some(format!(
            "{name} {draw:?} of short rows, element {i}: {got:#x} instead of {want:#x}"
        ));
    }
    // Whole rows of one length: one element at offset 2 (part of a normal's
    // pair), three from offset 1 (a region `1..4` of rows), two blocks' worth.
    let ctr = row_counters();
    let ctr = [&ctr[0][..], &ctr[1][..], &ctr[2][..]];
    for (start, n) in [(2, 1), (1, 3), (3, 6)] {
        let rows = Rows { ctr, start, n };
        let len = rows.values();
        let whole = |path| collect::<O>(len, len, |_, s| s.rows32(path, p, KEY, rows)).expect("a small sample");
        if let Some((i, want, got)) = first(&whole(Path::Scalar), &whole(path), |v| v.bits().into()) {
            return Some(format!(
                "{name} {draw:?} of rows {start}..{}, element {i}: {got:#x} instead of {want:#x}",
                start + n
            ));
        }
    }
    None
}

/// The first index where `a` and `b` differ in `bits`, with both bit patterns.
fn first<T>(a: &[T], b: &[T], bits: impl Fn(&T) -> u64) -> Option<(usize, u64, u64)> {
    let i = a.iter().zip(b).position(|(x, y)| bits(x) != bits(y))?;
    Some((i, bits(&a[i]), bits(&b[i])))
}
