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
    if let Some(&(_, start, n)) = runs.first() {
        let span = (start + n).div_ceil(LANES_F32) - start / LANES_F32;
        if n > 0 && span <= blocks && runs.iter().all(|r| (r.1, r.2) == (start, n)) {
            rows32_on::<T, V, F, R, P, K, H, O>(t, op, key, runs, out);
            return;
        }
    }
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

/// [`runs32_on`] when every run is the same part `start .. start + n` of its
/// row (whole rows of a tensor, or of a region) and a row spans at most one
/// batch of blocks: as many whole rows as fit go into each batch, and each
/// row's elements are one contiguous piece of the batch's values.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn rows32_on<
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
    let (start, n) = (runs[0].1, runs[0].2);
    let first = start / LANES_F32;
    let span = (start + n).div_ceil(LANES_F32) - first;
    let lane = start % LANES_F32;
    let per = R * V::LANES;
    let blocks = per * P;
    let rows_per_batch = blocks / span;
    let splat = Row::new(key, [0; 3]).splat::<V>(t);
    let mut ctrs = [[0u32; MAX_BLOCKS]; 4];
    // Block k of a row has counter word 3 `first + k`, whatever the row.
    for row in ctrs[3][..rows_per_batch * span].chunks_exact_mut(span) {
        for (k, c3) in row.iter_mut().enumerate() {
            *c3 = (first + k) as u32;
        }
    }
    let mut pairs = [0u64; 2 * MAX_BLOCKS];
    let pairs = &mut pairs[..2 * blocks];
    let mut buf = [0u32; 4 * MAX_BLOCKS];
    let mut tmp = [MaybeUninit::<O>::uninit(); 4 * MAX_BLOCKS];
    let mut at = 0;
    for group in runs.chunks(rows_per_batch) {
        let mut b = 0;
        for &(ctr, _, _) in group {
            for _ in 0..span {
                ctrs[0][b] = ctr[0];
                ctrs[1][b] = ctr[1];
                ctrs[2][b] = ctr[2];
                b += 1;
            }
        }
        for (p, pairs) in pairs.chunks_exact_mut(2 * per).enumerate() {
            let c = [
                &ctrs[0][p * per..],
                &ctrs[1][p * per..],
                &ctrs[2][p * per..],
                &ctrs[3][p * per..],
            ];
            philox::batch_of::<V, R>(&splat, c, pairs);
        }
        let words = draw::words(pairs, &mut buf);
        draw32::values32::<F, K, H, O>(t, op, words, &mut tmp[..K * F::N]);
        // Rows of up to four elements are copied element by element: a call
        // of `memcpy` per row would cost more than the row's values.
        for row in 0..group.len() {
            let from = row * span * LANES_F32 + lane;
            match n {
                1 => out[at] = tmp[from],
                2 => copy_small::<2, O>(&mut out[at..], &tmp[from..]),
                3 => copy_small::<3, O>(&mut out[at..], &tmp[from..]),
                4 => copy_small::<4, O>(&mut out[at..], &tmp[from..]),
                _ => out[at..at + n].copy_from_slice(&tmp[from..from + n]),
            }
            at += n;
        }
    }
    assert_eq!(at, out.len(), "the rows fill the output exactly");
}

/// `dst[..N] = src[..N]` for a small constant `N` (a copy of known size is a
/// few moves, never a call).
#[cfg_attr(not(opt_level_zero), inline(always))]
fn copy_small<const N: usize, O: Copy>(dst: &mut [MaybeUninit<O>], src: &[MaybeUninit<O>]) {
    dst[..N].copy_from_slice(&src[..N]);
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
