//! Vectors of Philox counter words: one 32-bit word per 64-bit lane.
//!
//! Philox multiplies 32-bit words into 64-bit products, which is exactly what
//! `pmuludq` does to the low halves of 64-bit lanes; keeping each word in the low
//! half of its own lane (the high half is don't-care) makes a round two
//! multiplies, two shifts and four XORs per vector, with no repacking.
//! (NEON has no such multiply on 64-bit lanes: `lanes::Neon` gathers the low
//! words with `uzp1` and multiplies them with `umull` / `umull2`.)
//!
//! Every method is `#[inline(always)]` in optimised builds and only ever runs inside a function
//! compiled for the vector's instruction set (`mod.rs`), which is only called
//! once the CPU was checked for it.
#![allow(unsafe_code)]

/// A vector of `LANES` counter words, each in the low 32 bits of a 64-bit lane.
pub(super) trait Lanes: Copy {
    /// Blocks per vector.
    const LANES: usize;
    /// Every lane `x`.
    fn splat(x: u32) -> Self;
    /// Blocks `base .. base + LANES` (wrapping), in the lane order that
    /// [`Lanes::store_pairs`] puts back in sequence.
    fn blocks(base: u32) -> Self;
    /// Words `w[..LANES]`, in the lane order of [`Lanes::blocks`] (lane of block
    /// `base + i` holds `w[i]`).
    fn gather(w: &[u32]) -> Self;
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

/// One block at a time in general-purpose registers: the portable path.
impl Lanes for u64 {
    const LANES: usize = 1;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(x: u32) -> Self {
        x as u64
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn blocks(base: u32) -> Self {
        base as u64
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn gather(w: &[u32]) -> Self {
        w[0] as u64
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn mul(self, m: Self) -> Self {
        (self & 0xffff_ffff) * (m & 0xffff_ffff)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn hi(self) -> Self {
        self >> 32
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn xor(self, b: Self) -> Self {
        self ^ b
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn last(p: Self, c: Self, k: Self) -> Self {
        p.rotate_left(32) ^ ((c ^ k) & 0xffff_ffff)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_pairs(a: Self, b: Self, out: &mut [u64]) {
        out[..2].copy_from_slice(&[a, b]);
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) use x86::Avx512;
#[cfg(target_arch = "x86_64")]
pub(super) use x86::{Avx2, Sse2};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::Lanes;

    /// Two blocks per `__m128i` (SSE2, part of every x86-64).
    #[derive(Clone, Copy)]
    pub(in super::super) struct Sse2(__m128i);

    /// Four blocks per `__m256i`.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Avx2(__m256i);

    /// Eight blocks per `__m512i`.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Avx512(__m512i);

    // SAFETY (all `unsafe` blocks below): SSE2 is part of the x86-64 baseline; the
    // `Avx2` and `Avx512` methods are only called from functions compiled with
    // `#[target_feature(enable = "avx2")]` / AVX-512 (`mod.rs`),
    // which in turn are only called after `is_x86_feature_detected!` confirmed
    // the feature. Stores write exactly the bytes of a slice whose length the
    // preceding line checks.

    impl Lanes for Sse2 {
        const LANES: usize = 2;
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn splat(x: u32) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm_set1_epi64x(x as i64) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn blocks(base: u32) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm_set_epi64x(base.wrapping_add(1) as i64, base as i64) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn gather(w: &[u32]) -> Self {
            let w = &w[..2];
            // SAFETY: see above.
            Self(unsafe { _mm_set_epi64x(w[1] as i64, w[0] as i64) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn mul(self, m: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm_mul_epu32(self.0, m.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn hi(self) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm_srli_epi64::<32>(self.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn xor(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm_xor_si128(self.0, b.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn last(p: Self, c: Self, k: Self) -> Self {
            // SAFETY: see above.
            unsafe {
                let low = _mm_and_si128(_mm_xor_si128(c.0, k.0), _mm_set1_epi64x(0xffff_ffff));
                Self(_mm_xor_si128(_mm_shuffle_epi32::<0b10_11_00_01>(p.0), low))
            }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn store_pairs(a: Self, b: Self, out: &mut [u64]) {
            let out = &mut out[..4];
            // SAFETY: see above; `out` holds 4 u64 = 32 bytes.
            unsafe {
                let lo = _mm_unpacklo_epi64(a.0, b.0);
                let hi = _mm_unpackhi_epi64(a.0, b.0);
                _mm_storeu_si128(out.as_mut_ptr().cast(), lo);
                _mm_storeu_si128(out.as_mut_ptr().add(2).cast(), hi);
            }
        }
    }

    impl Lanes for Avx2 {
        const LANES: usize = 4;
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn splat(x: u32) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm256_set1_epi64x(x as i64) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn blocks(base: u32) -> Self {
            let b = |i: u32| base.wrapping_add(i) as i64;
            // Blocks 0, 2 | 1, 3: unpacking the 128-bit halves then yields 0, 1 | 2, 3.
            // SAFETY: see above.
            Self(unsafe { _mm256_set_epi64x(b(3), b(1), b(2), b(0)) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn gather(w: &[u32]) -> Self {
            let w = &w[..4];
            // SAFETY: see above.
            Self(unsafe { _mm256_set_epi64x(w[3] as i64, w[1] as i64, w[2] as i64, w[0] as i64) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn mul(self, m: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm256_mul_epu32(self.0, m.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn hi(self) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm256_srli_epi64::<32>(self.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn xor(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm256_xor_si256(self.0, b.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn last(p: Self, c: Self, k: Self) -> Self {
            // SAFETY: see above.
            unsafe {
                let low = _mm256_and_si256(_mm256_xor_si256(c.0, k.0), _mm256_set1_epi64x(0xffff_ffff));
                Self(_mm256_xor_si256(_mm256_shuffle_epi32::<0b10_11_00_01>(p.0), low))
            }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn store_pairs(a: Self, b: Self, out: &mut [u64]) {
            let out = &mut out[..8];
            // SAFETY: see above; `out` holds 8 u64 = 64 bytes.
            unsafe {
                // Lanes hold blocks 0, 2, 1, 3: the low halves are blocks 0 | 1.
                _mm256_storeu_si256(out.as_mut_ptr().cast(), _mm256_unpacklo_epi64(a.0, b.0));
                _mm256_storeu_si256(out.as_mut_ptr().add(4).cast(), _mm256_unpackhi_epi64(a.0, b.0));
            }
        }
    }

    impl Lanes for Avx512 {
        const LANES: usize = 8;
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn splat(x: u32) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm512_set1_epi64(x as i64) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn blocks(base: u32) -> Self {
            let b = |i: u32| base.wrapping_add(i) as i64;
            // Blocks 0, 4 | 1, 5 | 2, 6 | 3, 7: unpacking yields 0 | 1 | 2 | 3 and 4 | 5 | 6 | 7.
            // SAFETY: see above.
            Self(unsafe { _mm512_set_epi64(b(7), b(3), b(6), b(2), b(5), b(1), b(4), b(0)) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn gather(w: &[u32]) -> Self {
            let w = &w[..8];
            let v = |i: usize| w[i] as i64;
            // SAFETY: see above.
            Self(unsafe { _mm512_set_epi64(v(7), v(3), v(6), v(2), v(5), v(1), v(4), v(0)) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn mul(self, m: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm512_mul_epu32(self.0, m.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn hi(self) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm512_srli_epi64::<32>(self.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn xor(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm512_xor_si512(self.0, b.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn xor3(self, b: Self, c: Self) -> Self {
            // 0x96 is the truth table of a ^ b ^ c.
            // SAFETY: see above.
            Self(unsafe { _mm512_ternarylogic_epi64::<0x96>(self.0, b.0, c.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn last(p: Self, c: Self, k: Self) -> Self {
            // SAFETY: see above.
            unsafe {
                let low = _mm512_and_si512(_mm512_xor_si512(c.0, k.0), _mm512_set1_epi64(0xffff_ffff));
                Self(_mm512_xor_si512(_mm512_ror_epi64::<32>(p.0), low))
            }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn store_pairs(a: Self, b: Self, out: &mut [u64]) {
            let out = &mut out[..16];
            // SAFETY: see above; `out` holds 16 u64 = 128 bytes.
            unsafe {
                _mm512_storeu_si512(out.as_mut_ptr().cast(), _mm512_unpacklo_epi64(a.0, b.0));
                _mm512_storeu_si512(out.as_mut_ptr().add(8).cast(), _mm512_unpackhi_epi64(a.0, b.0));
            }
        }
    }
}

#[cfg(target_arch = "aarch64")]
pub(super) use aarch64::Neon;

#[cfg(target_arch = "aarch64")]
mod aarch64 {
    use std::arch::aarch64::*;

    use super::Lanes;

    /// Four blocks in two `uint64x2_t` (NEON, part of every aarch64): blocks 0, 1
    /// then 2, 3. A product gathers the four low words into one `uint32x4_t`
    /// (`uzp1`) and multiplies them with `umull` / `umull2`.
    #[derive(Clone, Copy)]
    pub(in super::super) struct Neon(uint64x2_t, uint64x2_t);

    // SAFETY (all `unsafe` blocks below): NEON is part of the aarch64 baseline,
    // so every aarch64 CPU runs these instructions. Loads and stores touch
    // exactly the elements of a slice whose length the preceding line checks.

    impl Neon {
        /// The low 32-bit halves of the four lanes, in block order.
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn low_words(self) -> uint32x4_t {
            // SAFETY: see above.
            unsafe { vuzp1q_u32(vreinterpretq_u32_u64(self.0), vreinterpretq_u32_u64(self.1)) }
        }

        /// The words `w` (in block order), each widened to its 64-bit lane.
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn widen(w: uint32x4_t) -> Self {
            // SAFETY: see above.
            unsafe { Self(vmovl_u32(vget_low_u32(w)), vmovl_high_u32(w)) }
        }
    }

    /// Each 64-bit lane rotated by 32 bits: its halves exchanged.
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn rot32(v: uint64x2_t) -> uint64x2_t {
        // SAFETY: see above.
        unsafe { vreinterpretq_u64_u32(vrev64q_u32(vreinterpretq_u32_u64(v))) }
    }

    impl Lanes for Neon {
        const LANES: usize = 4;
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn splat(x: u32) -> Self {
            // SAFETY: see above.
            let v = unsafe { vdupq_n_u64(x as u64) };
            Self(v, v)
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn blocks(base: u32) -> Self {
            let b = [base, base.wrapping_add(1), base.wrapping_add(2), base.wrapping_add(3)];
            // SAFETY: see above; `b` holds 4 words.
            Self::widen(unsafe { vld1q_u32(b.as_ptr()) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn gather(w: &[u32]) -> Self {
            let w = &w[..4];
            // SAFETY: see above.
            Self::widen(unsafe { vld1q_u32(w.as_ptr()) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn mul(self, m: Self) -> Self {
            let (a, m) = (self.low_words(), m.low_words());
            // SAFETY: see above.
            unsafe { Self(vmull_u32(vget_low_u32(a), vget_low_u32(m)), vmull_high_u32(a, m)) }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn hi(self) -> Self {
            // SAFETY: see above.
            unsafe { Self(vshrq_n_u64::<32>(self.0), vshrq_n_u64::<32>(self.1)) }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn xor(self, b: Self) -> Self {
            // SAFETY: see above.
            unsafe { Self(veorq_u64(self.0, b.0), veorq_u64(self.1, b.1)) }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn last(p: Self, c: Self, k: Self) -> Self {
            // SAFETY: see above.
            unsafe {
                let mask = vdupq_n_u64(0xffff_ffff);
                Self(
                    veorq_u64(rot32(p.0), vandq_u64(veorq_u64(c.0, k.0), mask)),
                    veorq_u64(rot32(p.1), vandq_u64(veorq_u64(c.1, k.1), mask)),
                )
            }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn store_pairs(a: Self, b: Self, out: &mut [u64]) {
            let out = &mut out[..8];
            // SAFETY: see above; `out` holds 8 u64.
            unsafe {
                vst1q_u64(out.as_mut_ptr(), vzip1q_u64(a.0, b.0));
                vst1q_u64(out.as_mut_ptr().add(2), vzip2q_u64(a.0, b.0));
                vst1q_u64(out.as_mut_ptr().add(4), vzip1q_u64(a.1, b.1));
                vst1q_u64(out.as_mut_ptr().add(6), vzip2q_u64(a.1, b.1));
            }
        }
    }
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
