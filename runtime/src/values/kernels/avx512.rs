//! AVX-512 (F, BW, DQ and VL; intrinsics stable since Rust 1.89): Philox on eight
//! blocks per register, f32 transforms on sixteen lanes.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::isa::{vector_entries, Isa};
use super::lanes::Lanes;
use super::vec32::V32;

/// Proof that this CPU runs AVX-512 F, BW, DQ and VL: made only by [`Isa::detect`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512(());

impl Isa for Avx512 {
    fn detect() -> Option<Self> {
        (std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl"))
        .then_some(Avx512(()))
    }
    // 4 x 8 blocks per batch: the counters of 32 blocks in the 32 registers.
    vector_entries!(
        Avx512,
        Avx512Lanes,
        Avx512F,
        4,
        1,
        8,
        4,
        "avx512f,avx512bw,avx512dq,avx512vl"
    );
}

/// Eight blocks per `__m512i`.
#[derive(Clone, Copy)]
pub(super) struct Avx512Lanes(__m512i);

/// Sixteen f32 lanes.
#[derive(Clone, Copy)]
pub(super) struct Avx512F(__m512i);

// SAFETY (every `unsafe` block below): a value of `Avx512Lanes` or `Avx512F` is
// made only from a `Avx512` token or from other such values, so the CPU runs
// the instructions. Loads and stores go through slices whose
// length the preceding line checks.

impl Lanes for Avx512Lanes {
    type Token = Avx512;
    const LANES: usize = 8;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(_: Avx512, x: u32) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_set1_epi64(x as i64) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn blocks(_: Avx512, base: u32) -> Self {
        let b = |i: u32| base.wrapping_add(i) as i64;
        // Blocks 0, 4 | 1, 5 | 2, 6 | 3, 7: unpacking yields 0 | 1 | 2 | 3 and 4 | 5 | 6 | 7.
        // SAFETY: see above.
        Self(unsafe { _mm512_set_epi64(b(7), b(3), b(6), b(2), b(5), b(1), b(4), b(0)) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn gather(_: Avx512, w: &[u32]) -> Self {
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

impl V32 for Avx512F {
    type Token = Avx512;
    const N: usize = 16;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(_: Avx512, x: u32) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_set1_epi32(x as i32) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn load(_: Avx512, src: &[u32]) -> Self {
        let src = &src[..16];
        // SAFETY: see above.
        Self(unsafe { _mm512_loadu_si512(src.as_ptr().cast()) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_f32(self, dst: &mut [MaybeUninit<f32>]) {
        let dst = &mut dst[..16];
        // SAFETY: see above.
        unsafe { _mm512_storeu_si512(dst.as_mut_ptr().cast(), self.0) }
    }
    #[cfg(test)]
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_u32(self, dst: &mut [u32]) {
        let dst = &mut dst[..16];
        // SAFETY: see above.
        unsafe { _mm512_storeu_si512(dst.as_mut_ptr().cast(), self.0) }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_u16(a: Self, b: Self, dst: &mut [MaybeUninit<u16>]) {
        let dst = &mut dst[..32];
        // SAFETY: see above.
        unsafe {
            // Truncating narrows keep the lane order (the values fit 16 bits).
            let lo = _mm512_cvtepi32_epi16(a.0);
            let hi = _mm512_cvtepi32_epi16(b.0);
            _mm256_storeu_si256(dst.as_mut_ptr().cast(), lo);
            _mm256_storeu_si256(dst.as_mut_ptr().add(16).cast(), hi);
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn add(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_castps_si512(_mm512_add_ps(_mm512_castsi512_ps(self.0), _mm512_castsi512_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn sub(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_castps_si512(_mm512_sub_ps(_mm512_castsi512_ps(self.0), _mm512_castsi512_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn mul(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_castps_si512(_mm512_mul_ps(_mm512_castsi512_ps(self.0), _mm512_castsi512_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn div(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_castps_si512(_mm512_div_ps(_mm512_castsi512_ps(self.0), _mm512_castsi512_ps(b.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn sqrt(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_castps_si512(_mm512_sqrt_ps(_mm512_castsi512_ps(self.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn max_of(self, v: Self) -> Self {
        // The AVX-512 max has the same operand rule as maxps.
        // SAFETY: see above.
        Self(unsafe { _mm512_castps_si512(_mm512_max_ps(_mm512_castsi512_ps(self.0), _mm512_castsi512_ps(v.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn min_of(self, v: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_castps_si512(_mm512_min_ps(_mm512_castsi512_ps(self.0), _mm512_castsi512_ps(v.0))) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn lt(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe {
            let m = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(_mm512_castsi512_ps(self.0), _mm512_castsi512_ps(b.0));
            _mm512_movm_epi32(m)
        })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn to_f32(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_castps_si512(_mm512_cvtepi32_ps(self.0)) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn iadd(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_add_epi32(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn isub(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_sub_epi32(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn and(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_and_si512(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn or(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_or_si512(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn xor(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_xor_si512(self.0, b.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shr<const S: i32>(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_srl_epi32(self.0, _mm_cvtsi32_si128(S)) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shl<const S: i32>(self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_sll_epi32(self.0, _mm_cvtsi32_si128(S)) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shr_var(self, s: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_srlv_epi32(self.0, s.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shl_var(self, s: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_sllv_epi32(self.0, s.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn igt(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_movm_epi32(_mm512_cmpgt_epi32_mask(self.0, b.0)) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn ieq(self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_movm_epi32(_mm512_cmpeq_epi32_mask(self.0, b.0)) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn select(mask: Self, a: Self, b: Self) -> Self {
        // SAFETY: see above.
        Self(unsafe { _mm512_mask_blend_epi32(_mm512_movepi32_mask(mask.0), b.0, a.0) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn all(mask: Self) -> bool {
        // SAFETY: see above.
        unsafe { _mm512_movepi32_mask(mask.0) == 0xffff }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn deinterleave(a: Self, b: Self) -> (Self, Self) {
        // SAFETY: see above.
        unsafe {
            let (a, b) = (_mm512_castsi512_ps(a.0), _mm512_castsi512_ps(b.0));
            (
                Self(_mm512_castps_si512(_mm512_shuffle_ps::<0b10_00_10_00>(a, b))),
                Self(_mm512_castps_si512(_mm512_shuffle_ps::<0b11_01_11_01>(a, b))),
            )
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn interleave(even: Self, odd: Self) -> (Self, Self) {
        // SAFETY: see above.
        unsafe {
            (
                Self(_mm512_unpacklo_epi32(even.0, odd.0)),
                Self(_mm512_unpackhi_epi32(even.0, odd.0)),
            )
        }
    }
}
