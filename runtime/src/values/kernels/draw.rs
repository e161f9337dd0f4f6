//! The f64 transforms of SPEC.md section 6.2 on a batch of blocks, written so
//! that the compiler vectorises them: no branches (selects instead), no calls,
//! and loops over fixed-size arrays; and the scalar rounding to f16 and bf16.
//! The constants are those of [`crate::math`] and [`crate::transform`].
//!
//! Each function performs exactly the IEEE operations of the scalar reference
//! ([`crate::math`], [`crate::transform`]) in the same order; only the control
//! flow differs (both sides of a data-dependent choice are computed and one is
//! selected, or a rare branch is redone for the lanes that need it). The
//! compiler may not reorder or fuse floating-point operations, so every
//! instruction set gives the same bits; the tests compare all of them with the
//! reference.
use super::run::Put;
use crate::math::{horner, COS64, ERFINV64_A, ERFINV64_B, ERFINV64_C, LN2_HI_64, LN2_LO_64, LN64, SIN64};
use crate::transform::Prepared64;
use crate::transform::{EDGE64, TWO_POW_M53};

// ---------------------------------------------------------------------------
// Elementary functions, one lane at a time (SPEC.md 5.1-5.3), on the constants
// of `crate::math`.
//
// `ln64` and `sincos64` are not calls of `math::ln_f64` and
// `math::sincos_turn_f64`, the reference: those branch on the mantissa and
// convert 64-bit integers (`as f64`), which x86 before AVX-512 cannot do in
// vector registers, so loops over them would not vectorise. These perform the
// same IEEE operations on the same values with selects, a 32-bit exponent and
// an exact integer-to-float trick instead; `kernels::tests` compares them with
// the reference bit for bit.

#[cfg_attr(not(opt_level_zero), inline(always))]
fn clamp64(v: f64, lo: f64, hi: f64) -> f64 {
    let v = if v < lo { lo } else { v };
    if v > hi {
        hi
    } else {
        v
    }
}

/// `f64(n)` for `n < 2^52`, exactly: the bits of `2^52 + n`, minus `2^52`.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn u52_to_f64(n: u64) -> f64 {
    f64::from_bits(n | 0x4330_0000_0000_0000) - 4_503_599_627_370_496.0
}

/// `f64(n)` for `n <= 2^53`, exactly: `f64(n >> 32) * 2^32 + f64(n & 0xffffffff)`,
/// every step exact because the result is representable.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn u53_to_f64(n: u64) -> f64 {
    u52_to_f64(n >> 32) * 4_294_967_296.0 + u52_to_f64(n & 0xffff_ffff)
}

/// `ln64` of SPEC.md 5.1.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn ln64(x: f64) -> f64 {
    let bits = x.to_bits();
    let mant = bits & 0x000f_ffff_ffff_ffff;
    let big = mant > 0x0006_a09e_667f_3bcc;
    // The exponent fits an i32, whose conversion every instruction set vectorises.
    let e = ((bits >> 52) & 0x7ff) as i32 - 1023 + big as i32;
    let m = f64::from_bits(
        mant | if big {
            0x3fe0_0000_0000_0000
        } else {
            0x3ff0_0000_0000_0000
        },
    );
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let mut p = LN64[10];
    for c in LN64[..10].iter().rev() {
        p = *c + z * p;
    }
    let ln_m = (s + s) + s * (z * p);
    let ef = e as f64;
    ef * LN2_HI_64 + (ef * LN2_LO_64 + ln_m)
}

/// `sincos64` of SPEC.md 5.2 for a 53-bit `n`.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn sincos64(n: u64) -> (f64, f64) {
    let q = n >> 51;
    let m = n & ((1 << 51) - 1);
    let swap = m > 1 << 50;
    let m = if swap { (1 << 51) - m } else { m };
    let r = u52_to_f64(m) * f64::from_bits(0x3cc0_0000_0000_0000); // 2^-51
    let z = r * r;
    let mut ps = SIN64[8];
    for c in SIN64[..8].iter().rev() {
        ps = *c + z * ps;
    }
    let mut pc = COS64[8];
    for c in COS64[..8].iter().rev() {
        pc = *c + z * pc;
    }
    let (s, c) = (r * ps, 1.0 + z * pc);
    let (s, c) = if swap ^ (q & 1 != 0) { (c, s) } else { (s, c) };
    let s = f64::from_bits(s.to_bits() ^ ((q & 2) << 62));
    let c = f64::from_bits(c.to_bits() ^ (((q + 1) & 2) << 62));
    (s, c)
}

/// `erfinv64` of SPEC.md 5.3 with its branches, for the rare lanes outside the
/// central one.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn erfinv64_outer(w: f64) -> f64 {
    if w < 16.0 {
        horner(&ERFINV64_B, w.sqrt() - 3.25)
    } else {
        horner(&ERFINV64_C, w.sqrt() - 5.0)
    }
}

// ---------------------------------------------------------------------------
// Transforms of a batch.

/// Largest batch, in blocks, of any instruction set.
pub(super) const MAX_BLOCKS: usize = 32;

/// Intermediate values of a batch, kept across batches so that they are not
/// cleared for each one.
#[derive(Clone, Copy)]
pub(super) struct Scratch {
    f64s: [[f64; 2 * MAX_BLOCKS]; 2],
}

impl Scratch {
    pub(super) const NEW: Scratch = Scratch {
        f64s: [[0.0; 2 * MAX_BLOCKS]; 2],
    };
}

/// The 32-bit words of packed pairs, in element order (`buf` holds them on a
/// big-endian target, where they must be rearranged).
#[cfg_attr(not(opt_level_zero), inline(always))]
#[cfg_attr(target_endian = "little", allow(unused_variables))]
pub(super) fn words<'a>(pairs: &'a [u64], buf: &'a mut [u32; 4 * MAX_BLOCKS]) -> &'a [u32] {
    #[cfg(target_endian = "little")]
    {
        super::lanes::words(pairs)
    }
    #[cfg(not(target_endian = "little"))]
    {
        for (w, &p) in buf.chunks_exact_mut(2).zip(pairs) {
            w.copy_from_slice(&[p as u32, (p >> 32) as u32]);
        }
        &buf[..2 * pairs.len()]
    }
}

// No closures in the kernels: a closure is a function of its own, compiled
// without the instruction set of the `#[target_feature]` function it is written
// for, and vectors crossing that call would be slow.

// The f64 transforms run in passes over the batch, each a loop with a short
// body that the compiler vectorises: the iterations of a pass are independent,
// so the processor overlaps the long latency chains (division, square root,
// polynomials) of several vectors.

/// The f64 values of a batch: `vals[i]` from `pairs[i]` (`vals.len() == pairs.len()`).
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn values64<D: Put<f64>>(op: &Prepared64, pairs: &[u64], scratch: &mut Scratch, vals: &mut [D]) {
    let vals = &mut vals[..pairs.len()];
    match *op {
        Prepared64::Uniform { lo, w } => {
            for (v, &p) in vals.iter_mut().zip(pairs) {
                v.put(lo + w * (u53_to_f64(bits53(p)) * TWO_POW_M53));
            }
        }
        Prepared64::Normal { mean, std } => normal64(mean, std, pairs, scratch, vals),
        Prepared64::TruncNormal { p, clamp } => trunc64(p, clamp, pairs, scratch, vals),
        Prepared64::Constant(c) => {
            for v in vals.iter_mut() {
                v.put(c);
            }
        }
    }
}

/// `n = (x_even << 21) | (x_odd >> 11)`, the 53 bits of SPEC.md 6.2, from a packed pair.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn bits53(p: u64) -> u64 {
    p.rotate_left(32) >> 11
}

#[cfg_attr(not(opt_level_zero), inline(always))]
fn normal64<D: Put<f64>>(mean: f64, std: f64, pairs: &[u64], scratch: &mut Scratch, vals: &mut [D]) {
    let rad = &mut scratch.f64s[0][..pairs.len() / 2];
    for (r, p) in rad.iter_mut().zip(pairs.chunks_exact(2)) {
        let u1 = u53_to_f64(bits53(p[0]) + 1) * TWO_POW_M53;
        *r = (-2.0 * ln64(u1)).sqrt();
    }
    for ((v, &r), p) in vals.chunks_exact_mut(2).zip(rad.iter()).zip(pairs.chunks_exact(2)) {
        let (s, c) = sincos64(bits53(p[1]));
        v[0].put(mean + std * (r * c));
        v[1].put(mean + std * (r * s));
    }
}

#[cfg_attr(not(opt_level_zero), inline(always))]
fn trunc64<D: Put<f64>>(p: [f64; 4], clamp: [f64; 2], pairs: &[u64], scratch: &mut Scratch, vals: &mut [D]) {
    let [xs, ws] = &mut scratch.f64s;
    let (xs, ws) = (&mut xs[..pairs.len()], &mut ws[..pairs.len()]);
    for (x, &pr) in xs.iter_mut().zip(pairs) {
        let u = u53_to_f64(((bits53(pr) >> 1) << 1) | 1) * TWO_POW_M53;
        *x = clamp64(p[0] + p[1] * u, -EDGE64, EDGE64);
    }
    let mut outer = false;
    for (w, &x) in ws.iter_mut().zip(xs.iter()) {
        *w = -ln64((1.0 - x) * (1.0 + x));
        outer |= *w >= 6.25 || w.is_nan();
    }
    for ((v, &w), &x) in vals.iter_mut().zip(ws.iter()).zip(xs.iter()) {
        v.put(clamp64(
            p[3] + p[2] * (horner(&ERFINV64_A, w - 3.125) * x),
            clamp[0],
            clamp[1],
        ));
    }
    if outer {
        for ((v, &w), &x) in vals.iter_mut().zip(ws.iter()).zip(xs.iter()) {
            if w >= 6.25 || w.is_nan() {
                v.put(clamp64(p[3] + p[2] * (erfinv64_outer(w) * x), clamp[0], clamp[1]));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Narrowing to f16 and bf16 (round to nearest, ties to even, as the `half` crate).

/// `half::bf16::from_f32(f32::from_bits(x)).to_bits()`, branch-free.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn bf16_bits(x: u32) -> u16 {
    let nan = x & 0x7fff_ffff > 0x7f80_0000;
    let round_up = (x & 0x8000 != 0) && (x & 0x17fff != 0);
    let r = (x >> 16) + round_up as u32;
    (if nan { (x >> 16) | 0x0040 } else { r }) as u16
}

/// `half::f16::from_f32(f32::from_bits(x)).to_bits()`, branch-free (the `half`
/// crate's software conversion, which F16C matches for every non-NaN input).
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn f16_bits(x: u32) -> u16 {
    let sign = (x & 0x8000_0000) >> 16;
    let exp = (x >> 23) & 0xff;
    let man = x & 0x007f_ffff;
    // Infinity or NaN.
    let special = sign | 0x7c00 | if man != 0 { 0x0200 } else { 0 } | (man >> 13);
    // Normal f16 range: rebias the exponent, round on bit 12.
    let normal = {
        let half = sign | (exp.wrapping_sub(112) << 10) | (man >> 13);
        let round_up = (man & 0x1000 != 0) && (man & 0x2fff != 0);
        half.wrapping_add(round_up as u32)
    };
    // Subnormal f16: shift the full significand right by 126 - exp (14 ..= 24).
    let sub = {
        let shift = 126u32.wrapping_sub(exp).min(31);
        let m = man | 0x0080_0000;
        let round_bit = 1u32.wrapping_shl(shift.wrapping_sub(1));
        let round_up = (m & round_bit != 0) && (m & (round_bit.wrapping_mul(3).wrapping_sub(1)) != 0);
        sign | (m.wrapping_shr(shift) + round_up as u32)
    };
    let r = if exp == 0xff {
        special
    } else if exp >= 143 {
        sign | 0x7c00
    } else if exp >= 113 {
        normal
    } else if exp >= 102 {
        sub
    } else {
        sign
    };
    r as u16
}
