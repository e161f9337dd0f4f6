//! Bit-exact transforms from 128 random bits to parameter values.
//!
//! A [`Draw`] is an elementwise distribution with its parameters already fixed
//! (a Kaiming scheme becomes a uniform with its bound). [`Draw::prepare_f32`] and
//! [`Draw::prepare_f64`] compute every per-tensor constant once on the host, in
//! f64 with the deterministic functions of [`crate::math`]; the per-block
//! functions then use only IEEE arithmetic in the target precision. SPEC.md
//! section 4 gives each step in order.
//!
//! ```
//! use reproducible::transform::Draw;
//! let d = Draw::Uniform { a: -1.0, b: 1.0 }.prepare_f32().unwrap();
//! let v = d.block([0, u32::MAX, 1 << 31, 0x1234_5678]);
//! assert_eq!(v[0], -1.0);
//! assert!(v.iter().all(|x| (-1.0..=1.0).contains(x)));
//! ```

use crate::error::{Error, Result};
use crate::math::{erf_f64, erfinv_f32, erfinv_f64, ln_f32, ln_f64, sincos_turn_f32, sincos_turn_f64, SQRT2_64};

/// Elements of the f32 family (f32, f16, bf16) per Philox block.
pub const LANES_F32: usize = 4;
/// Elements of f64 per Philox block.
pub const LANES_F64: usize = 2;

pub(crate) const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;
pub(crate) const TWO_POW_M31: f32 = 1.0 / 2_147_483_648.0;
pub(crate) const TWO_POW_M32: f32 = 1.0 / 4_294_967_296.0;
pub(crate) const TWO_POW_M53: f64 = 1.0 / 9_007_199_254_740_992.0;
/// The largest uniform magnitude fed to the inverse error function (SPEC.md 6).
pub(crate) const EDGE32: f32 = 1.0 - TWO_POW_M24;
pub(crate) const EDGE64: f64 = 1.0 - TWO_POW_M53;

/// An elementwise distribution with fixed parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Draw {
    /// Uniform on `[a, b)` (`b` reachable through rounding only).
    Uniform {
        /// Lower bound.
        a: f64,
        /// Upper bound.
        b: f64,
    },
    /// Normal with mean and standard deviation, by Box-Muller.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (0 gives the constant `mean`).
        std: f64,
    },
    /// Normal(mean, std) truncated to `[a, b]` (absolute bounds, as PyTorch's
    /// `trunc_normal_`), by inverse CDF: no rejection, every element on its own.
    TruncNormal {
        /// Mean of the untruncated normal.
        mean: f64,
        /// Standard deviation of the untruncated normal.
        std: f64,
        /// Lower bound.
        a: f64,
        /// Upper bound.
        b: f64,
    },
    /// Every element equal to `value`; draws no random bits.
    Constant {
        /// The value.
        value: f64,
    },
}

/// A [`Draw`] with its f32 constants computed (SPEC.md 6.1): what the kernels
/// run, for f32, f16 and bf16 alike.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Prepared32 {
    /// `lo + w * u`.
    Uniform {
        /// The lower bound `a`.
        lo: f32,
        /// The width `b - a`.
        w: f32,
    },
    /// `mean + std * z`, `z` by Box-Muller.
    Normal {
        /// The mean.
        mean: f32,
        /// The standard deviation.
        std: f32,
    },
    /// `clamp(P3 + P2 erfinv(clamp(P0 + P1 u)), A, B)`.
    TruncNormal {
        /// `(P0, P1, P2, P3)`: the CDF bounds' offset and width, `std * sqrt 2`, the mean.
        p: [f32; 4],
        /// `(A, B)`: the bounds.
        clamp: [f32; 2],
    },
    /// Every element the same.
    Constant(f32),
}

/// A [`Draw`] with its f64 constants computed (SPEC.md 6.2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Prepared64 {
    /// `lo + w * u`.
    Uniform {
        /// The lower bound `a`.
        lo: f64,
        /// The width `b - a`.
        w: f64,
    },
    /// `mean + std * z`, `z` by Box-Muller.
    Normal {
        /// The mean.
        mean: f64,
        /// The standard deviation.
        std: f64,
    },
    /// `clamp(P3 + P2 erfinv(clamp(P0 + P1 u)), A, B)`.
    TruncNormal {
        /// `(P0, P1, P2, P3)`: the CDF bounds' offset and width, `std * sqrt 2`, the mean.
        p: [f64; 4],
        /// `(A, B)`: the bounds.
        clamp: [f64; 2],
    },
    /// Every element the same.
    Constant(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Uniform,
    Normal,
    TruncNormal,
    Constant,
}

/// The f64 constants of a draw, before rounding to the target precision.
fn constants(draw: &Draw) -> Result<(Kind, [f64; 4])> {
    let finite = |name: &str, v: f64| {
        if v.is_finite() {
            Ok(())
        } else {
            Err(Error::scheme(
                draw_text(draw),
                format!("{name} must be finite, got {v}"),
            ))
        }
    };
    match *draw {
        Draw::Uniform { a, b } => {
            finite("a", a)?;
            finite("b", b)?;
            if a >= b {
                return Err(Error::scheme(
                    draw_text(draw),
                    format!("need a < b, got a = {a}, b = {b}"),
                ));
            }
            finite("b - a", b - a)?;
            Ok((Kind::Uniform, [a, b - a, 0.0, 0.0]))
        }
        Draw::Normal { mean, std } => {
            finite("mean", mean)?;
            finite("std", std)?;
            if std < 0.0 {
                return Err(Error::scheme(draw_text(draw), format!("std must be >= 0, got {std}")));
            }
            Ok((Kind::Normal, [mean, std, 0.0, 0.0]))
        }
        Draw::TruncNormal { mean, std, a, b } => {
            finite("mean", mean)?;
            finite("std", std)?;
            finite("a", a)?;
            finite("b", b)?;
            if std <= 0.0 {
                return Err(Error::scheme(draw_text(draw), format!("std must be > 0, got {std}")));
            }
            if a >= b {
                return Err(Error::scheme(
                    draw_text(draw),
                    format!("need a < b, got a = {a}, b = {b}"),
                ));
            }
            // erf((x - mean) / std / sqrt 2) = 2 Phi((x - mean) / std) - 1.
            let lo = erf_f64((a - mean) / std / SQRT2_64);
            let hi = erf_f64((b - mean) / std / SQRT2_64);
            if hi <= lo {
                return Err(Error::scheme(
                    draw_text(draw),
                    "[a, b] holds no probability mass of the normal at f64 precision; move a, b or mean",
                ));
            }
            Ok((Kind::TruncNormal, [lo, hi - lo, std * SQRT2_64, mean]))
        }
        Draw::Constant { value } => {
            finite("value", value)?;
            Ok((Kind::Constant, [value, 0.0, 0.0, 0.0]))
        }
    }
}

fn draw_text(draw: &Draw) -> String {
    match *draw {
        Draw::Uniform { a, b } => format!("uniform(a={a}, b={b})"),
        Draw::Normal { mean, std } => format!("normal(mean={mean}, std={std})"),
        Draw::TruncNormal { mean, std, a, b } => format!("trunc_normal(mean={mean}, std={std}, a={a}, b={b})"),
        Draw::Constant { value } => format!("constant(val={value})"),
    }
}

impl Draw {
    /// Validates the parameters and computes the f32 constants.
    pub fn prepare_f32(&self) -> Result<Prepared32> {
        let (kind, c) = constants(self)?;
        if kind == Kind::TruncNormal {
            // In f32 the CDF bounds lose the far tails: an interval that rounds to
            // the edge of (-1, 1) would clamp every value to a bound.
            let (lo, w) = (c[0] as f32, c[1] as f32);
            if lo >= EDGE32 || lo + w <= -EDGE32 {
                return Err(Error::scheme(
                    draw_text(self),
                    "[a, b] lies more than ~5.3 std from the mean, beyond what f32 resolves; use F64 or move a, b",
                ));
            }
        }
        let p = c.map(|v| v as f32);
        if let Some(v) = p.iter().find(|v| !v.is_finite()) {
            return Err(Error::scheme(
                draw_text(self),
                format!("a constant of the f32 draw overflows f32 ({v}); use F64 or smaller parameters"),
            ));
        }
        Ok(match kind {
            Kind::Uniform => Prepared32::Uniform { lo: p[0], w: p[1] },
            Kind::Normal => Prepared32::Normal { mean: p[0], std: p[1] },
            Kind::TruncNormal => Prepared32::TruncNormal {
                p,
                clamp: self.bounds().map(|v| v as f32),
            },
            Kind::Constant => Prepared32::Constant(p[0]),
        })
    }

    /// Validates the parameters and computes the f64 constants.
    pub fn prepare_f64(&self) -> Result<Prepared64> {
        let (kind, p) = constants(self)?;
        Ok(match kind {
            Kind::Uniform => Prepared64::Uniform { lo: p[0], w: p[1] },
            Kind::Normal => Prepared64::Normal { mean: p[0], std: p[1] },
            Kind::TruncNormal => Prepared64::TruncNormal {
                p,
                clamp: self.bounds(),
            },
            Kind::Constant => Prepared64::Constant(p[0]),
        })
    }

    /// The bounds `[a, b]` that clamp a truncated normal, in the draw's own terms.
    fn bounds(&self) -> [f64; 2] {
        match *self {
            Draw::TruncNormal { a, b, .. } => [a, b],
            _ => [f64::NEG_INFINITY, f64::INFINITY],
        }
    }
}

/// Box-Muller on two words: `(r cos t, r sin t)` (SPEC.md 4.2).
#[inline(always)]
fn box_muller_f32(xa: u32, xb: u32) -> (f32, f32) {
    let u1 = (xa >> 1) as f32 * TWO_POW_M31 + TWO_POW_M32;
    let r = (-2.0 * ln_f32(u1)).sqrt();
    let (s, c) = sincos_turn_f32(xb);
    (r * c, r * s)
}

#[inline(always)]
fn bits53(hi: u32, lo: u32) -> u64 {
    (u64::from(hi) << 21) | u64::from(lo >> 11)
}

impl Prepared32 {
    /// The four f32 values of one Philox block, lane `l` for the element whose
    /// last coordinate is `4 * blk + l`: the reference the kernels reproduce.
    #[inline]
    pub fn block(&self, x: [u32; 4]) -> [f32; 4] {
        match *self {
            Prepared32::Uniform { lo, w } => x.map(|x| lo + w * ((x >> 8) as f32 * TWO_POW_M24)),
            Prepared32::Normal { mean, std } => {
                let (z0, z1) = box_muller_f32(x[0], x[1]);
                let (z2, z3) = box_muller_f32(x[2], x[3]);
                [z0, z1, z2, z3].map(|z| mean + std * z)
            }
            Prepared32::TruncNormal { p, clamp } => x.map(|x| {
                let u = (((x >> 9) << 1) | 1) as f32 * TWO_POW_M24;
                let v = (p[0] + p[1] * u).clamp(-EDGE32, EDGE32);
                (p[3] + p[2] * erfinv_f32(v)).clamp(clamp[0], clamp[1])
            }),
            Prepared32::Constant(c) => [c; 4],
        }
    }
}

impl Prepared64 {
    /// The two f64 values of one Philox block, lane `l` for the element whose
    /// last coordinate is `2 * blk + l`: the reference the kernels reproduce.
    #[inline]
    pub fn block(&self, x: [u32; 4]) -> [f64; 2] {
        let n0 = bits53(x[0], x[1]);
        let n1 = bits53(x[2], x[3]);
        match *self {
            Prepared64::Uniform { lo, w } => [n0, n1].map(|n| lo + w * (n as f64 * TWO_POW_M53)),
            Prepared64::Normal { mean, std } => {
                let u1 = (n0 + 1) as f64 * TWO_POW_M53;
                let r = (-2.0 * ln_f64(u1)).sqrt();
                let (s, c) = sincos_turn_f64(n1);
                [mean + std * (r * c), mean + std * (r * s)]
            }
            Prepared64::TruncNormal { p, clamp } => [n0, n1].map(|n| {
                let u = (((n >> 1) << 1) | 1) as f64 * TWO_POW_M53;
                let v = (p[0] + p[1] * u).clamp(-EDGE64, EDGE64);
                (p[3] + p[2] * erfinv_f64(v)).clamp(clamp[0], clamp[1])
            }),
            Prepared64::Constant(c) => [c; 2],
        }
    }
}
