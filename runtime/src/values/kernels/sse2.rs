//! SSE2, part of every x86-64: Philox on two blocks per register, f32 transforms
//! on four lanes.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::isa::{vector_entries, Isa};
use super::lanes::Lanes;
use super::vec32::V32;

/// Proof that this CPU runs SSE2 (every x86-64 does): made only by [`Isa::detect`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sse2(());

impl Isa for Sse2 {
    fn detect() -> Option<Self> {
        (true).then_some(Sse2(()))
    }
    // 3 x 2 blocks twice per batch: 12 registers of counters, as many as hold.
    vector_entries!(Sse2, Sse2Lanes, Sse2F, 3, 2, 12, 6, "sse2");
}

/// Two blocks per `__m128i`.
#[derive(Clone, Copy)]
pub(super) struct Sse2Lanes(__m128i);

/// Four f32 lanes.
#[derive(Clone, Copy)]
pub(super) struct Sse2F(__m128i);

// SAFETY (every `unsafe` block below): a value of `Sse2Lanes` or `Sse2F` is
// made only from a `Sse2` token or from other such values, so the CPU runs
// the instructions (SSE2 is part of the x86-64 baseline anyway). Loads and stores go through slices whose
// length the preceding line checks.

impl Lanes for Sse2Lanes {
    type Token = Sse2;
    const LANES: usize = 2;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(_: Sse2, x: u32) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_set1_epi64x(x as i64) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn blocks(_: Sse2, base: u32) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_set_epi64x(base.wrapping_add(1) as i64, base as i64) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn gather(_: Sse2, w: &[u32]) -> Self {
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

impl V32 for Sse2F {
    type Token = Sse2;
    const N: usize = 4;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(_: Sse2, x: u32) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_set1_epi32(x as i32) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn load(_: Sse2, src: &[u32]) -> Self {
        let src = &src[..4];
        // SAFETY: see above.
        Self(unsafe { _mm_loadu_si128(src.as_ptr().cast()) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_f32(self, dst: &mut [MaybeUninit<f32>]) {
        let dst = &mut dst[..4];
        // SAFETY: see above.
        unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), self.0) }
    }
    #[cfg(test)]
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_u32(self, dst: &mut [u32]) {
        let dst = &mut dst[..4];
        // SAFETY: see above.
        unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), self.0) }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_u16(a: Self, b: Self, dst: &mut [MaybeUninit<u16>]) {
        let dst = &mut dst[..8];
        // SSE2 has no unsigned 32 -> 16 pack: bias to signed range and back.
        // SAFETY: see above.
        unsafe {
            let bias = _mm_set1_epi32(0x8000);
            let a = _mm_sub_epi32(a.0, bias);
            let b = _mm_sub_epi32(b.0, bias);
            let packed = _mm_add_epi16(_mm_packs_epi32(a, b), _mm_set1_epi16(-0x8000));
            _mm_storeu_si128(dst.as_mut_ptr().cast(), packed);
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn add(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_castps_si128(_mm_add_ps(_mm_castsi128_ps(self.0), _mm_castsi128_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn sub(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_castps_si128(_mm_sub_ps(_mm_castsi128_ps(self.0), _mm_castsi128_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn mul(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_castps_si128(_mm_mul_ps(_mm_castsi128_ps(self.0), _mm_castsi128_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn div(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_castps_si128(_mm_div_ps(_mm_castsi128_ps(self.0), _mm_castsi128_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn sqrt(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_castps_si128(_mm_sqrt_ps(_mm_castsi128_ps(self.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn max_of(self, v: Self) -> Self {
        // maxps returns its second operand unless the first is greater.
        // SAFETY: see above.
        Self(unsafe { _mm_castps_si128(_mm_max_ps(_mm_castsi128_ps(self.0), _mm_castsi128_ps(v.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn min_of(self, v: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_castps_si128(_mm_min_ps(_mm_castsi128_ps(self.0), _mm_castsi128_ps(v.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn lt(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_castps_si128(_mm_cmplt_ps(_mm_castsi128_ps(self.0), _mm_castsi128_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn to_f32(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_castps_si128(_mm_cvtepi32_ps(self.0)) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn iadd(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_add_epi32(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn isub(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_sub_epi32(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn and(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_and_si128(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn or(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_or_si128(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn xor(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_xor_si128(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shr<const S: i32>(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_srli_epi32::<S>(self.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shl<const S: i32>(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_slli_epi32::<S>(self.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shr_var(self, s: Self) -> Self {
        // SSE2 has no per-lane shifts.
        let (mut x, mut n) = ([0u32; 4], [0u32; 4]);
        // SAFETY: see above.
        unsafe {
            _mm_storeu_si128(x.as_mut_ptr().cast(), self.0);
            _mm_storeu_si128(n.as_mut_ptr().cast(), s.0);
        }
        for (x, n) in x.iter_mut().zip(n) {
            *x = x.wrapping_shr(n);
        }
        Self::load(Sse2(()), &x)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shl_var(self, s: Self) -> Self {
        let (mut x, mut n) = ([0u32; 4], [0u32; 4]);
        // SAFETY: see above.
        unsafe {
            _mm_storeu_si128(x.as_mut_ptr().cast(), self.0);
            _mm_storeu_si128(n.as_mut_ptr().cast(), s.0);
        }
        for (x, n) in x.iter_mut().zip(n) {
            *x = x.wrapping_shl(n);
        }
        Self::load(Sse2(()), &x)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn igt(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_cmpgt_epi32(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn ieq(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm_cmpeq_epi32(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn select(mask: Self, a: Self, b: Self) -> Self {
        // SSE2 has no blend: spread the sign bit, then and / andnot / or.
        // SAFETY: see above.
        unsafe {
            let m = _mm_srai_epi32::<31>(mask.0);
            Self(_mm_or_si128(_mm_and_si128(m, a.0), _mm_andnot_si128(m, b.0)))
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn all(mask: Self) -> bool {
        // SAFETY: see above.
        unsafe { _mm_movemask_ps(_mm_castsi128_ps(mask.0)) == 0xf }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn deinterleave(a: Self, b: Self) -> (Self, Self) {
        // SAFETY: see above.
        unsafe {
            let (a, b) = (_mm_castsi128_ps(a.0), _mm_castsi128_ps(b.0));
            (
                Self(_mm_castps_si128(_mm_shuffle_ps::<0b10_00_10_00>(a, b))),
                Self(_mm_castps_si128(_mm_shuffle_ps::<0b11_01_11_01>(a, b))),
            )
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn interleave(even: Self, odd: Self) -> (Self, Self) {
        // SAFETY: see above.
        unsafe {
            (
                Self(_mm_unpacklo_epi32(even.0, odd.0)),
                Self(_mm_unpackhi_epi32(even.0, odd.0)),
            )
        }
    }
}
