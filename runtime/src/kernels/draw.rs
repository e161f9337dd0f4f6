//! The f64 transforms of SPEC.md section 6.2 on a batch of blocks, written so
//! that the compiler vectorises them: no branches (selects instead), no calls,
//! and loops over fixed-size arrays; the constants of the f32 family
//! (`draw32.rs`); the scalar rounding to f16 and bf16.
//!
//! Each function performs exactly the IEEE operations of the scalar reference
//! ([`crate::math`], [`crate::transform`]) in the same order; only the control
//! flow differs (both sides of a data-dependent choice are computed and one is
//! selected, or a rare branch is redone for the lanes that need it). The
//! compiler may not reorder or fuse floating-point operations, so every
//! instruction set gives the same bits; the tests compare all of them with the
//! reference.
#![allow(clippy::excessive_precision)]

use super::{Op64, Put};

pub(super) const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;
pub(super) const TWO_POW_M31: f32 = 1.0 / 2_147_483_648.0;
pub(super) const TWO_POW_M32: f32 = 1.0 / 4_294_967_296.0;
const TWO_POW_M53: f64 = 1.0 / 9_007_199_254_740_992.0;
pub(super) const EDGE32: f32 = 1.0 - TWO_POW_M24;
const EDGE64: f64 = 1.0 - TWO_POW_M53;

// ---------------------------------------------------------------------------
// Elementary functions, one lane at a time (SPEC.md 5.1-5.3).

pub(super) const SIN32: [f32; 5] = [
    f32::from_bits(0x3fc9_0fdb),
    f32::from_bits(0xbf25_5de7),
    f32::from_bits(0x3da3_35e3),
    f32::from_bits(0xbb99_6966),
    f32::from_bits(0x3928_3c1a),
];
pub(super) const COS32: [f32; 5] = [
    f32::from_bits(0xbf9d_e9e6),
    f32::from_bits(0x3e81_e0f8),
    f32::from_bits(0xbcaa_e9e4),
    f32::from_bits(0x3a70_fa83),
    f32::from_bits(0xb7d3_68f9),
];
pub(super) const LN32: [f32; 4] = [
    f32::from_bits(0x3f2a_aaab),
    f32::from_bits(0x3ecc_cccd),
    f32::from_bits(0x3e92_4925),
    f32::from_bits(0x3e63_8e39),
];
pub(super) const LN2_HI_32: f32 = f32::from_bits(0x3f31_7180);
pub(super) const LN2_LO_32: f32 = f32::from_bits(0x3717_f7d1);
pub(super) const ERFINV32_P: [f32; 9] = [
    2.810_226_36e-08,
    3.432_739_39e-07,
    -3.523_387_7e-06,
    -4.391_506_54e-06,
    0.000_218_580_87,
    -0.001_253_725_03,
    -0.004_177_681_64,
    0.246_640_727,
    1.501_409_41,
];
pub(super) const ERFINV32_Q: [f32; 9] = [
    -0.000_200_214_257,
    0.000_100_950_558,
    0.001_349_343_22,
    -0.003_673_428_44,
    0.005_739_507_73,
    -0.007_622_461_3,
    0.009_438_870_47,
    1.001_674_06,
    2.832_976_82,
];

const SIN64: [f64; 9] = [
    f64::from_bits(0x3ff9_21fb_5444_2d18),
    f64::from_bits(0xbfe4_abbc_e625_be53),
    f64::from_bits(0x3fb4_66bc_6775_aae2),
    f64::from_bits(0xbf73_2d2c_ce62_bd86),
    f64::from_bits(0x3f25_0783_487e_e782),
    f64::from_bits(0xbece_3074_fde8_871f),
    f64::from_bits(0x3e6e_8f43_4d01_8d63),
    f64::from_bits(0xbe06_fadb_9f15_5744),
    f64::from_bits(0x3d9a_aec3_2af9_3359),
];
const COS64: [f64; 9] = [
    f64::from_bits(0xbff3_bd3c_c9be_45de),
    f64::from_bits(0x3fd0_3c1f_081b_5ac4),
    f64::from_bits(0xbf95_5d3c_7e3c_bffa),
    f64::from_bits(0x3f4e_1f50_6891_babb),
    f64::from_bits(0xbefa_6d1f_2a20_4a8c),
    f64::from_bits(0x3e9f_9d38_a376_3cc3),
    f64::from_bits(0xbe3b_6e24_f44b_128f),
    f64::from_bits(0x3dd2_0c62_c2f2_d7f5),
    f64::from_bits(0xbd62_a0c5_91af_8314),
];
const LN64: [f64; 11] = [
    f64::from_bits(0x3fe5_5555_5555_5555),
    f64::from_bits(0x3fd9_9999_9999_999a),
    f64::from_bits(0x3fd2_4924_9249_2492),
    f64::from_bits(0x3fcc_71c7_1c71_c71c),
    f64::from_bits(0x3fc7_45d1_745d_1746),
    f64::from_bits(0x3fc3_b13b_13b1_3b14),
    f64::from_bits(0x3fc1_1111_1111_1111),
    f64::from_bits(0x3fbe_1e1e_1e1e_1e1e),
    f64::from_bits(0x3fba_f286_bca1_af28),
    f64::from_bits(0x3fb8_6186_1861_8618),
    f64::from_bits(0x3fb6_42c8_590b_2164),
];
const LN2_HI_64: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO_64: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const ERFINV64_A: [f64; 23] = [
    -3.644_412_064_017_819_699_6e-21,
    -1.685_059_138_182_016_589e-19,
    1.285_848_071_525_640_016_7e-18,
    1.115_787_767_802_518_096e-17,
    -1.333_171_662_854_620_906e-16,
    2.097_276_787_596_856_163_7e-17,
    6.637_638_134_358_323_832_5e-15,
    -4.054_566_272_975_206_863_9e-14,
    -8.151_934_197_605_472_152_2e-14,
    2.633_509_315_308_232_297_7e-12,
    -1.297_513_325_345_353_249_8e-11,
    -5.415_412_054_294_627_931_7e-11,
    1.051_212_273_321_532_285e-09,
    -4.112_633_980_346_983_697_6e-09,
    -2.907_036_995_788_200_508_6e-08,
    4.234_787_782_793_240_351_8e-07,
    -1.365_469_200_083_467_864_5e-06,
    -1.388_252_336_278_646_871_9e-05,
    0.000_186_734_208_034_057_135_2,
    -0.000_740_702_534_166_266_975_12,
    -0.006_033_670_871_430_149_053_3,
    0.240_158_182_425_589_616_93,
    1.653_654_562_683_102_735_6,
];
const ERFINV64_B: [f64; 19] = [
    2.213_737_692_177_578_704_9e-09,
    9.075_656_193_888_539_097_9e-08,
    -2.751_740_629_706_454_542_8e-07,
    1.823_962_921_438_922_775_5e-08,
    1.502_740_396_890_982_762_7e-06,
    -4.013_867_526_981_545_969e-06,
    2.923_444_908_995_544_604_4e-06,
    1.247_530_448_167_177_872_3e-05,
    -4.731_822_900_905_573_398_1e-05,
    6.828_485_145_957_317_544_8e-05,
    2.403_111_038_709_789_399_9e-05,
    -0.000_355_037_520_362_847_479_6,
    0.000_953_289_379_737_380_497_03,
    -0.001_688_275_556_023_504_731_3,
    0.002_491_442_096_107_850_806_6,
    -0.003_751_208_507_569_241_210_7,
    0.005_370_914_553_590_063_617,
    1.005_258_967_694_159_233_4,
    3.083_885_610_492_220_763_5,
];
const ERFINV64_C: [f64; 17] = [
    -2.710_992_061_643_857_324_3e-11,
    -2.555_641_816_996_525_205_5e-10,
    1.507_657_269_350_054_808_3e-09,
    -3.789_465_440_126_736_993_7e-09,
    7.615_701_208_078_339_380_4e-09,
    -1.496_002_662_714_924_047_8e-08,
    2.914_795_345_090_108_082_6e-08,
    -6.771_199_775_845_233_949_8e-08,
    2.290_048_222_802_665_471_7e-07,
    -9.929_827_294_231_700_253_9e-07,
    4.526_062_597_223_153_703_9e-06,
    -1.968_177_810_553_167_056_7e-05,
    7.599_527_703_001_776_113_9e-05,
    -0.000_215_030_119_300_444_773_47,
    -0.000_138_719_318_336_231_220_26,
    1.010_300_464_864_534_397_7,
    4.849_906_401_408_584_422_1,
];

#[inline(always)]
fn clamp64(v: f64, lo: f64, hi: f64) -> f64 {
    let v = if v < lo { lo } else { v };
    if v > hi {
        hi
    } else {
        v
    }
}

/// `f64(n)` for `n < 2^52`, exactly: the bits of `2^52 + n`, minus `2^52`.
#[inline(always)]
fn u52_to_f64(n: u64) -> f64 {
    f64::from_bits(n | 0x4330_0000_0000_0000) - 4_503_599_627_370_496.0
}

/// `f64(n)` for `n <= 2^53`, exactly: `f64(n >> 32) * 2^32 + f64(n & 0xffffffff)`,
/// every step exact because the result is representable.
#[inline(always)]
fn u53_to_f64(n: u64) -> f64 {
    u52_to_f64(n >> 32) * 4_294_967_296.0 + u52_to_f64(n & 0xffff_ffff)
}

/// `ln64` of SPEC.md 5.1.
#[inline(always)]
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
#[inline(always)]
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

#[inline(always)]
fn horner64<const N: usize>(k: &[f64; N], w: f64) -> f64 {
    let mut p = k[0];
    for c in &k[1..] {
        p = *c + p * w;
    }
    p
}

/// `erfinv64` of SPEC.md 5.3 with its branches, for the rare lanes outside the
/// central one.
#[inline(always)]
fn erfinv64_outer(w: f64) -> f64 {
    if w < 16.0 {
        horner64(&ERFINV64_B, w.sqrt() - 3.25)
    } else {
        horner64(&ERFINV64_C, w.sqrt() - 5.0)
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
#[inline(always)]
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
#[inline(always)]
pub(super) fn values64<D: Put<f64>>(op: &Op64, pairs: &[u64], scratch: &mut Scratch, vals: &mut [D]) {
    let vals = &mut vals[..pairs.len()];
    match *op {
        Op64::Uniform { lo, w } => {
            for (v, &p) in vals.iter_mut().zip(pairs) {
                v.put(lo + w * (u53_to_f64(bits53(p)) * TWO_POW_M53));
            }
        }
        Op64::Normal { mean, std } => normal64(mean, std, pairs, scratch, vals),
        Op64::TruncNormal { p, clamp } => trunc64(p, clamp, pairs, scratch, vals),
        Op64::Constant(c) => {
            for v in vals.iter_mut() {
                v.put(c);
            }
        }
    }
}

/// `n = (x_even << 21) | (x_odd >> 11)`, the 53 bits of SPEC.md 6.2, from a packed pair.
#[inline(always)]
fn bits53(p: u64) -> u64 {
    p.rotate_left(32) >> 11
}

#[inline(always)]
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

#[inline(always)]
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
            p[3] + p[2] * (horner64(&ERFINV64_A, w - 3.125) * x),
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
#[inline(always)]
pub(super) fn bf16_bits(x: u32) -> u16 {
    let nan = x & 0x7fff_ffff > 0x7f80_0000;
    let round_up = (x & 0x8000 != 0) && (x & 0x17fff != 0);
    let r = (x >> 16) + round_up as u32;
    (if nan { (x >> 16) | 0x0040 } else { r }) as u16
}

/// `half::f16::from_f32(f32::from_bits(x)).to_bits()`, branch-free (the `half`
/// crate's software conversion, which F16C matches for every non-NaN input).
#[inline(always)]
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
