//! The portable path: batches in general-purpose registers, for any target.
//! Philox runs one block per `u64` (the word in its low half), the f32
//! transforms one lane per `u32`; the compiler vectorises some of it.

use std::mem::MaybeUninit;

use super::isa::{vector_entries, Isa};
use super::lanes::Lanes;
use super::vec32::V32;

/// The portable instruction set: plain Rust, so every CPU runs it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Portable(());

impl Isa for Portable {
    fn detect() -> Option<Self> {
        Some(Portable(()))
    }
    // 4 blocks per batch of Philox, 16 lanes of f32 transforms.
    vector_entries!(Portable, u64, u32, 4, 1, 16, 8);
}

/// One block at a time in general-purpose registers: the portable path.
impl Lanes for u64 {
    type Token = Portable;
    const LANES: usize = 1;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(_: Portable, x: u32) -> Self {
        x as u64
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn blocks(_: Portable, base: u32) -> Self {
        base as u64
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn gather(_: Portable, w: &[u32]) -> Self {
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

/// One lane in a general-purpose register: the portable path.
impl V32 for u32 {
    type Token = Portable;
    const N: usize = 1;
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn splat(_: Portable, x: u32) -> Self {
        x
    }
    #[cfg_attr(not(opt_level_zero), inline(always))]
    fn load(_: Portable, src: &[u32]) -> Self {
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
