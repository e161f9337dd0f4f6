//! Vectors of Philox counter words: one 32-bit word per 64-bit lane.
//!
//! Philox multiplies 32-bit words into 64-bit products, which is exactly what
//! `pmuludq` does to the low halves of 64-bit lanes; keeping each word in the low
//! half of its own lane (the high half is don't-care) makes a round two
//! multiplies, two shifts and four XORs per vector, with no repacking.
//! (NEON has no such multiply on 64-bit lanes: `lanes::Neon` gathers the low
//! words with `uzp1` and multiplies them with `umull` / `umull2`.)
//!
//! Each instruction set's file implements [`Lanes`]; a vector is made only
//! from its instruction set's token (`isa.rs`), so its methods are safe.

/// A vector of `LANES` counter words, each in the low 32 bits of a 64-bit lane.
pub(super) trait Lanes: Copy {
    /// The token of the instruction set.
    type Token: Copy;
    /// Blocks per vector.
    const LANES: usize;
    /// Every lane `x`.
    fn splat(t: Self::Token, x: u32) -> Self;
    /// Blocks `base .. base + LANES` (wrapping), in the lane order that
    /// [`Lanes::store_pairs`] puts back in sequence.
    fn blocks(t: Self::Token, base: u32) -> Self;
    /// Words `w[..LANES]`, in the lane order of [`Lanes::blocks`] (lane of block
    /// `base + i` holds `w[i]`).
    fn gather(t: Self::Token, w: &[u32]) -> Self;
    /// The full 64-bit products of the low 32-bit halves.
    fn mul(self, m: Self) -> Self;
    /// The high 32-bit halves, moved to the low halves.
    fn hi(self) -> Self;
    /// Bitwise XOR.
    fn xor(self, b: Self) -> Self;
    /// `self ^ b ^ c`, with `b ^ c` first: in a round `self` is the product's
    /// high half, the last value to arrive.
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn xor3(self, b: Self, c: Self) -> Self {
        self.xor(b.xor(c))
    }
    /// The packed output pair `lo(x) | lo(p) << 32`, where `x = hi(p) ^ lo(c) ^ k`:
    /// words `(hi(p) ^ c ^ k, lo(p))`, the last round's two outputs from one product.
    fn last(p: Self, c: Self, k: Self) -> Self;
    /// Stores the `(a, b)` pairs of blocks `base .. base + LANES` (lanes as in
    /// [`Lanes::blocks`]) in block order into `out[..2 * LANES]`.
    fn store_pairs(a: Self, b: Self, out: &mut [u64]);
}

/// The 32-bit words of packed pairs in element order: on a little-endian target,
/// the low word of each `u64` comes first in memory.
#[cfg(target_endian = "little")]
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn words(pairs: &[u64]) -> &[u32] {
    // SAFETY: `u32` has no invalid bit patterns, its alignment divides `u64`'s, and
    // the new slice covers exactly the bytes of `pairs`, borrowed for as long.
    unsafe { std::slice::from_raw_parts(pairs.as_ptr().cast::<u32>(), 2 * pairs.len()) }
}
