//! The f32-family transforms of SPEC.md 6.1 on a batch of blocks, written
//! against [`V32`] vectors advanced in lockstep ([`Many`]).
//!
//! Every function performs, lane by lane, exactly the IEEE operations of the
//! scalar reference ([`crate::math`], [`crate::transform`]) in the same order
//! (addition and multiplication commute exactly, so `a + b` may be written
//! `b.add(a)`); only the control flow differs: both sides of a choice are
//! computed and one selected, and the inverse error function's outer branch is
//! computed only for the vectors that have a lane needing it.

use std::mem::MaybeUninit;

use super::vec32::{Many, V32};
use super::{Op32, Out32};
use crate::math::{COS32, ERFINV32_P, ERFINV32_Q, LN2_HI_32, LN2_LO_32, LN32, SIN32};
use crate::transform::{EDGE32, TWO_POW_M24, TWO_POW_M31, TWO_POW_M32};

type M<F, const K: usize> = Many<F, K>;

#[cfg_attr(not(opt_level_zero), inline(always))]
fn c<F: V32, const K: usize>(x: f32) -> M<F, K> {
    Many::splat_f(x)
}

#[cfg_attr(not(opt_level_zero), inline(always))]
fn u<F: V32, const K: usize>(x: u32) -> M<F, K> {
    Many::splat(x)
}

/// `ln32` of SPEC.md 5.1.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn ln32<F: V32, const K: usize>(x: M<F, K>) -> M<F, K> {
    let mant = x.and(u(0x007f_ffff));
    // All ones (-1) where the mantissa is above sqrt 2: e + 1, and m in [0.707, 1).
    let big = mant.igt(u(0x0035_04f3));
    let e = x.shr::<23>().and(u(0xff)).isub(u(127)).isub(big);
    let m = mant.or(Many::select(big, u(0x3f00_0000), u(0x3f80_0000)));
    let f = m.sub(c(1.0));
    let s = f.div(c::<F, K>(2.0).add(f));
    let z = s.mul(s);
    let r =
        z.mul(c::<F, K>(LN32[0]).add(z.mul(c::<F, K>(LN32[1]).add(z.mul(c::<F, K>(LN32[2]).add(z.mul(c(LN32[3]))))))));
    let ln_m = s.add(s).add(s.mul(r));
    let ef = e.to_f32();
    ef.mul(c(LN2_HI_32)).add(ef.mul(c(LN2_LO_32)).add(ln_m))
}

/// `sincos32` of SPEC.md 5.2: `(sin, cos)`.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn sincos32<F: V32, const K: usize>(w: M<F, K>) -> (M<F, K>, M<F, K>) {
    // The quadrant q = w >> 30 is the top two bits: quadrants 2 and 3 (bit 31)
    // negate the sine, 1 and 2 (bit 31 ^ bit 30) the cosine, odd ones (bit 30)
    // exchange sine and cosine.
    let sign = u::<F, K>(0x8000_0000);
    let w30 = w.shl::<1>();
    let sin_sign = w.and(sign);
    let cos_sign = w.xor(w30).and(sign);
    let m = w.shr::<8>().and(u(0x003f_ffff));
    let swap = m.igt(u(0x0020_0000));
    let m = Many::select(swap, u::<F, K>(0x0040_0000).isub(m), m);
    let r = m.to_f32().mul(c(1.0 / 4_194_304.0));
    let z = r.mul(r);
    let s = r.mul(c::<F, K>(SIN32[0]).add(z.mul(
        c::<F, K>(SIN32[1]).add(z.mul(c::<F, K>(SIN32[2]).add(z.mul(c::<F, K>(SIN32[3]).add(z.mul(c(SIN32[4]))))))),
    )));
    let cos = c::<F, K>(1.0).add(z.mul(c::<F, K>(COS32[0]).add(z.mul(
        c::<F, K>(COS32[1]).add(z.mul(c::<F, K>(COS32[2]).add(z.mul(c::<F, K>(COS32[3]).add(z.mul(c(COS32[4]))))))),
    ))));
    // Sign bit set where the octant swap and the quadrant's exchange differ.
    let exchange = swap.xor(w30);
    let (s, cos) = (Many::select(exchange, cos, s), Many::select(exchange, s, cos));
    (s.xor(sin_sign), cos.xor(cos_sign))
}

/// `p = k[0]; p = k[i] + p * w` for the nine coefficients of Giles' fit.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn horner<F: V32, const K: usize>(k: &[f32; 9], w: M<F, K>) -> M<F, K> {
    let mut p = c(k[0]);
    for &k in &k[1..] {
        p = c::<F, K>(k).add(p.mul(w));
    }
    p
}

/// `clamp(v, lo, hi)` of SPEC.md section 1: `lo` if `v < lo`, then `hi` if `v > hi`.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn clamp<F: V32, const K: usize>(v: M<F, K>, lo: f32, hi: f32) -> M<F, K> {
    c::<F, K>(hi).min_of(c::<F, K>(lo).max_of(v))
}

/// One truncated normal value per word (SPEC.md 6.1).
#[cfg_attr(not(opt_level_zero), inline(always))]
fn trunc<F: V32, const K: usize>(p: [f32; 4], bounds: [f32; 2], x: M<F, K>) -> M<F, K> {
    let uni = x.shr::<9>().shl::<1>().or(u(1)).to_f32().mul(c(TWO_POW_M24));
    let x = clamp(c::<F, K>(p[0]).add(c::<F, K>(p[1]).mul(uni)), -EDGE32, EDGE32);
    // erfinv32 of SPEC.md 5.3; the negation flips the sign bit, as `-` does.
    let w = ln32(c::<F, K>(1.0).sub(x).mul(c::<F, K>(1.0).add(x))).xor(u(0x8000_0000));
    let central = w.lt(c(5.0));
    let y = clamp(
        c::<F, K>(p[3]).add(c::<F, K>(p[2]).mul(horner(&ERFINV32_P, w.sub(c(2.5))).mul(x))),
        bounds[0],
        bounds[1],
    );
    if Many::all(central) {
        return y;
    }
    // |x| > 0.9966 in some lane: Giles' second polynomial there.
    let tail = horner(&ERFINV32_Q, w.sqrt().sub(c(3.0)));
    let yt = clamp(
        c::<F, K>(p[3]).add(c::<F, K>(p[2]).mul(tail.mul(x))),
        bounds[0],
        bounds[1],
    );
    Many::select(central, y, yt)
}

/// The values of one batch, `K` vectors of `F::N` words, into
/// `out[..K * F::N]`; every element of it is written. The transforms advance
/// all `K` vectors, or `H = K / 2` pairs of vectors, in lockstep: independent
/// chains that hide the latencies of division, square root and polynomials.
/// (Two halves of the batch one after the other spill fewer registers, but
/// measured 5-10% slower for normal and truncated normal on AVX2, Zen 3.)
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn values32<F: V32, const K: usize, const H: usize, O: Out32>(
    op: &Op32,
    words: &[u32],
    out: &mut [MaybeUninit<O>],
) {
    const { assert!(K == 2 * H, "whole pairs of vectors") };
    let words = &words[..K * F::N];
    let out = &mut out[..K * F::N];
    match *op {
        Op32::Uniform { lo, w } => {
            let x = M::<F, K>::load(words);
            let v = c::<F, K>(lo).add(c::<F, K>(w).mul(x.shr::<8>().to_f32().mul(c(TWO_POW_M24))));
            for k in 0..K / 2 {
                O::store2(v.0[2 * k], v.0[2 * k + 1], &mut out[2 * k * F::N..]);
            }
        }
        Op32::Normal { mean, std } => {
            normal::<F, H, O>(mean, std, words, out);
        }
        Op32::TruncNormal { p, clamp } => {
            let y = trunc(p, clamp, M::<F, K>::load(words));
            for k in 0..K / 2 {
                O::store2(y.0[2 * k], y.0[2 * k + 1], &mut out[2 * k * F::N..]);
            }
        }
        Op32::Constant(value) => {
            for k in 0..K / 2 {
                O::store2(F::splat_f(value), F::splat_f(value), &mut out[2 * k * F::N..]);
            }
        }
    }
}

/// Box-Muller on `G` pairs of vectors of words, into `out[..2 * G * F::N]`.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn normal<F: V32, const G: usize, O: Out32>(mean: f32, std: f32, words: &[u32], out: &mut [MaybeUninit<O>]) {
    // Pairs of words: the even one gives the radius, the odd one the angle.
    let (mut xa, mut xb) = ([F::splat(0); G], [F::splat(0); G]);
    for k in 0..G {
        let w0 = F::load(&words[2 * k * F::N..]);
        let w1 = F::load(&words[(2 * k + 1) * F::N..]);
        (xa[k], xb[k]) = F::deinterleave(w0, w1);
    }
    let (xa, xb) = (Many(xa), Many(xb));
    let u1 = xa.shr::<1>().to_f32().mul(c(TWO_POW_M31)).add(c(TWO_POW_M32));
    let rad = c::<F, G>(-2.0).mul(ln32(u1)).sqrt();
    let (s, cos) = sincos32(xb);
    let zc = c::<F, G>(mean).add(c::<F, G>(std).mul(rad.mul(cos)));
    let zs = c::<F, G>(mean).add(c::<F, G>(std).mul(rad.mul(s)));
    for k in 0..G {
        let (lo, hi) = F::interleave(zc.0[k], zs.0[k]);
        O::store2(lo, hi, &mut out[2 * k * F::N..]);
    }
}

/// `half::bf16::from_f32` on the lanes (as [`super::draw::bf16_bits`]).
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn bf16_bits<F: V32, const K: usize>(x: M<F, K>) -> M<F, K> {
    // Round to nearest even by carrying 0x7fff plus the kept part's lowest bit
    // into bit 16; NaN keeps its top bits and sets the quiet bit.
    let nan = x.and(u(0x7fff_ffff)).igt(u(0x7f80_0000));
    let lsb = x.shr::<16>().and(u(1));
    let rounded = x.iadd(u(0x7fff)).iadd(lsb).shr::<16>();
    Many::select(nan, x.shr::<16>().or(u(0x0040)), rounded)
}

/// `half::f16::from_f32` on the lanes (as [`super::draw::f16_bits`]).
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn f16_bits<F: V32, const K: usize>(x: M<F, K>) -> M<F, K> {
    let sign = x.and(u(0x8000_0000)).shr::<16>();
    let exp = x.shr::<23>().and(u(0xff));
    let man = x.and(u(0x007f_ffff));
    let zero = u::<F, K>(0);
    let one = u::<F, K>(1);
    // Infinity or NaN.
    let nan_bit = Many::select(man.ieq(zero), zero, u(0x0200));
    let special = sign.or(u(0x7c00)).or(nan_bit).or(man.shr::<13>());
    // Normal: rebias the exponent, round on bit 12 (ties to even).
    let half = sign.or(exp.isub(u(112)).shl::<10>()).or(man.shr::<13>());
    let keep = man.and(u(0x1000)).ieq(zero).or(man.and(u(0x2fff)).ieq(zero));
    let normal = half.iadd(Many::select(keep, zero, one));
    // Subnormal: the full significand shifted right by 126 - exp (14 ..= 24).
    let shift = u::<F, K>(126).isub(exp);
    let m = man.or(u(0x0080_0000));
    let round_bit = one.shl_var(shift.isub(one));
    let sticky = round_bit.iadd(round_bit).iadd(round_bit).isub(one);
    let keep = m.and(round_bit).ieq(zero).or(m.and(sticky).ieq(zero));
    let sub = sign.or(m.shr_var(shift).iadd(Many::select(keep, zero, one)));
    let r = Many::select(exp.igt(u(101)), sub, sign);
    let r = Many::select(exp.igt(u(112)), normal, r);
    let r = Many::select(exp.igt(u(142)), sign.or(u(0x7c00)), r);
    Many::select(exp.ieq(u(0xff)), special, r)
}
