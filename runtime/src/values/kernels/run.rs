//! Runs along a row, generic over the instruction set's counter lanes `V`,
//! f32 vectors `F` and batch sizes; each instruction set's file instantiates
//! them inside its `#[target_feature]` entries (`isa::vector_entries!`).

use std::mem::MaybeUninit;

use super::draw::{self, Scratch, MAX_BLOCKS};
use super::draw32;
use super::lanes::Lanes;
use super::philox::{self, Row, Splat};
use super::vec32::{self, V32};
use crate::transform::{Prepared32, Prepared64, LANES_F32, LANES_F64};

/// The f32-family element types: f32, and f16 / bf16 rounded from it to
/// nearest, ties to even, bit for bit as the `half` crate rounds.
pub(crate) trait Out32: Copy + Send + Sync + 'static {
    /// The value `v` rounded to this type.
    fn from_f32(v: f32) -> Self;
    /// The bit pattern, to compare values exactly (`-0.0` and NaN included).
    fn bits(self) -> u32;
    /// Rounds the f32 lanes of `a`, then `b`, to this type and stores them in
    /// lane order into `out[..2 * F::N]`.
    fn store2<F: V32>(t: F::Token, a: F, b: F, out: &mut [MaybeUninit<Self>]);
}

impl Out32 for f32 {
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn from_f32(v: f32) -> Self {
        v
    }
    fn bits(self) -> u32 {
        self.to_bits()
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store2<F: V32>(_: F::Token, a: F, b: F, out: &mut [MaybeUninit<Self>]) {
        a.store_f32(out);
        b.store_f32(&mut out[F::N..]);
    }
}

impl Out32 for half::bf16 {
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn from_f32(v: f32) -> Self {
        half::bf16::from_bits(draw::bf16_bits(v.to_bits()))
    }
    fn bits(self) -> u32 {
        self.to_bits().into()
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store2<F: V32>(t: F::Token, a: F, b: F, out: &mut [MaybeUninit<Self>]) {
        let [a, b] = draw32::bf16_bits(t, vec32::Many([a, b])).0;
        F::store_u16(a, b, as_u16(out));
    }
}

impl Out32 for half::f16 {
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn from_f32(v: f32) -> Self {
        half::f16::from_bits(draw::f16_bits(v.to_bits()))
    }
    fn bits(self) -> u32 {
        self.to_bits().into()
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store2<F: V32>(t: F::Token, a: F, b: F, out: &mut [MaybeUninit<Self>]) {
        let [a, b] = draw32::f16_bits(t, vec32::Many([a, b])).0;
        F::store_u16(a, b, as_u16(out));
    }
}

/// The slots of 16-bit floats as slots of their bit patterns.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn as_u16<T: Out32>(out: &mut [MaybeUninit<T>]) -> &mut [MaybeUninit<u16>] {
    const { assert!(std::mem::size_of::<T>() == 2 && std::mem::align_of::<T>() == 2) };
    // SAFETY: `half::f16` and `half::bf16` are `#[repr(transparent)]` over `u16`
    // (the assertion checks size and alignment for the callers, which are those
    // two), so the slices have the same layout; the new one borrows the old.
    unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), out.len()) }
}

/// A slot a kernel stores a value into: an element of a scratch buffer, or of
/// the output still to be initialised.
pub(super) trait Put<T> {
    fn put(&mut self, v: T);
}

impl<O: Out32> Put<f32> for O {
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn put(&mut self, v: f32) {
        *self = O::from_f32(v);
    }
}

impl<O: Out32> Put<f32> for MaybeUninit<O> {
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn put(&mut self, v: f32) {
        self.write(O::from_f32(v));
    }
}

impl Put<f64> for f64 {
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn put(&mut self, v: f64) {
        *self = v;
    }
}

impl Put<f64> for MaybeUninit<f64> {
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn put(&mut self, v: f64) {
        self.write(v);
    }
}

// ---------------------------------------------------------------------------
// Runs along a row, generic over the lane type and the batch size.

/// Writes elements `start .. start + out.len()` of the f32-family row `ctr`
/// under `key`; every element of `out` is written. A batch is `P` Philox
/// batches of `R` vectors of `V::LANES` blocks, transformed as `K` vectors `F`
/// of 32-bit words (`H = K / 2`: see `draw32::values32`).
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn run32_on<
    T: Copy,
    V: Lanes<Token = T>,
    F: V32<Token = T>,
    const R: usize,
    const P: usize,
    const K: usize,
    const H: usize,
    O: Out32,
>(
    t: T,
    op: &Prepared32,
    key: [u32; 2],
    ctr: [u32; 3],
    start: usize,
    mut out: &mut [MaybeUninit<O>],
) {
    const { assert!(R * P * V::LANES <= MAX_BLOCKS && 4 * R * P * V::LANES == K * F::N) };
    if let Prepared32::Constant(c) = *op {
        for d in out.iter_mut() {
            d.put(c);
        }
        return;
    }
    let blocks = R * V::LANES;
    let per = LANES_F32 * blocks * P;
    let splat = Row::new(key, ctr).splat::<V>(t);
    let mut pairs = [0u64; 2 * MAX_BLOCKS];
    let pairs = &mut pairs[..2 * blocks * P];
    let mut buf = [0u32; 4 * MAX_BLOCKS];
    let mut tmp = [MaybeUninit::<O>::uninit(); 4 * MAX_BLOCKS];
    let tmp = &mut tmp[..per];
    let mut i = start;
    while !out.is_empty() {
        let (blk, lane) = (i / LANES_F32, i % LANES_F32);
        for (p, pairs) in pairs.chunks_exact_mut(2 * blocks).enumerate() {
            philox::batch::<V, R>(&splat, (blk + p * blocks) as u32, pairs);
        }
        let words = draw::words(pairs, &mut buf);
        let take = if lane == 0 && out.len() >= per {
            // A whole batch, straight into the output.
            draw32::values32::<F, K, H, O>(t, op, words, &mut out[..per]);
            per
        } else {
            draw32::values32::<F, K, H, O>(t, op, words, tmp);
            let take = (per - lane).min(out.len());
            out[..take].copy_from_slice(&tmp[lane..lane + take]);
            take
        };
        out = &mut std::mem::take(&mut out)[take..];
        i += take;
    }
}

/// A run of a row: the row's counter words, the run's first element along the
/// row and its length.
pub(crate) type Run = ([u32; 3], usize, usize);

/// The runs one after the other into `out`, with batches gathered across
/// runs: for rows shorter than a batch, where [`run32_on`] would compute a
/// whole batch for each. Every element of `out` (the runs' total length) is
/// written.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn runs32_on<
    T: Copy,
    V: Lanes<Token = T>,
    F: V32<Token = T>,
    const R: usize,
    const P: usize,
    const K: usize,
    const H: usize,
    O: Out32,
>(
    t: T,
    op: &Prepared32,
    key: [u32; 2],
    runs: &[Run],
    out: &mut [MaybeUninit<O>],
) {
    const { assert!(R * P * V::LANES <= MAX_BLOCKS && 4 * R * P * V::LANES == K * F::N) };
    if let Prepared32::Constant(c) = *op {
        for d in out.iter_mut() {
            d.put(c);
        }
        return;
    }
    let blocks = R * P * V::LANES;
    let mut gather = Gather::<V> {
        splat: Row::new(key, [0; 3]).splat::<V>(t),
        ctrs: [[0; MAX_BLOCKS]; 4],
        lanes: [(0, 0); MAX_BLOCKS],
        filled: 0,
        pairs: [0; 2 * MAX_BLOCKS],
        buf: [0; 4 * MAX_BLOCKS],
    };
    let mut tmp = [MaybeUninit::<O>::uninit(); 4 * MAX_BLOCKS];
    let (mut from, mut to) = (0, 0);
    for &(ctr, start, n) in runs {
        let (mut i, end) = (start, start + n);
        while i < end {
            let (blk, lane) = (i / LANES_F32, i % LANES_F32);
            let take = (LANES_F32 - lane).min(end - i);
            let f = gather.filled;
            for (w, c) in gather.ctrs.iter_mut().zip([ctr[0], ctr[1], ctr[2], blk as u32]) {
                w[f] = c;
            }
            gather.lanes[f] = (lane as u8, (lane + take) as u8);
            gather.filled += 1;
            (i, to) = (i + take, to + take);
            if gather.filled == blocks {
                gather_flush::<T, V, F, R, P, K, H, O>(t, op, &mut gather, &mut tmp, &mut out[from..to]);
                from = to;
            }
        }
    }
    if gather.filled > 0 {
        gather_flush::<T, V, F, R, P, K, H, O>(t, op, &mut gather, &mut tmp, &mut out[from..to]);
    }
}

/// Rows that all take the same part `start .. start + n` of their row (whole
/// rows of a tensor, or of a region): counter word `k` of row `i` is
/// `ctr[k][i]`, word by word as the kernels load counters, so rows of one block
/// go to Philox without a copy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rows<'a> {
    pub(crate) ctr: [&'a [u32]; 3],
    pub(crate) start: usize,
    pub(crate) n: usize,
}

impl Rows<'_> {
    /// The number of rows.
    pub(crate) fn len(&self) -> usize {
        self.ctr[0].len()
    }

    /// The number of values: `n` of each row.
    pub(crate) fn values(&self) -> usize {
        self.len() * self.n
    }
}

/// The `rows` one after the other into `out` (every element of it, the rows'
/// values, is written).
///
/// As many whole rows as fit go into each batch of blocks, and only the words a
/// row's values need are kept: its window, the words `start .. start + n` of
/// the row's blocks (for normal, which draws from pairs of words, the whole
/// pairs covering them). The windows of consecutive rows, packed one after the
/// other, are transformed a full batch of words at a time, so a row of one
/// element costs one Philox block and one word's transform (one pair's for
/// normal), not a whole batch's. The transforms are lane-wise (pair-wise), so a
/// value depends only on its own words wherever they sit in the batch.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn rows32_on<
    T: Copy,
    V: Lanes<Token = T>,
    F: V32<Token = T>,
    const R: usize,
    const P: usize,
    const K: usize,
    const H: usize,
    O: Out32,
>(
    t: T,
    op: &Prepared32,
    key: [u32; 2],
    rows: Rows<'_>,
    out: &mut [MaybeUninit<O>],
) {
    assert_eq!(out.len(), rows.values(), "the output holds the rows' values");
    let (start, n) = (rows.start, rows.n);
    if let Prepared32::Constant(c) = *op {
        for d in out.iter_mut() {
            d.put(c);
        }
        return;
    }
    let first = start / LANES_F32;
    let span = (start + n).div_ceil(LANES_F32) - first;
    let lane = start % LANES_F32;
    if n == 0 {
        return;
    }
    if span > R * P * V::LANES {
        // Rows longer than a batch of blocks (the portable path's batch is
        // four blocks): one at a time.
        for (i, out) in out.chunks_exact_mut(n).enumerate() {
            let ctr = [rows.ctr[0][i], rows.ctr[1][i], rows.ctr[2][i]];
            run32_on::<T, V, F, R, P, K, H, O>(t, op, key, ctr, start, out);
        }
        return;
    }
    // The window within the row's `4 * span` words, and the values of it kept.
    let (lo, hi) = match op {
        Prepared32::Normal { .. } => (lane & !1, (lane + n).next_multiple_of(2)),
        _ => (lane, lane + n),
    };
    let (width, skip) = (hi - lo, lane - lo);
    let per = R * V::LANES;
    let blocks = per * P;
    let rows_per_batch = blocks / span;
    let batch = K * F::N;
    let splat = Row::new(key, [0; 3]).splat::<V>(t);
    let mut ctrs = [[0u32; MAX_BLOCKS]; 4];
    // Block k of a row has counter word 3 `first + k`, whatever the row.
    for row in ctrs[3][..rows_per_batch * span].chunks_exact_mut(span) {
        for (k, c3) in row.iter_mut().enumerate() {
            *c3 = (first + k) as u32;
        }
    }
    let mut pairs = [0u64; 2 * MAX_BLOCKS];
    let mut buf = [0u32; 4 * MAX_BLOCKS];
    // Packed windows: up to a batch waiting, plus one Philox batch's worth.
    let mut packed = [0u32; 8 * MAX_BLOCKS];
    let mut filled = 0;
    let mut tmp = [MaybeUninit::<O>::uninit(); 4 * MAX_BLOCKS];
    let mut at = 0;
    // Position within the current row's window of the next value to be made.
    let mut pos = 0;
    let mut g = 0;
    // One place transforms a batch (the transforms are long code, inlined into
    // every entry): a batch where Philox wrote it, or packed windows.
    loop {
        let last = g == rows.len();
        if last && filled == 0 {
            break;
        }
        let mut in_place = false;
        let words: &[u32] = if last {
            &[]
        } else {
            let count = rows_per_batch.min(rows.len() - g);
            // Rows of one block, a whole batch of them: the counters as they are.
            let direct = span == 1 && count == blocks;
            if !direct {
                let mut b = 0;
                for i in g..g + count {
                    for _ in 0..span {
                        ctrs[0][b] = rows.ctr[0][i];
                        ctrs[1][b] = rows.ctr[1][i];
                        ctrs[2][b] = rows.ctr[2][i];
                        b += 1;
                    }
                }
            }
            let pairs = &mut pairs[..2 * blocks];
            for (p, pairs) in pairs.chunks_exact_mut(2 * per).enumerate() {
                let at = p * per;
                let c = if direct {
                    let at = g + at;
                    [
                        &rows.ctr[0][at..],
                        &rows.ctr[1][at..],
                        &rows.ctr[2][at..],
                        &ctrs[3][p * per..],
                    ]
                } else {
                    [&ctrs[0][at..], &ctrs[1][at..], &ctrs[2][at..], &ctrs[3][at..]]
                };
                philox::batch_of::<V, R>(&splat, c, pairs);
            }
            let words = draw::words(pairs, &mut buf);
            g += count;
            let stride = span * LANES_F32;
            // The windows are whole blocks filling the batch: already packed.
            in_place = width == stride && count * width == batch && filled == 0;
            if !in_place {
                // Windows of up to four words are copied in a loop of constant
                // width: a call of `memcpy` per row would cost more than its values.
                let to = &mut packed[filled..];
                match width {
                    1 => pack::<1>(&words[lo..], stride, count, to),
                    2 => pack::<2>(&words[lo..], stride, count, to),
                    3 => pack::<3>(&words[lo..], stride, count, to),
                    4 => pack::<4>(&words[lo..], stride, count, to),
                    _ => {
                        for row in 0..count {
                            let from = row * stride + lo;
                            to[row * width..(row + 1) * width].copy_from_slice(&words[from..from + width]);
                        }
                    }
                }
                filled += count * width;
            }
            words
        };
        if !(in_place || filled >= batch || last) {
            continue;
        }
        // On the last, partial batch the words past `filled` are left over
        // from earlier rows, and their values are not kept.
        let src = if in_place { &words[..batch] } else { &packed[..batch] };
        at += rows_out::<F, K, H, O>(t, op, src, width, skip, n, &mut pos, &mut tmp, &mut out[at..]);
        if !in_place {
            let left = filled.saturating_sub(batch);
            packed.copy_within(batch.min(filled)..filled, 0);
            filled = left;
        }
    }
    assert_eq!(at, out.len(), "the rows fill the output exactly");
}

/// The values of a batch of packed windows of `width` words, into `out`: all
/// of them when each window is one row's values (`skip == 0`, `width == n`),
/// else values `skip .. skip + n` of each window. `pos` is the position within
/// its window of `words[0]`, carried from batch to batch; `out` may be shorter
/// than the batch's values (the last batch). Returns the values written.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(not(opt_level_zero), inline(always))]
fn rows_out<F: V32, const K: usize, const H: usize, O: Out32>(
    t: F::Token,
    op: &Prepared32,
    words: &[u32],
    width: usize,
    skip: usize,
    n: usize,
    pos: &mut usize,
    tmp: &mut [MaybeUninit<O>; 4 * MAX_BLOCKS],
    out: &mut [MaybeUninit<O>],
) -> usize {
    let batch = K * F::N;
    let straight = width == n && out.len() >= batch;
    // One call of the transforms, inlined once.
    let dst = if straight { &mut out[..batch] } else { &mut tmp[..batch] };
    draw32::values32::<F, K, H, O>(t, op, words, dst);
    if straight {
        return batch;
    }
    if width == n {
        out.copy_from_slice(&tmp[..out.len()]);
        return out.len();
    }
    if *pos == 0 && batch.is_multiple_of(width) && out.len() >= batch / width * n {
        // Whole windows: each row's values at the same place in its window.
        let rows = batch / width;
        match (width, n) {
            (2, 1) => unpack::<2, 1, O>(&tmp[skip..], rows, out),
            (4, 2) => unpack::<4, 2, O>(&tmp[skip..], rows, out),
            (4, 3) => unpack::<4, 3, O>(&tmp[skip..], rows, out),
            _ => {
                for row in 0..rows {
                    let from = row * width + skip;
                    out[row * n..(row + 1) * n].copy_from_slice(&tmp[from..from + n]);
                }
            }
        }
        return rows * n;
    }
    let mut o = 0;
    for v in &tmp[..batch] {
        if o == out.len() {
            break;
        }
        if (skip..skip + n).contains(pos) {
            out[o] = *v;
            o += 1;
        }
        *pos += 1;
        if *pos == width {
            *pos = 0;
        }
    }
    o
}

/// Words `row * stride .. row * stride + W` of `words` for each row below
/// `count`, one after the other into `to`.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn pack<const W: usize>(words: &[u32], stride: usize, count: usize, to: &mut [u32]) {
    for (row, to) in to[..count * W].chunks_exact_mut(W).enumerate() {
        to.copy_from_slice(&words[row * stride..row * stride + W]);
    }
}

/// Values `row * W .. row * W + N` of `values` for each row below `rows`,
/// one after the other into `out`.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn unpack<const W: usize, const N: usize, O: Copy>(values: &[MaybeUninit<O>], rows: usize, out: &mut [MaybeUninit<O>]) {
    for (row, out) in out[..rows * N].chunks_exact_mut(N).enumerate() {
        out.copy_from_slice(&values[row * W..row * W + N]);
    }
}

/// The blocks of a batch gathered from several runs.
struct Gather<V: Lanes> {
    splat: Splat<V>,
    /// Counter words of each block of the batch.
    ctrs: [[u32; MAX_BLOCKS]; 4],
    /// The lanes of each block that go to the output.
    lanes: [(u8, u8); MAX_BLOCKS],
    /// Blocks gathered so far.
    filled: usize,
    pairs: [u64; 2 * MAX_BLOCKS],
    buf: [u32; 4 * MAX_BLOCKS],
}

/// Computes the gathered blocks and writes their lanes into `out` (exactly as
/// many as the blocks hold).
#[cfg_attr(not(opt_level_zero), inline(always))]
fn gather_flush<
    T: Copy,
    V: Lanes<Token = T>,
    F: V32<Token = T>,
    const R: usize,
    const P: usize,
    const K: usize,
    const H: usize,
    O: Out32,
>(
    t: T,
    op: &Prepared32,
    g: &mut Gather<V>,
    tmp: &mut [MaybeUninit<O>; 4 * MAX_BLOCKS],
    out: &mut [MaybeUninit<O>],
) {
    let per = R * V::LANES;
    let pairs = &mut g.pairs[..2 * per * P];
    for (p, pairs) in pairs.chunks_exact_mut(2 * per).enumerate() {
        let c = [
            &g.ctrs[0][p * per..],
            &g.ctrs[1][p * per..],
            &g.ctrs[2][p * per..],
            &g.ctrs[3][p * per..],
        ];
        philox::batch_of::<V, R>(&g.splat, c, pairs);
    }
    let words = draw::words(pairs, &mut g.buf);
    draw32::values32::<F, K, H, O>(t, op, words, &mut tmp[..K * F::N]);
    let mut o = 0;
    for (b, &(from, to)) in g.lanes[..g.filled].iter().enumerate() {
        // One to four elements: a plain loop, not a call of `memcpy`.
        for l in from as usize..to as usize {
            out[o] = tmp[4 * b + l];
            o += 1;
        }
    }
    assert_eq!(o, out.len(), "gathered lanes fill the output part exactly");
    g.filled = 0;
}

/// [`run32_on`] for f64.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn run64_on<T: Copy, V: Lanes<Token = T>, const R: usize>(
    t: T,
    op: &Prepared64,
    key: [u32; 2],
    ctr: [u32; 3],
    start: usize,
    mut out: &mut [MaybeUninit<f64>],
) {
    if let Prepared64::Constant(c) = *op {
        for d in out.iter_mut() {
            d.put(c);
        }
        return;
    }
    let blocks = R * V::LANES;
    let per = LANES_F64 * blocks;
    let splat = Row::new(key, ctr).splat::<V>(t);
    let mut pairs = [0u64; 2 * MAX_BLOCKS];
    let pairs = &mut pairs[..2 * blocks];
    let mut tmp = [0f64; 2 * MAX_BLOCKS];
    let tmp = &mut tmp[..per];
    let mut scratch = Scratch::NEW;
    let mut i = start;
    while !out.is_empty() {
        let (blk, lane) = (i / LANES_F64, i % LANES_F64);
        philox::batch::<V, R>(&splat, blk as u32, pairs);
        let take = if lane == 0 && out.len() >= per {
            draw::values64(op, pairs, &mut scratch, &mut out[..per]);
            per
        } else {
            draw::values64(op, pairs, &mut scratch, &mut *tmp);
            let take = (per - lane).min(out.len());
            for (d, &v) in out[..take].iter_mut().zip(&tmp[lane..]) {
                d.write(v);
            }
            take
        };
        out = &mut std::mem::take(&mut out)[take..];
        i += take;
    }
}
