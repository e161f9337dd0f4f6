//! AVX2: Philox on four blocks per register, f32 transforms on eight lanes.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::isa::{vector_entries, Isa};
use super::lanes::Lanes;
use super::vec32::V32;

/// Proof that this CPU runs AVX2: made only by [`Isa::detect`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx2(());

impl Isa for Avx2 {
    fn detect() -> Option<Self> {
        (std::arch::is_x86_feature_detected!("avx2")).then_some(Avx2(()))
    }
    // 3 x 4 blocks twice per batch: the counters of 12 blocks fill the 16 registers.
    vector_entries!(Avx2, Avx2Lanes, Avx2F, 3, 2, 12, 6, "avx2");
}

/// Four blocks per `__m256i`.
#[derive(Clone, Copy)]
pub(super) struct Avx2Lanes(__m256i);

/// Eight f32 lanes.
#[derive(Clone, Copy)]
pub(super) struct Avx2F(__m256i);

// SAFETY (every `unsafe` block below): a value of `Avx2Lanes` or `Avx2F` is
// made only from a `Avx2` token or from other such values, so the CPU runs
// the instructions. Loads and stores go through slices whose
// length the preceding line checks.

impl Lanes for Avx2Lanes {
    type Token = Avx2;
    const LANES: usize = 4;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(_: Avx2, x: u32) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_set1_epi64x(x as i64) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn blocks(_: Avx2, base: u32) -> Self {
        let b = |i: u32| base.wrapping_add(i) as i64;
        // Blocks 0, 2 | 1, 3: unpacking the 128-bit halves then yields 0, 1 | 2, 3.
        // SAFETY: see above.
        Self(unsafe { _mm256_set_epi64x(b(3), b(1), b(2), b(0)) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn gather(_: Avx2, w: &[u32]) -> Self {
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

impl V32 for Avx2F {
    type Token = Avx2;
    const N: usize = 8;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(_: Avx2, x: u32) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_set1_epi32(x as i32) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn load(_: Avx2, src: &[u32]) -> Self {
        let src = &src[..8];
        // SAFETY: see above.
        Self(unsafe { _mm256_loadu_si256(src.as_ptr().cast()) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_f32(self, dst: &mut [MaybeUninit<f32>]) {
        let dst = &mut dst[..8];
        // SAFETY: see above.
        unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), self.0) }
    }
    #[cfg(test)]
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_u32(self, dst: &mut [u32]) {
        let dst = &mut dst[..8];
        // SAFETY: see above.
        unsafe { _mm256_storeu_si256(dst.as_mut_ptr().cast(), self.0) }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_u16(a: Self, b: Self, dst: &mut [MaybeUninit<u16>]) {
        let dst = &mut dst[..16];
        // SAFETY: see above.
        unsafe {
            // packus works per 128-bit half: a0-3 b0-3 | a4-7 b4-7; reorder the quarters.
            let packed = _mm256_packus_epi32(a.0, b.0);
            let ordered = _mm256_permute4x64_epi64::<0b11_01_10_00>(packed);
            _mm256_storeu_si256(dst.as_mut_ptr().cast(), ordered);
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn add(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_castps_si256(_mm256_add_ps(_mm256_castsi256_ps(self.0), _mm256_castsi256_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn sub(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_castps_si256(_mm256_sub_ps(_mm256_castsi256_ps(self.0), _mm256_castsi256_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn mul(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_castps_si256(_mm256_mul_ps(_mm256_castsi256_ps(self.0), _mm256_castsi256_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn div(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_castps_si256(_mm256_div_ps(_mm256_castsi256_ps(self.0), _mm256_castsi256_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn sqrt(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_castps_si256(_mm256_sqrt_ps(_mm256_castsi256_ps(self.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn max_of(self, v: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_castps_si256(_mm256_max_ps(_mm256_castsi256_ps(self.0), _mm256_castsi256_ps(v.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn min_of(self, v: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_castps_si256(_mm256_min_ps(_mm256_castsi256_ps(self.0), _mm256_castsi256_ps(v.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn lt(self, b: Self) -> Self {
        // Ordered, quiet: false when either is NaN, as `<`.
        // SAFETY: see above.
        Self(unsafe {
            _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LT_OQ>(
                _mm256_castsi256_ps(self.0),
                _mm256_castsi256_ps(b.0),
            ))
        })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn to_f32(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_castps_si256(_mm256_cvtepi32_ps(self.0)) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn iadd(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_add_epi32(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn isub(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_sub_epi32(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn and(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_and_si256(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn or(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_or_si256(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn xor(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_xor_si256(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shr<const S: i32>(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_srli_epi32::<S>(self.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shl<const S: i32>(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_slli_epi32::<S>(self.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shr_var(self, s: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_srlv_epi32(self.0, s.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shl_var(self, s: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_sllv_epi32(self.0, s.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn igt(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_cmpgt_epi32(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn ieq(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm256_cmpeq_epi32(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn select(mask: Self, a: Self, b: Self) -> Self {
        // blendv takes the second source where the mask's sign bit is set.
        // SAFETY: see above.
        Self(unsafe {
            _mm256_castps_si256(_mm256_blendv_ps(
                _mm256_castsi256_ps(b.0),
                _mm256_castsi256_ps(a.0),
                _mm256_castsi256_ps(mask.0),
            ))
        })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn all(mask: Self) -> bool {
        // SAFETY: see above.
        unsafe { _mm256_movemask_ps(_mm256_castsi256_ps(mask.0)) == 0xff }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn deinterleave(a: Self, b: Self) -> (Self, Self) {
        // Within each 128-bit half: a0 a2 b0 b2 | a4 a6 b4 b6 and the odd lanes.
        // SAFETY: see above.
        unsafe {
            let (a, b) = (_mm256_castsi256_ps(a.0), _mm256_castsi256_ps(b.0));
            (
                Self(_mm256_castps_si256(_mm256_shuffle_ps::<0b10_00_10_00>(a, b))),
                Self(_mm256_castps_si256(_mm256_shuffle_ps::<0b11_01_11_01>(a, b))),
            )
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn interleave(even: Self, odd: Self) -> (Self, Self) {
        // SAFETY: see above.
        unsafe {
            (
                Self(_mm256_unpacklo_epi32(even.0, odd.0)),
                Self(_mm256_unpackhi_epi32(even.0, odd.0)),
            )
        }
    }
}
