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
//! Each instruction set's file implements [`V32`]; a vector is made only from
//! its instruction set's token (`isa.rs`), so its methods are safe.

use std::mem::MaybeUninit;

/// `N` lanes of 32 bits, viewed as f32 or as u32 / i32 as each method says.
pub(crate) trait V32: Copy {
    /// The token of the instruction set.
    type Token: Copy;
    /// Lanes per vector.
    const N: usize;
    /// Every lane holding the bits `x`.
    fn splat(t: Self::Token, x: u32) -> Self;
    /// Every lane holding `x`.
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat_f(t: Self::Token, x: f32) -> Self {
        Self::splat(t, x.to_bits())
    }
    /// Lanes `src[..N]`.
    fn load(t: Self::Token, src: &[u32]) -> Self;
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
    pub(super) fn splat(t: V::Token, x: u32) -> Self {
        Many([V::splat(t, x); K])
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn splat_f(t: V::Token, x: f32) -> Self {
        Many([V::splat_f(t, x); K])
    }
    /// Vectors `src[k N ..]`.
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn load(t: V::Token, src: &[u32]) -> Self {
        let src = &src[..K * V::N];
        let mut out = [V::splat(t, 0); K];
        for k in 0..K {
            out[k] = V::load(t, &src[k * V::N..]);
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
