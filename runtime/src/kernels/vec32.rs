//! Vectors of 32-bit lanes for the f32-family transforms: IEEE single-precision
//! arithmetic and bit operations on the same register, one implementation per
//! instruction set, plus [`Many`], several vectors advanced in lockstep.
//!
//! Each float operation is the correctly rounded IEEE operation of its scalar
//! counterpart (`addps` is `+`, `sqrtps` is `f32::sqrt`, ...), so a computation
//! written against [`V32`] performs, lane by lane, exactly the operations of the
//! same computation written for `f32`; `draw32.rs` relies on this and the tests
//! check it against the scalar reference.
//!
//! The x86 methods are only ever inlined into functions compiled with the
//! vector's instruction set (`#[target_feature]` in `mod.rs`), which are only
//! called after the CPU was checked for it. NEON (aarch64) is part of the baseline, like
//! SSE2 on x86-64.
#![allow(unsafe_code)]

use std::mem::MaybeUninit;

/// `N` lanes of 32 bits, viewed as f32 or as u32 / i32 as each method says.
pub(crate) trait V32: Copy {
    /// Lanes per vector.
    const N: usize;
    /// Every lane holding the bits `x`.
    fn splat(x: u32) -> Self;
    /// Every lane holding `x`.
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat_f(x: f32) -> Self {
        Self::splat(x.to_bits())
    }
    /// Lanes `src[..N]`.
    fn load(src: &[u32]) -> Self;
    /// Stores the lanes as f32 into `dst[..N]`.
    fn store_f32(self, dst: &mut [MaybeUninit<f32>]);
    /// Stores the lanes into `dst[..N]`.
    #[cfg(test)]
    fn store_u32(self, dst: &mut [u32]);
    /// Stores the low 16 bits of the lanes of `a`, then of `b`, into `dst[..2 N]`.
    fn store_u16(a: Self, b: Self, dst: &mut [MaybeUninit<u16>]);

    // f32 arithmetic, correctly rounded.
    fn add(self, b: Self) -> Self;
    fn sub(self, b: Self) -> Self;
    fn mul(self, b: Self) -> Self;
    fn div(self, b: Self) -> Self;
    fn sqrt(self) -> Self;
    /// `if self > v { self } else { v }` (so `v` when either is NaN).
    fn max_of(self, v: Self) -> Self;
    /// `if self < v { self } else { v }` (so `v` when either is NaN).
    fn min_of(self, v: Self) -> Self;
    /// All ones where `self < b` as f32, else zero.
    fn lt(self, b: Self) -> Self;
    /// The i32 lanes converted to f32 (exact below 2^24).
    fn to_f32(self) -> Self;

    // 32-bit integer operations.
    fn iadd(self, b: Self) -> Self;
    fn isub(self, b: Self) -> Self;
    fn and(self, b: Self) -> Self;
    fn or(self, b: Self) -> Self;
    fn xor(self, b: Self) -> Self;
    fn shr<const S: i32>(self) -> Self;
    fn shl<const S: i32>(self) -> Self;
    /// Lanes shifted right by the lanes of `s` (each below 32).
    fn shr_var(self, s: Self) -> Self;
    /// Lanes shifted left by the lanes of `s` (each below 32).
    fn shl_var(self, s: Self) -> Self;
    /// All ones where `self > b` as i32, else zero.
    fn igt(self, b: Self) -> Self;
    /// All ones where `self == b`, else zero.
    fn ieq(self, b: Self) -> Self;
    /// `a` where the sign bit of `mask` is set, else `b` (masks from comparisons
    /// are all ones or zero).
    fn select(mask: Self, a: Self, b: Self) -> Self;
    /// Whether every lane of `mask` (a comparison result) is all ones.
    fn all(mask: Self) -> bool;

    /// The even and the odd lanes of the pair of vectors `(a, b)`, in an order
    /// that [`V32::interleave`] undoes.
    fn deinterleave(a: Self, b: Self) -> (Self, Self);
    /// The inverse of [`V32::deinterleave`]: `interleave(deinterleave(a, b)) == (a, b)`.
    fn interleave(even: Self, odd: Self) -> (Self, Self);
}

/// One lane in a general-purpose register: the portable path.
impl V32 for u32 {
    const N: usize = 1;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(x: u32) -> Self {
        x
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn load(src: &[u32]) -> Self {
        src[0]
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_f32(self, dst: &mut [MaybeUninit<f32>]) {
        dst[0].write(f32::from_bits(self));
    }
    #[cfg(test)]
    fn store_u32(self, dst: &mut [u32]) {
        dst[0] = self;
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn store_u16(a: Self, b: Self, dst: &mut [MaybeUninit<u16>]) {
        dst[0].write(a as u16);
        dst[1].write(b as u16);
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn add(self, b: Self) -> Self {
        (f32::from_bits(self) + f32::from_bits(b)).to_bits()
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn sub(self, b: Self) -> Self {
        (f32::from_bits(self) - f32::from_bits(b)).to_bits()
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn mul(self, b: Self) -> Self {
        (f32::from_bits(self) * f32::from_bits(b)).to_bits()
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn div(self, b: Self) -> Self {
        (f32::from_bits(self) / f32::from_bits(b)).to_bits()
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn sqrt(self) -> Self {
        f32::from_bits(self).sqrt().to_bits()
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn max_of(self, v: Self) -> Self {
        if f32::from_bits(self) > f32::from_bits(v) {
            self
        } else {
            v
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn min_of(self, v: Self) -> Self {
        if f32::from_bits(self) < f32::from_bits(v) {
            self
        } else {
            v
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn lt(self, b: Self) -> Self {
        if f32::from_bits(self) < f32::from_bits(b) {
            u32::MAX
        } else {
            0
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn to_f32(self) -> Self {
        (self as i32 as f32).to_bits()
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn iadd(self, b: Self) -> Self {
        self.wrapping_add(b)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn isub(self, b: Self) -> Self {
        self.wrapping_sub(b)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn and(self, b: Self) -> Self {
        self & b
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn or(self, b: Self) -> Self {
        self | b
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn xor(self, b: Self) -> Self {
        self ^ b
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shr<const S: i32>(self) -> Self {
        self >> S
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shl<const S: i32>(self) -> Self {
        self << S
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shr_var(self, s: Self) -> Self {
        self.wrapping_shr(s)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn shl_var(self, s: Self) -> Self {
        self.wrapping_shl(s)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn igt(self, b: Self) -> Self {
        if (self as i32) > (b as i32) {
            u32::MAX
        } else {
            0
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn ieq(self, b: Self) -> Self {
        if self == b {
            u32::MAX
        } else {
            0
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn select(mask: Self, a: Self, b: Self) -> Self {
        if (mask as i32) < 0 {
            a
        } else {
            b
        }
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn all(mask: Self) -> bool {
        (mask as i32) < 0
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn deinterleave(a: Self, b: Self) -> (Self, Self) {
        (a, b)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn interleave(even: Self, odd: Self) -> (Self, Self) {
        (even, odd)
    }
}

/// `K` vectors advanced in lockstep: every operation is applied to all of them
/// before the next, so the processor has `K` independent dependency chains in
/// flight instead of one long one.
#[derive(Clone, Copy)]
pub(super) struct Many<V, const K: usize>(pub(super) [V; K]);

macro_rules! lockstep {
    ($($name:ident),*) => {$(
        #[cfg_attr(not(opt_level_zero), inline(always))]
        pub(super) fn $name(self, b: Self) -> Self {
            let mut out = self.0;
            for k in 0..K {
                out[k] = self.0[k].$name(b.0[k]);
            }
            Many(out)
        }
    )*};
}

impl<V: V32, const K: usize> Many<V, K> {
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn splat(x: u32) -> Self {
        Many([V::splat(x); K])
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn splat_f(x: f32) -> Self {
        Many([V::splat_f(x); K])
    }
    /// Vectors `src[k N ..]`.
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn load(src: &[u32]) -> Self {
        let src = &src[..K * V::N];
        let mut out = [V::splat(0); K];
        for k in 0..K {
            out[k] = V::load(&src[k * V::N..]);
        }
        Many(out)
    }
    lockstep!(add, sub, mul, div, max_of, min_of, lt, iadd, isub, and, or, xor, shr_var, shl_var, igt, ieq);
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn sqrt(self) -> Self {
        let mut out = self.0;
        for v in &mut out {
            *v = v.sqrt();
        }
        Many(out)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn to_f32(self) -> Self {
        let mut out = self.0;
        for v in &mut out {
            *v = v.to_f32();
        }
        Many(out)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn shr<const S: i32>(self) -> Self {
        let mut out = self.0;
        for v in &mut out {
            *v = v.shr::<S>();
        }
        Many(out)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn shl<const S: i32>(self) -> Self {
        let mut out = self.0;
        for v in &mut out {
            *v = v.shl::<S>();
        }
        Many(out)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn select(mask: Self, a: Self, b: Self) -> Self {
        let mut out = a.0;
        for ((o, m), b) in out.iter_mut().zip(mask.0).zip(b.0) {
            *o = V::select(m, *o, b);
        }
        Many(out)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn all(mask: Self) -> bool {
        let mut all = true;
        for v in mask.0 {
            all &= V::all(v);
        }
        all
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) use x86::Avx512F;
#[cfg(target_arch = "x86_64")]
pub(super) use x86::{Avx2F, Sse2F};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    use super::V32;

    /// Four lanes (SSE2).
    #[derive(Clone, Copy)]
    pub(in super::super) struct Sse2F(__m128i);
    /// Eight lanes (AVX2).
    #[derive(Clone, Copy)]
    pub(in super::super) struct Avx2F(__m256i);
    /// Sixteen lanes (AVX-512 F, BW, DQ).
    #[derive(Clone, Copy)]
    pub(in super::super) struct Avx512F(__m512i);

    // SAFETY (every `unsafe` block below): SSE2 is part of the x86-64 baseline;
    // `Avx2F` and `Avx512F` methods are only inlined into functions compiled with
    // `#[target_feature(enable = "avx2")]` / AVX-512, which are only called once
    // the CPU is known to have the feature (`Path::is_supported`). Loads and
    // stores go through slices whose length the preceding line checks.

    impl V32 for Sse2F {
        const N: usize = 4;
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn splat(x: u32) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm_set1_epi32(x as i32) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn load(src: &[u32]) -> Self {
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
            Self::load(&x)
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
            Self::load(&x)
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

    impl V32 for Avx2F {
        const N: usize = 8;
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn splat(x: u32) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm256_set1_epi32(x as i32) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn load(src: &[u32]) -> Self {
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

    impl V32 for Avx512F {
        const N: usize = 16;
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn splat(x: u32) -> Self {
            // SAFETY: see above.
            Self(unsafe { _mm512_set1_epi32(x as i32) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn load(src: &[u32]) -> Self {
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
}

#[cfg(target_arch = "aarch64")]
pub(super) use aarch64::NeonF;

#[cfg(target_arch = "aarch64")]
mod aarch64 {
    use std::arch::aarch64::*;
    use std::mem::MaybeUninit;

    use super::V32;

    /// Four lanes (NEON, part of every aarch64).
    #[derive(Clone, Copy)]
    pub(in super::super) struct NeonF(uint32x4_t);

    // SAFETY (every `unsafe` block below): NEON is part of the aarch64 baseline,
    // so every aarch64 CPU runs these instructions. Loads and stores go through
    // slices whose length the preceding line checks.

    /// The lanes as f32.
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn f(x: uint32x4_t) -> float32x4_t {
        // SAFETY: see above (a reinterpretation, no instruction).
        unsafe { vreinterpretq_f32_u32(x) }
    }

    /// The f32 lanes as bits.
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn u(x: float32x4_t) -> uint32x4_t {
        // SAFETY: see above (a reinterpretation, no instruction).
        unsafe { vreinterpretq_u32_f32(x) }
    }

    impl V32 for NeonF {
        const N: usize = 4;
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn splat(x: u32) -> Self {
            // SAFETY: see above.
            Self(unsafe { vdupq_n_u32(x) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn load(src: &[u32]) -> Self {
            let src = &src[..4];
            // SAFETY: see above.
            Self(unsafe { vld1q_u32(src.as_ptr()) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn store_f32(self, dst: &mut [MaybeUninit<f32>]) {
            let dst = &mut dst[..4];
            // SAFETY: see above; `MaybeUninit<f32>` has the layout of `u32`.
            unsafe { vst1q_u32(dst.as_mut_ptr().cast(), self.0) }
        }
        #[cfg(test)]
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn store_u32(self, dst: &mut [u32]) {
            let dst = &mut dst[..4];
            // SAFETY: see above.
            unsafe { vst1q_u32(dst.as_mut_ptr(), self.0) }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn store_u16(a: Self, b: Self, dst: &mut [MaybeUninit<u16>]) {
            let dst = &mut dst[..8];
            // Narrowing keeps the low 16 bits of each lane, in lane order.
            // SAFETY: see above; `MaybeUninit<u16>` has the layout of `u16`.
            unsafe { vst1q_u16(dst.as_mut_ptr().cast(), vcombine_u16(vmovn_u32(a.0), vmovn_u32(b.0))) }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn add(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(u(unsafe { vaddq_f32(f(self.0), f(b.0)) }))
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn sub(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(u(unsafe { vsubq_f32(f(self.0), f(b.0)) }))
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn mul(self, b: Self) -> Self {
            // A plain multiply (`fmul`), never fused with an addition.
            // SAFETY: see above.
            Self(u(unsafe { vmulq_f32(f(self.0), f(b.0)) }))
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn div(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(u(unsafe { vdivq_f32(f(self.0), f(b.0)) }))
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn sqrt(self) -> Self {
            // SAFETY: see above.
            Self(u(unsafe { vsqrtq_f32(f(self.0)) }))
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn max_of(self, v: Self) -> Self {
            // Not `fmax` (NaN and signed-zero rules differ): compare, then select,
            // so `v` unless `self > v`, as the scalar `if`.
            // SAFETY: see above.
            Self(unsafe { vbslq_u32(vcgtq_f32(f(self.0), f(v.0)), self.0, v.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn min_of(self, v: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { vbslq_u32(vcltq_f32(f(self.0), f(v.0)), self.0, v.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn lt(self, b: Self) -> Self {
            // Ordered: false when either is NaN, as `<`.
            // SAFETY: see above.
            Self(unsafe { vcltq_f32(f(self.0), f(b.0)) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn to_f32(self) -> Self {
            // `scvtf` rounds to nearest, ties to even (the default FPCR), as `as f32`.
            // SAFETY: see above.
            Self(u(unsafe { vcvtq_f32_s32(vreinterpretq_s32_u32(self.0)) }))
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn iadd(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { vaddq_u32(self.0, b.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn isub(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { vsubq_u32(self.0, b.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn and(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { vandq_u32(self.0, b.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn or(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { vorrq_u32(self.0, b.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn xor(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { veorq_u32(self.0, b.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn shr<const S: i32>(self) -> Self {
            // SAFETY: see above.
            Self(unsafe { vshrq_n_u32::<S>(self.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn shl<const S: i32>(self) -> Self {
            // SAFETY: see above.
            Self(unsafe { vshlq_n_u32::<S>(self.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn shr_var(self, s: Self) -> Self {
            // `ushl` shifts right by a negative count (each below 32 here).
            // SAFETY: see above.
            Self(unsafe { vshlq_u32(self.0, vnegq_s32(vreinterpretq_s32_u32(s.0))) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn shl_var(self, s: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { vshlq_u32(self.0, vreinterpretq_s32_u32(s.0)) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn igt(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { vcgtq_s32(vreinterpretq_s32_u32(self.0), vreinterpretq_s32_u32(b.0)) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn ieq(self, b: Self) -> Self {
            // SAFETY: see above.
            Self(unsafe { vceqq_u32(self.0, b.0) })
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn select(mask: Self, a: Self, b: Self) -> Self {
            // `bsl` selects bit by bit: spread the sign bit first (some callers
            // pass masks whose other bits are arbitrary).
            // SAFETY: see above.
            unsafe {
                let m = vreinterpretq_u32_s32(vshrq_n_s32::<31>(vreinterpretq_s32_u32(mask.0)));
                Self(vbslq_u32(m, a.0, b.0))
            }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn all(mask: Self) -> bool {
            // The largest signed lane is negative exactly when every sign bit is set.
            // SAFETY: see above.
            unsafe { vmaxvq_s32(vreinterpretq_s32_u32(mask.0)) < 0 }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn deinterleave(a: Self, b: Self) -> (Self, Self) {
            // a0 a2 b0 b2 and a1 a3 b1 b3, as the SSE2 shuffles.
            // SAFETY: see above.
            unsafe { (Self(vuzp1q_u32(a.0, b.0)), Self(vuzp2q_u32(a.0, b.0))) }
        }
        #[cfg_attr(not(opt_level_zero), inline(always))]
        fn interleave(even: Self, odd: Self) -> (Self, Self) {
            // SAFETY: see above.
            unsafe { (Self(vzip1q_u32(even.0, odd.0)), Self(vzip2q_u32(even.0, odd.0))) }
        }
    }
}
