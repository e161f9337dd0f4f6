//! Vectorised generation kernels, one per instruction set, every one giving
//! exactly the scalar reference's bits.
//!
//! A [`Path`] is a way of computing a run of elements along a row: the scalar
//! reference ([`crate::philox::philox4x32_10`] then [`crate::transform`], one
//! block at a time), or batches of consecutive blocks in vector registers:
//!
//! * `philox.rs` runs Philox on a batch, on the vectors of `lanes.rs` (one
//!   counter word per 64-bit lane, so `pmuludq` makes the 32 x 32 -> 64-bit
//!   products); the first rounds' work that does not depend on the block index
//!   is done once per row;
//! * `draw32.rs` turns the words into f32, f16 or bf16 values, written once
//!   against the vector trait of `vec32.rs` and advancing several vectors in
//!   lockstep so that the long latency chains (division, square root,
//!   polynomials) overlap; `draw.rs` does the same for f64 in plain Rust that the
//!   compiler vectorises.
//!
//! The same source is compiled for each instruction set with
//! `#[target_feature]` and chosen at run time. IEEE arithmetic is deterministic
//! and Rust never fuses or reorders floating-point operations, so the same
//! operations in the same order give the same bits on every path; the tests
//! compare every path this machine runs with the reference, and
//! [`Path::detect`] checks its choice against the reference once per process
//! before using it.
//!
//! ```
//! use reproducible::kernels::Path;
//! let path = Path::detect();
//! assert!(path.is_supported());
//! println!("generating with {path}");
//! ```
//!
//! Paths: `Scalar` (the reference), `Portable` (batches in general-purpose
//! registers, any target), and on x86-64 `Sse2`, `Avx2` and `Avx512` (F, BW,
//! DQ and VL), all compiled into every x86-64 build and chosen at run time.
//! Like every path, `Avx512` is used only after it reproduced the reference on
//! the sample of [`Path::detect`]'s self-check at first use. On aarch64, `Neon`
//! (part of every aarch64 CPU, so always supported) is compiled in and chosen,
//! again only after it passed the self-check. Other targets run `Portable`,
//! which the compiler vectorises only in part.
//!
//! Stack: the lockstep helpers are `#[inline(always)]` in optimised builds, so
//! that each path's entry is one function compiled for its instruction set. At
//! opt-level 0 (a user's `cargo test` with Cargo's default profile) the build
//! script sets `cfg(opt_level_zero)` and they are ordinary functions instead:
//! force-inlined at opt-level 0, every temporary keeps its own stack slot and
//! one AVX-512 entry frame grows to 1.3 MiB. Either way every entry runs within
//! [`STACK_BUDGET`].
#![allow(unsafe_code)]

mod draw;
mod draw32;
mod lanes;
mod philox;
#[cfg(test)]
mod tests;
mod vec32;

use std::fmt;
use std::mem::MaybeUninit;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::philox::philox4x32_10;
use crate::transform::{Prepared32, Prepared64, LANES_F32, LANES_F64};
use draw::{Scratch, MAX_BLOCKS};
use lanes::Lanes;
use philox::{Row, Splat};
use vec32::V32;

/// A code path for generating values; all give the same bits. New instruction
/// sets become new variants, hence `non_exhaustive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Path {
    /// One Philox block at a time through the reference code of
    /// [`crate::transform`]: what SPEC.md describes, line by line.
    Scalar,
    /// Batches of blocks in general-purpose registers, for any target.
    Portable,
    /// Batches in SSE2 registers (part of every x86-64).
    Sse2,
    /// Batches in AVX2 registers.
    Avx2,
    /// Batches in AVX-512 registers (needs F, BW, DQ and VL).
    Avx512,
    /// Batches in NEON registers (part of every aarch64).
    Neon,
}

impl Path {
    /// Every path, the reference first, then from the slowest to the fastest.
    /// (The x86-64 and aarch64 paths never run on the same machine.)
    pub const ALL: [Path; 6] = [
        Path::Scalar,
        Path::Portable,
        Path::Sse2,
        Path::Avx2,
        Path::Avx512,
        Path::Neon,
    ];

    /// The lower-case name (`"avx2"`).
    pub fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Portable => "portable",
            Path::Sse2 => "sse2",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
            Path::Neon => "neon",
        }
    }

    /// Whether this machine can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Path::Scalar | Path::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Path::Sse2 => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Path::Sse2 | Path::Avx2 | Path::Avx512 => false,
            // NEON is part of the aarch64 baseline.
            Path::Neon => cfg!(target_arch = "aarch64"),
        }
    }

    /// The paths this machine runs, in the order of [`Path::ALL`].
    pub fn supported() -> Vec<Path> {
        Path::ALL.into_iter().filter(|p| p.is_supported()).collect()
    }

    /// The fastest supported path that reproduces the reference on a fixed
    /// sample of every draw and element type (checked once per process; a path
    /// that differed, which would be a compiler or hardware fault, is skipped).
    /// [`crate::generate()`] uses it.
    pub fn detect() -> Path {
        static DETECTED: OnceLock<Path> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            Path::supported()
                .into_iter()
                .rev()
                .find(|&p| p == Path::Scalar || self_check(p))
                .unwrap_or(Path::Scalar)
        })
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The most stack any kernel entry needs, at every opt-level: generation runs
/// on threads with this much stack (measured at opt-level 0, where an AVX-512
/// truncated normal into f16 needs about 100 KiB; optimised builds about 20).
pub const STACK_BUDGET: usize = 128 << 10;

/// An f32-family draw with its per-tensor constants (SPEC.md 6.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op32 {
    /// `lo + w * u`.
    Uniform { lo: f32, w: f32 },
    /// `mean + std * z`, z by Box-Muller.
    Normal { mean: f32, std: f32 },
    /// `p = (P0, P1, P2, P3)`, `clamp = (A, B)`.
    TruncNormal { p: [f32; 4], clamp: [f32; 2] },
    /// Every element the same.
    Constant(f32),
}

/// An f64 draw with its per-tensor constants (SPEC.md 6.2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op64 {
    /// `lo + w * u`.
    Uniform { lo: f64, w: f64 },
    /// `mean + std * z`, z by Box-Muller.
    Normal { mean: f64, std: f64 },
    /// `p = (lo, hi - lo, std * sqrt 2, mean)`, `clamp = (a, b)`.
    TruncNormal { p: [f64; 4], clamp: [f64; 2] },
    /// Every element the same.
    Constant(f64),
}

/// The f32-family element types: f32, and f16 / bf16 rounded from it to
/// nearest, ties to even, bit for bit as the `half` crate rounds.
pub(crate) trait Out32: Copy + Send + Sync + 'static {
    /// The value `v` rounded to this type.
    fn from_f32(v: f32) -> Self;
    /// The bit pattern, to compare values exactly (`-0.0` and NaN included).
    fn bits(self) -> u32;
    /// Rounds the f32 lanes of `a`, then `b`, to this type and stores them in
    /// lane order into `out[..2 * F::N]`.
    fn store2<F: V32>(a: F, b: F, out: &mut [MaybeUninit<Self>]);
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
    fn store2<F: V32>(a: F, b: F, out: &mut [MaybeUninit<Self>]) {
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
    fn store2<F: V32>(a: F, b: F, out: &mut [MaybeUninit<Self>]) {
        let [a, b] = draw32::bf16_bits(vec32::Many([a, b])).0;
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
    fn store2<F: V32>(a: F, b: F, out: &mut [MaybeUninit<Self>]) {
        let [a, b] = draw32::f16_bits(vec32::Many([a, b])).0;
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
trait Put<T> {
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
fn run32_on<V: Lanes, F: V32, const R: usize, const P: usize, const K: usize, const H: usize, O: Out32>(
    op: &Op32,
    key: [u32; 2],
    ctr: [u32; 3],
    start: usize,
    mut out: &mut [MaybeUninit<O>],
) {
    const { assert!(R * P * V::LANES <= MAX_BLOCKS && 4 * R * P * V::LANES == K * F::N) };
    if let Op32::Constant(c) = *op {
        for d in out.iter_mut() {
            d.put(c);
        }
        return;
    }
    let blocks = R * V::LANES;
    let per = LANES_F32 * blocks * P;
    let splat = Row::new(key, ctr).splat::<V>();
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
            draw32::values32::<F, K, H, O>(op, words, &mut out[..per]);
            per
        } else {
            draw32::values32::<F, K, H, O>(op, words, tmp);
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
fn runs32_on<V: Lanes, F: V32, const R: usize, const P: usize, const K: usize, const H: usize, O: Out32>(
    op: &Op32,
    key: [u32; 2],
    runs: &[Run],
    out: &mut [MaybeUninit<O>],
) {
    const { assert!(R * P * V::LANES <= MAX_BLOCKS && 4 * R * P * V::LANES == K * F::N) };
    if let Op32::Constant(c) = *op {
        for d in out.iter_mut() {
            d.put(c);
        }
        return;
    }
    let blocks = R * P * V::LANES;
    let mut gather = Gather::<V> {
        splat: Row::new(key, [0; 3]).splat::<V>(),
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
                gather_flush::<V, F, R, P, K, H, O>(op, &mut gather, &mut tmp, &mut out[from..to]);
                from = to;
            }
        }
    }
    if gather.filled > 0 {
        gather_flush::<V, F, R, P, K, H, O>(op, &mut gather, &mut tmp, &mut out[from..to]);
    }
}

/// The blocks of a batch gathered from several runs.
struct Gather<V> {
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
fn gather_flush<V: Lanes, F: V32, const R: usize, const P: usize, const K: usize, const H: usize, O: Out32>(
    op: &Op32,
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
    draw32::values32::<F, K, H, O>(op, words, &mut tmp[..K * F::N]);
    let mut o = 0;
    for (b, &(from, to)) in g.lanes[..g.filled].iter().enumerate() {
        let (from, to) = (from as usize, to as usize);
        out[o..o + to - from].copy_from_slice(&tmp[4 * b + from..4 * b + to]);
        o += to - from;
    }
    assert_eq!(o, out.len(), "gathered lanes fill the output part exactly");
    g.filled = 0;
}

/// [`run32_on`] for f64.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn run64_on<V: Lanes, const R: usize>(
    op: &Op64,
    key: [u32; 2],
    ctr: [u32; 3],
    start: usize,
    mut out: &mut [MaybeUninit<f64>],
) {
    if let Op64::Constant(c) = *op {
        for d in out.iter_mut() {
            d.put(c);
        }
        return;
    }
    let blocks = R * V::LANES;
    let per = LANES_F64 * blocks;
    let splat = Row::new(key, ctr).splat::<V>();
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

/// The reference: one block at a time, [`Prepared32::block`] on [`philox4x32_10`].
fn run32_scalar<O: Out32>(p: &Prepared32, key: [u32; 2], ctr: [u32; 3], start: usize, out: &mut [MaybeUninit<O>]) {
    let (mut i, mut out) = (start, out);
    while !out.is_empty() {
        let (blk, lane) = (i / LANES_F32, i % LANES_F32);
        let v = p.block(philox4x32_10([ctr[0], ctr[1], ctr[2], blk as u32], key));
        let take = (LANES_F32 - lane).min(out.len());
        for (d, &v) in out[..take].iter_mut().zip(&v[lane..]) {
            d.put(v);
        }
        out = &mut std::mem::take(&mut out)[take..];
        i += take;
    }
}

/// The f64 reference.
fn run64_scalar(p: &Prepared64, key: [u32; 2], ctr: [u32; 3], start: usize, out: &mut [MaybeUninit<f64>]) {
    let (mut i, mut out) = (start, out);
    while !out.is_empty() {
        let (blk, lane) = (i / LANES_F64, i % LANES_F64);
        let v = p.block(philox4x32_10([ctr[0], ctr[1], ctr[2], blk as u32], key));
        let take = (LANES_F64 - lane).min(out.len());
        for (d, &v) in out[..take].iter_mut().zip(&v[lane..]) {
            d.put(v);
        }
        out = &mut std::mem::take(&mut out)[take..];
        i += take;
    }
}

// Batch sizes: `R` vectors in flight, as many as the registers hold (16 on
// SSE2 / AVX2, 32 on AVX-512) with the four counter words of each.
const R_PORTABLE: usize = 4;
#[cfg(target_arch = "x86_64")]
const R_SSE2: usize = 3;
#[cfg(target_arch = "x86_64")]
const R_AVX2: usize = 3;
#[cfg(target_arch = "x86_64")]
const R_AVX512: usize = 4;
// Four blocks per `lanes::Neon` (two registers of the 32): 12 blocks per batch,
// as SSE2; not tuned on hardware.
#[cfg(target_arch = "aarch64")]
const R_NEON: usize = 3;

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The same runs compiled for AVX2 and AVX-512.
    //!
    //! # Safety
    //!
    //! Every function here may only be called on a CPU with the features its
    //! `#[target_feature]` names (`Path::is_supported`).

    use std::mem::MaybeUninit;

    use super::lanes::Avx2;
    use super::vec32::Avx2F;
    use super::{run32_on, run64_on, runs32_on, Op32, Op64, Out32, Run, R_AVX2};

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run32_avx2<O: Out32>(
        op: &Op32,
        key: [u32; 2],
        ctr: [u32; 3],
        start: usize,
        out: &mut [MaybeUninit<O>],
    ) {
        run32_on::<Avx2, Avx2F, R_AVX2, 2, 12, 6, O>(op, key, ctr, start, out)
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn runs32_avx2<O: Out32>(op: &Op32, key: [u32; 2], runs: &[Run], out: &mut [MaybeUninit<O>]) {
        runs32_on::<Avx2, Avx2F, R_AVX2, 2, 12, 6, O>(op, key, runs, out)
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run64_avx2(
        op: &Op64,
        key: [u32; 2],
        ctr: [u32; 3],
        start: usize,
        out: &mut [MaybeUninit<f64>],
    ) {
        run64_on::<Avx2, R_AVX2>(op, key, ctr, start, out)
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[cfg(test)]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn lanewise_avx2(f: super::Lanewise, xs: &[u32], out: &mut [u32]) {
        super::lanewise_on::<Avx2F>(f, xs, out)
    }

    /// AVX-512 (F, BW, DQ and VL; intrinsics stable since Rust 1.89).
    pub(super) mod avx512 {
        use std::mem::MaybeUninit;

        use super::super::lanes::Avx512;
        use super::super::vec32::Avx512F;
        use super::super::{run32_on, run64_on, runs32_on, Op32, Op64, Out32, Run, R_AVX512};

        /// # Safety
        /// The CPU must have AVX-512 F, BW, DQ and VL.
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
        pub(in super::super) unsafe fn run32<O: Out32>(
            op: &Op32,
            key: [u32; 2],
            ctr: [u32; 3],
            start: usize,
            out: &mut [MaybeUninit<O>],
        ) {
            run32_on::<Avx512, Avx512F, R_AVX512, 1, 8, 4, O>(op, key, ctr, start, out)
        }

        /// # Safety
        /// The CPU must have AVX-512 F, BW, DQ and VL.
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
        pub(in super::super) unsafe fn runs32<O: Out32>(
            op: &Op32,
            key: [u32; 2],
            runs: &[Run],
            out: &mut [MaybeUninit<O>],
        ) {
            runs32_on::<Avx512, Avx512F, R_AVX512, 1, 8, 4, O>(op, key, runs, out)
        }

        /// # Safety
        /// The CPU must have AVX-512 F, BW, DQ and VL.
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
        pub(in super::super) unsafe fn run64(
            op: &Op64,
            key: [u32; 2],
            ctr: [u32; 3],
            start: usize,
            out: &mut [MaybeUninit<f64>],
        ) {
            run64_on::<Avx512, R_AVX512>(op, key, ctr, start, out)
        }

        /// # Safety
        /// The CPU must have AVX-512 F, BW, DQ and VL.
        #[cfg(test)]
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
        pub(in super::super) unsafe fn lanewise(f: super::super::Lanewise, xs: &[u32], out: &mut [u32]) {
            super::super::lanewise_on::<Avx512F>(f, xs, out)
        }
    }
}

/// An elementary function of `draw32`, for the tests.
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
enum Lanewise {
    Ln,
    Sin,
    Cos,
    Bf16,
    F16,
}

/// `f` of every lane of `xs` (a multiple of 16 long) into `out`, compiled as on `path`.
#[cfg(test)]
#[cfg_attr(not(opt_level_zero), inline(always))]
fn lanewise_on<F: V32>(f: Lanewise, xs: &[u32], out: &mut [u32]) {
    for (x, o) in xs.chunks_exact(F::N).zip(out.chunks_exact_mut(F::N)) {
        let v = vec32::Many::<F, 1>::load(x);
        let r = match f {
            Lanewise::Ln => draw32::ln32(v),
            Lanewise::Sin => draw32::sincos32(v).0,
            Lanewise::Cos => draw32::sincos32(v).1,
            Lanewise::Bf16 => draw32::bf16_bits(v),
            Lanewise::F16 => draw32::f16_bits(v),
        };
        r.0[0].store_u32(o);
    }
}

#[cfg(test)]
fn lanewise(path: Path, f: Lanewise, xs: &[u32], out: &mut [u32]) {
    assert!(path.is_supported() && xs.len().is_multiple_of(16) && out.len() == xs.len());
    match path {
        Path::Scalar | Path::Portable => lanewise_on::<u32>(f, xs, out),
        #[cfg(target_arch = "x86_64")]
        Path::Sse2 => lanewise_on::<vec32::Sse2F>(f, xs, out),
        // SAFETY: the assertion above checked the CPU.
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => unsafe { x86::lanewise_avx2(f, xs, out) },
        // SAFETY: the assertion above checked the CPU.
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => unsafe { x86::avx512::lanewise(f, xs, out) },
        #[cfg(target_arch = "aarch64")]
        Path::Neon => lanewise_on::<vec32::NeonF>(f, xs, out),
        _ => unreachable!("checked by the assertion"),
    }
}

/// Writes every element of `out`: elements `start .. start + out.len()` of the
/// f32-family row `ctr` under `key`, on `path`.
fn run32<O: Out32>(path: Path, p: &Prepared32, key: [u32; 2], ctr: [u32; 3], start: usize, out: &mut [MaybeUninit<O>]) {
    assert!(
        path.is_supported(),
        "kernel path {path} is not supported on this machine"
    );
    let op = p.op();
    match path {
        Path::Scalar => run32_scalar(p, key, ctr, start, out),
        Path::Portable => run32_on::<u64, u32, R_PORTABLE, 1, 16, 8, O>(&op, key, ctr, start, out),
        #[cfg(target_arch = "x86_64")]
        Path::Sse2 => run32_on::<lanes::Sse2, vec32::Sse2F, R_SSE2, 2, 12, 6, O>(&op, key, ctr, start, out),
        // SAFETY: the assertion above checked that the CPU has AVX2.
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => unsafe { x86::run32_avx2(&op, key, ctr, start, out) },
        // SAFETY: the assertion above checked that the CPU has AVX-512 F, BW, DQ and VL.
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => unsafe { x86::avx512::run32(&op, key, ctr, start, out) },
        #[cfg(target_arch = "aarch64")]
        Path::Neon => run32_on::<lanes::Neon, vec32::NeonF, R_NEON, 1, 12, 6, O>(&op, key, ctr, start, out),
        _ => unreachable!("checked by the assertion"),
    }
}

/// Writes every element of `out`: the `runs` of f32-family rows under `key`
/// one after the other, on `path`.
fn runs32<O: Out32>(path: Path, p: &Prepared32, key: [u32; 2], runs: &[Run], out: &mut [MaybeUninit<O>]) {
    assert!(
        path.is_supported(),
        "kernel path {path} is not supported on this machine"
    );
    let op = p.op();
    match path {
        Path::Scalar => {
            let mut at = 0;
            for &(ctr, start, n) in runs {
                run32_scalar(p, key, ctr, start, &mut out[at..at + n]);
                at += n;
            }
        }
        Path::Portable => runs32_on::<u64, u32, R_PORTABLE, 1, 16, 8, O>(&op, key, runs, out),
        #[cfg(target_arch = "x86_64")]
        Path::Sse2 => runs32_on::<lanes::Sse2, vec32::Sse2F, R_SSE2, 2, 12, 6, O>(&op, key, runs, out),
        // SAFETY: the assertion above checked that the CPU has AVX2.
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => unsafe { x86::runs32_avx2(&op, key, runs, out) },
        // SAFETY: the assertion above checked that the CPU has AVX-512 F, BW, DQ and VL.
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => unsafe { x86::avx512::runs32(&op, key, runs, out) },
        #[cfg(target_arch = "aarch64")]
        Path::Neon => runs32_on::<lanes::Neon, vec32::NeonF, R_NEON, 1, 12, 6, O>(&op, key, runs, out),
        _ => unreachable!("checked by the assertion"),
    }
}

/// [`run32`] for f64.
fn run64(path: Path, p: &Prepared64, key: [u32; 2], ctr: [u32; 3], start: usize, out: &mut [MaybeUninit<f64>]) {
    assert!(
        path.is_supported(),
        "kernel path {path} is not supported on this machine"
    );
    let op = p.op();
    match path {
        Path::Scalar => run64_scalar(p, key, ctr, start, out),
        Path::Portable => run64_on::<u64, R_PORTABLE>(&op, key, ctr, start, out),
        #[cfg(target_arch = "x86_64")]
        Path::Sse2 => run64_on::<lanes::Sse2, R_SSE2>(&op, key, ctr, start, out),
        // SAFETY: the assertion above checked that the CPU has AVX2.
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => unsafe { x86::run64_avx2(&op, key, ctr, start, out) },
        // SAFETY: the assertion above checked that the CPU has AVX-512 F, BW, DQ and VL.
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => unsafe { x86::avx512::run64(&op, key, ctr, start, out) },
        #[cfg(target_arch = "aarch64")]
        Path::Neon => run64_on::<lanes::Neon, R_NEON>(&op, key, ctr, start, out),
        _ => unreachable!("checked by the assertion"),
    }
}

// ---------------------------------------------------------------------------
// Output vectors, written in place.

/// The not yet initialised part of an output vector that one task fills, front
/// to back. Only this module's code writes through it, and [`collect`] checks
/// that every slot was written before the vector's length covers it.
pub(crate) struct Sink<'a, T> {
    buf: &'a mut [MaybeUninit<T>],
    filled: usize,
}

impl<T> fmt::Debug for Sink<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink")
            .field("len", &self.buf.len())
            .field("filled", &self.filled)
            .finish()
    }
}

impl<T> Sink<'_, T> {
    /// How many values remain to be appended.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.filled
    }

    /// The next `n` slots (panics if fewer remain), counted as filled.
    fn take(&mut self, n: usize) -> &mut [MaybeUninit<T>] {
        let from = self.filled;
        self.filled += n;
        &mut self.buf[from..from + n]
    }

    /// Appends `n` values `f(0), f(1), ...`.
    pub(crate) fn extend(&mut self, n: usize, mut f: impl FnMut(usize) -> T) {
        for (k, d) in self.take(n).iter_mut().enumerate() {
            d.write(f(k));
        }
    }
}

impl<O: Out32> Sink<'_, O> {
    /// Appends elements `start .. start + n` of the f32-family row `ctr` under
    /// `key`, computed on `path`.
    pub(crate) fn run32(&mut self, path: Path, p: &Prepared32, key: [u32; 2], ctr: [u32; 3], start: usize, n: usize) {
        run32(path, p, key, ctr, start, self.take(n));
    }

    /// Appends the `runs` of f32-family rows under `key` one after the other,
    /// computed on `path` in batches gathered across runs: for short rows.
    pub(crate) fn runs32(&mut self, path: Path, p: &Prepared32, key: [u32; 2], runs: &[Run]) {
        let n = runs.iter().map(|r| r.2).sum();
        runs32(path, p, key, runs, self.take(n));
    }
}

impl Sink<'_, f64> {
    /// Appends elements `start .. start + n` of the f64 row `ctr` under `key`,
    /// computed on `path`.
    pub(crate) fn run64(&mut self, path: Path, p: &Prepared64, key: [u32; 2], ctr: [u32; 3], start: usize, n: usize) {
        run64(path, p, key, ctr, start, self.take(n));
    }
}

/// Runs `fill(first, sink)` on each `chunk` of `out` (in parallel when there are
/// several), checking that every task filled its part.
fn fill_chunks<T: Send>(out: &mut [MaybeUninit<T>], chunk: usize, fill: impl Fn(usize, &mut Sink<'_, T>) + Sync) {
    let chunk = chunk.max(1);
    let task = |(k, buf): (usize, &mut [MaybeUninit<T>])| {
        let want = buf.len();
        let mut sink = Sink { buf, filled: 0 };
        fill(k * chunk, &mut sink);
        assert_eq!(sink.filled, want, "a generation task left its output part unfilled");
    };
    if out.len() <= chunk {
        task((0, out));
    } else {
        out.par_chunks_mut(chunk).enumerate().for_each(task);
    }
}

/// Overwrites every element of `out` in parallel tasks of `chunk` elements:
/// `fill(first, sink)` appends elements `first .. first + sink_len` to `sink`.
///
/// # Panics
///
/// If a task does not fill its part exactly (`out` then holds a mix of old
/// and new values).
pub(crate) fn fill_slice<T: Copy + Send>(out: &mut [T], chunk: usize, fill: impl Fn(usize, &mut Sink<'_, T>) + Sync) {
    // SAFETY: `MaybeUninit<T>` has the layout of `T`. Through the cast slice only
    // initialised values are stored (`Sink` writes `MaybeUninit::write(value)`
    // and nothing else), so `out` holds valid `T`s whatever happens; `T: Copy`
    // means overwriting needs no drop.
    let out = unsafe { &mut *(std::ptr::from_mut(out) as *mut [MaybeUninit<T>]) };
    fill_chunks(out, chunk, fill);
}

/// A vector of `len` elements filled in parallel tasks of `chunk` elements:
/// `fill(first, sink)` appends elements `first .. first + sink_len` to `sink`.
/// The memory is written once, never zeroed first.
///
/// # Panics
///
/// If a task does not fill its part exactly.
pub(crate) fn collect<T: Send>(len: usize, chunk: usize, fill: impl Fn(usize, &mut Sink<'_, T>) + Sync) -> Vec<T> {
    let mut out = Vec::with_capacity(len);
    fill_chunks(&mut out.spare_capacity_mut()[..len], chunk, fill);
    // SAFETY: the first `len` slots were all written: each task wrote its part
    // through `Sink::take`, which hands out every slot once, front to back, and
    // `fill_chunks` checked that it reached the end (a panic leaves `out`
    // empty); the kernels write every slot of the slice they are given.
    unsafe { out.set_len(len) };
    out
}

// ---------------------------------------------------------------------------
// The check of `Path::detect`.

/// Whether `path` gives the reference's bits on a sample of every draw (both
/// branches of the inverse error functions, partial batches at both ends) and
/// of the f16 / bf16 rounding (subnormals, overflow, ties).
fn self_check(path: Path) -> bool {
    use crate::transform::Draw;

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
    // Rounding to f16 / bf16: overflow, the largest finite, a tie, subnormals, underflow.
    for value in [3.4e38, 65520.0, 65504.0, 1.003_906_25, 1e-5, 5.96e-8, 1e-9, -0.0] {
        draws.push(Draw::Constant { value });
    }
    let key = [0x0123_4567, 0x89ab_cdef];
    let ctr = [1, 2, 3];
    // Starts mid-block, ends mid-batch, spans several whole batches.
    let (start, n) = (3, 4 * 4 * MAX_BLOCKS + 5);
    fn same32<O: Out32>(path: Path, p: &Prepared32, key: [u32; 2], ctr: [u32; 3], start: usize, n: usize) -> bool {
        let get = |path| collect::<O>(n, n, |_, s| s.run32(path, p, key, ctr, start, n));
        get(Path::Scalar)
            .iter()
            .map(|v| v.bits())
            .eq(get(path).iter().map(|v| v.bits()))
    }
    draws.iter().all(|d| {
        let p32 = d.prepare_f32().expect("the check's draws are valid");
        let p64 = d.prepare_f64().expect("the check's draws are valid");
        let get64 = |path| collect::<f64>(n, n, |_, s| s.run64(path, &p64, key, ctr, start, n));
        same32::<f32>(path, &p32, key, ctr, start, n)
            && same32::<half::bf16>(path, &p32, key, ctr, start, n)
            && same32::<half::f16>(path, &p32, key, ctr, start, n)
            && get64(Path::Scalar)
                .iter()
                .map(|v| v.to_bits())
                .eq(get64(path).iter().map(|v| v.to_bits()))
    })
}
