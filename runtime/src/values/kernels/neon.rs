//! NEON, part of every aarch64: Philox on four blocks per pair of registers
//! (`umull` / `umull2` make the 32 x 32 -> 64-bit products), f32 transforms on
//! four lanes. Checked under qemu (`tools/test-aarch64.sh`), not tuned on hardware.

use std::arch::aarch64::*;
use std::mem::MaybeUninit;

use super::isa::{vector_entries, Isa};
use super::lanes::Lanes;
use super::vec32::V32;

/// Proof that this CPU runs NEON, which every aarch64 CPU does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Neon(());

impl Isa for Neon {
    fn detect() -> Option<Self> {
        Some(Neon(()))
    }
    // Four blocks per `NeonLanes` (two of the 32 registers): 12 blocks per
    // batch, as SSE2.
    vector_entries!(Neon, NeonLanes, NeonF, 3, 1, 12, 6, "neon");
}

/// Four blocks in two `uint64x2_t`: blocks 0, 1 then 2, 3. A product gathers
/// the four low words into one `uint32x4_t` (`uzp1`) and multiplies them with
/// `umull` / `umull2`.
#[derive(Clone, Copy)]
pub(super) struct NeonLanes(uint64x2_t, uint64x2_t);

/// Four f32 lanes.
#[derive(Clone, Copy)]
pub(super) struct NeonF(uint32x4_t);

// SAFETY (every `unsafe` block below): NEON is part of the aarch64 baseline,
// so every aarch64 CPU runs these instructions. Loads and stores go through
// slices whose length the preceding line checks.

impl NeonLanes {
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

impl Lanes for NeonLanes {
    type Token = Neon;
    const LANES: usize = 4;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(_: Neon, x: u32) -> Self {
        // SAFETY: see above.
        let v = unsafe { vdupq_n_u64(x as u64) };
        Self(v, v)
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn blocks(_: Neon, base: u32) -> Self {
        let b = [base, base.wrapping_add(1), base.wrapping_add(2), base.wrapping_add(3)];
        // SAFETY: see above; `b` holds 4 words.
        Self::widen(unsafe { vld1q_u32(b.as_ptr()) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn gather(_: Neon, w: &[u32]) -> Self {
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
    type Token = Neon;
    const N: usize = 4;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(_: Neon, x: u32) -> Self {
        // SAFETY: see above.
        Self(unsafe { vdupq_n_u32(x) })
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn load(_: Neon, src: &[u32]) -> Self {
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
