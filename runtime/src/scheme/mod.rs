//! Init schemes with `torch.nn.init` parity: same distributions, gains and fan rules.
//!
//! A [`Scheme`] says how a parameter is initialised, independently of its shape.
//! [`Scheme::plan`] combines it with a shape (fans, gains) into a [`Plan`]: an
//! elementwise [`Draw`] or one of the structured fills. Every scheme has a text
//! form, PyTorch's function name without the trailing underscore and its keyword
//! arguments (`kaiming_uniform(a=2.23606797749979, mode=fan_in,
//! nonlinearity=leaky_relu)`), which [`std::str::FromStr`] parses and
//! [`std::fmt::Display`] writes back exactly, so the text form is what lockfiles,
//! checkpoint metadata and `repro sample --init` use.
//!
//! ```
//! use reproducible::scheme::{kaiming_uniform, Scheme};
//! let s: Scheme = "kaiming_uniform(a=2.23606797749979)".parse().unwrap();
//! assert_eq!(s, kaiming_uniform().a(5f64.sqrt()));
//! assert_eq!(s.to_string().parse::<Scheme>().unwrap(), s);
//! ```

pub mod presets;
mod text;

pub use text::{names, signature, Arg, Kind, Signature};

use crate::error::{Error, Result};
use crate::transform::Draw;

/// Which fan a Kaiming scheme preserves the variance of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FanMode {
    /// Preserve the variance of the activations in the forward pass.
    FanIn,
    /// Preserve the variance of the gradients in the backward pass.
    FanOut,
}

/// The nonlinearities `torch.nn.init.calculate_gain` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Nonlinearity {
    /// Identity: gain 1.
    Linear,
    /// Any convolution (`conv1d`, `conv2d`, `conv3d`, `conv_transpose*d`): gain 1.
    Conv,
    /// Sigmoid: gain 1.
    Sigmoid,
    /// Tanh: gain 5/3.
    Tanh,
    /// ReLU: gain sqrt(2).
    Relu,
    /// Leaky ReLU: gain sqrt(2 / (1 + slope^2)); the slope is the scheme's `a`.
    LeakyRelu,
    /// SELU: gain 3/4.
    Selu,
}

/// How a parameter is initialised: a `torch.nn.init` function and its arguments.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Scheme {
    /// `uniform_(a, b)`: U(a, b).
    Uniform {
        /// Lower bound.
        a: f64,
        /// Upper bound.
        b: f64,
    },
    /// `normal_(mean, std)`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// `trunc_normal_(mean, std, a, b)`: bounds are absolute, not in units of std.
    TruncNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation of the untruncated normal.
        std: f64,
        /// Lower bound.
        a: f64,
        /// Upper bound.
        b: f64,
    },
    /// `constant_(val)`.
    Constant {
        /// The value.
        val: f64,
    },
    /// `zeros_`.
    Zeros,
    /// `ones_`.
    Ones,
    /// `eye_`: the identity of a 2-D tensor.
    Eye,
    /// `dirac_(groups)`: the identity convolution of a 3-, 4- or 5-D tensor.
    Dirac {
        /// Number of groups the output channels split into.
        groups: usize,
    },
    /// `xavier_uniform_(gain)`.
    XavierUniform {
        /// Scaling factor.
        gain: f64,
    },
    /// `xavier_normal_(gain)`.
    XavierNormal {
        /// Scaling factor.
        gain: f64,
    },
    /// `kaiming_uniform_(a, mode, nonlinearity)`.
    KaimingUniform {
        /// Negative slope of the leaky ReLU that follows (used only with `LeakyRelu`).
        a: f64,
        /// Which fan to preserve.
        mode: FanMode,
        /// The nonlinearity that follows.
        nonlinearity: Nonlinearity,
    },
    /// `kaiming_normal_(a, mode, nonlinearity)`.
    KaimingNormal {
        /// Negative slope of the leaky ReLU that follows (used only with `LeakyRelu`).
        a: f64,
        /// Which fan to preserve.
        mode: FanMode,
        /// The nonlinearity that follows.
        nonlinearity: Nonlinearity,
    },
    /// `orthogonal_(gain)`: a (semi-)orthogonal matrix from the QR of a normal draw.
    Orthogonal {
        /// Scaling factor.
        gain: f64,
    },
    /// `sparse_(sparsity, std)`: normal(0, std) with a fraction of each column zeroed.
    Sparse {
        /// Fraction of each column set to zero.
        sparsity: f64,
        /// Standard deviation of the non-zero values.
        std: f64,
    },
}

/// A scheme fixed to a shape: what the generator actually does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Plan {
    /// Every element drawn on its own from its coordinates.
    Elementwise(Draw),
    /// Identity matrix.
    Eye,
    /// Identity convolution.
    Dirac {
        /// Number of groups.
        groups: usize,
    },
    /// Orthogonal matrix: the whole tensor is one computation.
    Orthogonal {
        /// Scaling factor.
        gain: f64,
    },
    /// Sparse normal: the zero pattern of a column depends on the whole column.
    Sparse {
        /// Fraction of each column set to zero.
        sparsity: f64,
        /// Standard deviation of the non-zero values.
        std: f64,
    },
}

/// The largest `|z|` Box-Muller gives in f32: `sqrt(-2 ln 2^-32)` (u1 >= 2^-32;
/// SPEC.md 6.1), rounded up.
const BOX_MULLER_32: f64 = 6.661;
/// The same in f64: `sqrt(-2 ln 2^-53)` (u1 >= 2^-53; SPEC.md 6.2), rounded up.
const BOX_MULLER_64: f64 = 8.572;
/// The largest `|erfinv(v)| * sqrt 2` the truncated normal reaches: at
/// `v = 1 - 2^-24` in f32 (5.42) and `1 - 2^-53` in f64 (8.30), rounded up.
const TRUNC_32: f64 = 5.5;
const TRUNC_64: f64 = 8.4;

impl Plan {
    /// Whether each element can be computed from its coordinates alone, so a
    /// slice costs only its own size.
    pub fn is_elementwise(&self) -> bool {
        matches!(self, Plan::Elementwise(_) | Plan::Eye | Plan::Dirac { .. })
    }

    /// An upper bound of `|value|` over every value the plan can give, drawn
    /// in f64 (`f64`) or in f32 (SPEC.md 7: a scheme whose bound exceeds the
    /// largest finite value of the element type is an error, whatever the
    /// draws happen to be).
    pub fn bound(&self, f64: bool) -> f64 {
        let (bm, tn) = if f64 {
            (BOX_MULLER_64, TRUNC_64)
        } else {
            (BOX_MULLER_32, TRUNC_32)
        };
        match *self {
            Plan::Elementwise(Draw::Uniform { a, b }) => a.abs().max(b.abs()),
            Plan::Elementwise(Draw::Normal { mean, std }) => mean.abs() + std * bm,
            Plan::Elementwise(Draw::TruncNormal { mean, std, a, b }) => a.abs().max(b.abs()).min(mean.abs() + std * tn),
            Plan::Elementwise(Draw::Constant { value }) => value.abs(),
            Plan::Eye | Plan::Dirac { .. } => 1.0,
            // Entries of an orthonormal matrix are at most 1 in magnitude.
            Plan::Orthogonal { gain } => gain.abs(),
            Plan::Sparse { std, .. } => std * bm,
        }
    }
}

/// `torch.nn.init.calculate_gain(nonlinearity, param)`.
///
/// `param` is the negative slope for [`Nonlinearity::LeakyRelu`] (default 0.01)
/// and must be `None` for the others.
pub fn calculate_gain(nonlinearity: Nonlinearity, param: Option<f64>) -> Result<f64> {
    match nonlinearity {
        Nonlinearity::LeakyRelu => {
            let slope = param.unwrap_or(0.01);
            if !slope.is_finite() {
                return Err(Error::scheme(
                    "calculate_gain(leaky_relu)",
                    format!("negative slope must be finite, got {slope}"),
                ));
            }
            Ok((2.0 / (1.0 + slope * slope)).sqrt())
        }
        other => {
            if let Some(p) = param {
                return Err(Error::scheme(
                    format!("calculate_gain({})", other.name()),
                    format!("takes no parameter, got {p}"),
                ));
            }
            Ok(match other {
                Nonlinearity::Linear | Nonlinearity::Conv | Nonlinearity::Sigmoid => 1.0,
                Nonlinearity::Tanh => 5.0 / 3.0,
                Nonlinearity::Relu => 2.0f64.sqrt(),
                Nonlinearity::Selu => 3.0 / 4.0,
                Nonlinearity::LeakyRelu => unreachable!("handled above"),
            })
        }
    }
}

/// `(fan_in, fan_out)` of a weight, as `torch.nn.init._calculate_fan_in_and_fan_out`:
/// dimension 1 times the receptive field, and dimension 0 times it.
pub fn fans(shape: &[usize]) -> Result<(usize, usize)> {
    if shape.len() < 2 {
        return Err(Error::shape(
            shape,
            "fan in and fan out need at least 2 dimensions (use uniform or normal for biases)",
        ));
    }
    let receptive: usize = shape[2..].iter().product();
    Ok((shape[1] * receptive, shape[0] * receptive))
}

impl Scheme {
    /// Whether the scheme's values are constants that read no random bits
    /// (`constant`, `zeros`, `ones`).
    pub(crate) fn draws_nothing(&self) -> bool {
        matches!(self, Scheme::Constant { .. } | Scheme::Zeros | Scheme::Ones)
    }

    /// Fixes the scheme to `shape`: validates parameters and rank, computes fans
    /// and gains in f64 exactly as PyTorch's formulas do.
    pub fn plan(&self, shape: &[usize]) -> Result<Plan> {
        let bad = |reason: String| Err(Error::scheme(self, reason));
        let need_rank = |ok: bool, what: &str| -> Result<()> {
            if ok {
                Ok(())
            } else {
                Err(Error::scheme(self, format!("needs {what}, got shape {shape:?}")))
            }
        };
        let nonneg_finite = |name: &str, v: f64| -> Result<()> {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::scheme(self, format!("{name} must be finite and >= 0, got {v}")))
            }
        };
        let plan = match *self {
            Scheme::Uniform { a, b } => Plan::Elementwise(Draw::Uniform { a, b }),
            Scheme::Normal { mean, std } => Plan::Elementwise(Draw::Normal { mean, std }),
            Scheme::TruncNormal { mean, std, a, b } => Plan::Elementwise(Draw::TruncNormal { mean, std, a, b }),
            Scheme::Constant { val } => Plan::Elementwise(Draw::Constant { value: val }),
            Scheme::Zeros => Plan::Elementwise(Draw::Constant { value: 0.0 }),
            Scheme::Ones => Plan::Elementwise(Draw::Constant { value: 1.0 }),
            Scheme::Eye => {
                need_rank(shape.len() == 2, "a 2-D tensor")?;
                Plan::Eye
            }
            Scheme::Dirac { groups } => {
                need_rank((3..=5).contains(&shape.len()), "a 3-, 4- or 5-D tensor")?;
                if groups == 0 || !shape[0].is_multiple_of(groups) {
                    return bad(format!(
                        "dimension 0 ({}) must be divisible by groups ({groups})",
                        shape[0]
                    ));
                }
                Plan::Dirac { groups }
            }
            Scheme::XavierUniform { gain } | Scheme::XavierNormal { gain } => {
                nonneg_finite("gain", gain)?;
                let (fan_in, fan_out) = fans(shape).map_err(|e| Error::scheme(self, e.to_string()))?;
                let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
                if matches!(self, Scheme::XavierUniform { .. }) {
                    let bound = 3.0f64.sqrt() * std;
                    uniform_or_zero(bound)
                } else {
                    Plan::Elementwise(Draw::Normal { mean: 0.0, std })
                }
            }
            Scheme::KaimingUniform { a, mode, nonlinearity } | Scheme::KaimingNormal { a, mode, nonlinearity } => {
                let (fan_in, fan_out) = fans(shape).map_err(|e| Error::scheme(self, e.to_string()))?;
                let fan = match mode {
                    FanMode::FanIn => fan_in,
                    FanMode::FanOut => fan_out,
                };
                let param = (nonlinearity == Nonlinearity::LeakyRelu).then_some(a);
                let gain = calculate_gain(nonlinearity, param).map_err(|e| Error::scheme(self, e.to_string()))?;
                let std = gain / (fan as f64).sqrt();
                if matches!(self, Scheme::KaimingUniform { .. }) {
                    uniform_or_zero(3.0f64.sqrt() * std)
                } else {
                    Plan::Elementwise(Draw::Normal { mean: 0.0, std })
                }
            }
            Scheme::Orthogonal { gain } => {
                need_rank(shape.len() >= 2, "at least 2 dimensions")?;
                if !gain.is_finite() {
                    return bad(format!("gain must be finite, got {gain}"));
                }
                Plan::Orthogonal { gain }
            }
            Scheme::Sparse { sparsity, std } => {
                need_rank(shape.len() == 2, "a 2-D tensor")?;
                if !(0.0..=1.0).contains(&sparsity) {
                    return bad(format!("sparsity must be in [0, 1], got {sparsity}"));
                }
                nonneg_finite("std", std)?;
                Plan::Sparse { sparsity, std }
            }
        };
        // Surface parameter errors of elementwise draws now, named by this scheme.
        if let Plan::Elementwise(draw) = plan {
            draw.prepare_f64().map_err(|e| match e {
                Error::Scheme { reason, .. } => Error::scheme(self, reason),
                other => other,
            })?;
        }
        Ok(plan)
    }

    /// The text name of the scheme (PyTorch's function name without `_`).
    pub fn name(&self) -> &'static str {
        match self {
            Scheme::Uniform { .. } => "uniform",
            Scheme::Normal { .. } => "normal",
            Scheme::TruncNormal { .. } => "trunc_normal",
            Scheme::Constant { .. } => "constant",
            Scheme::Zeros => "zeros",
            Scheme::Ones => "ones",
            Scheme::Eye => "eye",
            Scheme::Dirac { .. } => "dirac",
            Scheme::XavierUniform { .. } => "xavier_uniform",
            Scheme::XavierNormal { .. } => "xavier_normal",
            Scheme::KaimingUniform { .. } => "kaiming_uniform",
            Scheme::KaimingNormal { .. } => "kaiming_normal",
            Scheme::Orthogonal { .. } => "orthogonal",
            Scheme::Sparse { .. } => "sparse",
        }
    }
}

/// A zero gain gives a zero bound; U(0, 0) is the constant 0, as in PyTorch.
fn uniform_or_zero(bound: f64) -> Plan {
    if bound == 0.0 {
        Plan::Elementwise(Draw::Constant { value: 0.0 })
    } else {
        Plan::Elementwise(Draw::Uniform { a: -bound, b: bound })
    }
}

// ---- constructors, with PyTorch's defaults ----

/// `uniform_(a, b)`.
pub fn uniform(a: f64, b: f64) -> Scheme {
    Scheme::Uniform { a, b }
}

/// `normal_(mean, std)`.
pub fn normal(mean: f64, std: f64) -> Scheme {
    Scheme::Normal { mean, std }
}

/// `trunc_normal_(mean, std, a, b)`, bounds absolute.
pub fn trunc_normal(mean: f64, std: f64, a: f64, b: f64) -> Scheme {
    Scheme::TruncNormal { mean, std, a, b }
}

/// `constant_(val)`.
pub fn constant(val: f64) -> Scheme {
    Scheme::Constant { val }
}

/// `zeros_`.
pub fn zeros() -> Scheme {
    Scheme::Zeros
}

/// `ones_`.
pub fn ones() -> Scheme {
    Scheme::Ones
}

/// `eye_`.
pub fn eye() -> Scheme {
    Scheme::Eye
}

/// `dirac_(groups=1)`; set groups with [`Scheme::groups`].
pub fn dirac() -> Scheme {
    Scheme::Dirac { groups: 1 }
}

/// `xavier_uniform_(gain=1)`; set the gain with [`Scheme::gain`].
pub fn xavier_uniform() -> Scheme {
    Scheme::XavierUniform { gain: 1.0 }
}

/// `xavier_normal_(gain=1)`; set the gain with [`Scheme::gain`].
pub fn xavier_normal() -> Scheme {
    Scheme::XavierNormal { gain: 1.0 }
}

/// `kaiming_uniform_(a=0, mode='fan_in', nonlinearity='leaky_relu')`.
pub fn kaiming_uniform() -> Scheme {
    Scheme::KaimingUniform {
        a: 0.0,
        mode: FanMode::FanIn,
        nonlinearity: Nonlinearity::LeakyRelu,
    }
}

/// `kaiming_normal_(a=0, mode='fan_in', nonlinearity='leaky_relu')`.
pub fn kaiming_normal() -> Scheme {
    Scheme::KaimingNormal {
        a: 0.0,
        mode: FanMode::FanIn,
        nonlinearity: Nonlinearity::LeakyRelu,
    }
}

/// `orthogonal_(gain=1)`.
pub fn orthogonal() -> Scheme {
    Scheme::Orthogonal { gain: 1.0 }
}

/// `sparse_(sparsity, std=0.01)`.
pub fn sparse(sparsity: f64) -> Scheme {
    Scheme::Sparse { sparsity, std: 0.01 }
}

impl Scheme {
    /// Sets `a` of a Kaiming scheme (the leaky ReLU slope). No effect on others.
    #[must_use]
    pub fn a(mut self, value: f64) -> Self {
        if let Scheme::KaimingUniform { a, .. } | Scheme::KaimingNormal { a, .. } = &mut self {
            *a = value;
        }
        self
    }

    /// Sets the fan mode of a Kaiming scheme. No effect on others.
    #[must_use]
    pub fn mode(mut self, value: FanMode) -> Self {
        if let Scheme::KaimingUniform { mode, .. } | Scheme::KaimingNormal { mode, .. } = &mut self {
            *mode = value;
        }
        self
    }

    /// Sets the nonlinearity of a Kaiming scheme. No effect on others.
    #[must_use]
    pub fn nonlinearity(mut self, value: Nonlinearity) -> Self {
        if let Scheme::KaimingUniform { nonlinearity, .. } | Scheme::KaimingNormal { nonlinearity, .. } = &mut self {
            *nonlinearity = value;
        }
        self
    }

    /// Sets the gain of a Xavier or orthogonal scheme. No effect on others.
    #[must_use]
    pub fn gain(mut self, value: f64) -> Self {
        if let Scheme::XavierUniform { gain } | Scheme::XavierNormal { gain } | Scheme::Orthogonal { gain } = &mut self
        {
            *gain = value;
        }
        self
    }

    /// Sets the groups of a Dirac scheme. No effect on others.
    #[must_use]
    pub fn groups(mut self, value: usize) -> Self {
        if let Scheme::Dirac { groups } = &mut self {
            *groups = value;
        }
        self
    }

    /// Sets the std of a sparse scheme. No effect on others.
    #[must_use]
    pub fn std(mut self, value: f64) -> Self {
        if let Scheme::Sparse { std, .. } = &mut self {
            *std = value;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gains_match_pytorch() {
        assert_eq!(calculate_gain(Nonlinearity::Linear, None).unwrap(), 1.0);
        assert_eq!(calculate_gain(Nonlinearity::Tanh, None).unwrap(), 5.0 / 3.0);
        assert_eq!(calculate_gain(Nonlinearity::Relu, None).unwrap(), 2f64.sqrt());
        assert_eq!(calculate_gain(Nonlinearity::Selu, None).unwrap(), 0.75);
        assert_eq!(
            calculate_gain(Nonlinearity::LeakyRelu, None).unwrap(),
            (2.0 / 1.0001f64).sqrt()
        );
        assert_eq!(
            calculate_gain(Nonlinearity::LeakyRelu, Some(5f64.sqrt())).unwrap(),
            (2.0 / 6.000000000000001f64).sqrt()
        );
        assert!(calculate_gain(Nonlinearity::Relu, Some(0.1)).is_err());
    }

    #[test]
    fn fans_match_pytorch() {
        assert_eq!(fans(&[64, 32]).unwrap(), (32, 64));
        assert_eq!(fans(&[64, 32, 3, 3]).unwrap(), (32 * 9, 64 * 9));
        assert!(fans(&[64]).unwrap_err().to_string().contains("at least 2 dimensions"));
    }

    #[test]
    fn every_scheme_round_trips_through_text() {
        let all = [
            uniform(-0.1, 0.25),
            normal(0.0, 0.02),
            trunc_normal(0.0, 0.02, -0.04, 0.04),
            constant(0.5),
            zeros(),
            ones(),
            eye(),
            dirac().groups(2),
            xavier_uniform().gain(5.0 / 3.0),
            xavier_normal(),
            kaiming_uniform().a(5f64.sqrt()),
            kaiming_normal().mode(FanMode::FanOut).nonlinearity(Nonlinearity::Relu),
            orthogonal().gain(2f64.sqrt()),
            sparse(0.1).std(0.02),
        ];
        assert_eq!(all.len(), names().count());
        for s in all {
            let text = s.to_string();
            assert_eq!(text.parse::<Scheme>().unwrap(), s, "{text}");
        }
    }

    #[test]
    fn text_form_accepts_pytorch_spellings() {
        assert_eq!("normal(0.0, 1.0)".parse::<Scheme>().unwrap(), normal(0.0, 1.0));
        assert_eq!("normal_".parse::<Scheme>().unwrap(), normal(0.0, 1.0));
        assert_eq!(
            "kaiming_normal_(mode='fan_out', nonlinearity=\"relu\")"
                .parse::<Scheme>()
                .unwrap(),
            kaiming_normal().mode(FanMode::FanOut).nonlinearity(Nonlinearity::Relu)
        );
        assert_eq!(
            "trunc_normal(std=0.02)".parse::<Scheme>().unwrap(),
            trunc_normal(0.0, 0.02, -2.0, 2.0)
        );
    }

    #[test]
    fn text_errors_name_the_problem() {
        let e = |s: &str| s.parse::<Scheme>().unwrap_err().to_string();
        assert!(e("kaiming_unifrom()").contains("did you mean `kaiming_uniform`"));
        assert!(e("normal(mean=0, sdt=1)").contains("did you mean `std`"));
        assert!(e("normal(std=x)").contains("`std` must be a number, got `x`"));
        assert!(e("constant()").contains("needs argument `val`"));
        assert!(e("normal(0, 1, 2)").contains("at most 2"));
        assert!(e("normal(std=1, 0)").contains("positional argument after a keyword"));
        assert!(e("normal(0, mean=1)").contains("given twice"));
        assert!(e("normal(0, 1").contains("expected `)`"));
        assert!(e("kaiming_uniform(mode=fan_middle)").contains("fan_in or fan_out"));
    }

    #[test]
    fn invalid_parameters_are_errors_naming_the_scheme() {
        let e = |s: Scheme, shape: &[usize]| s.plan(shape).unwrap_err().to_string();
        assert!(e(normal(0.0, -1.0), &[3]).contains("std must be >= 0, got -1"));
        assert!(e(uniform(1.0, 1.0), &[3]).contains("need a < b"));
        assert!(e(trunc_normal(0.0, 1.0, 2.0, -2.0), &[3]).contains("need a < b"));
        assert!(e(trunc_normal(0.0, 1.0, 40.0, 41.0), &[3]).contains("no probability mass"));
        assert!(e(eye(), &[3, 3, 3]).contains("needs a 2-D tensor"));
        assert!(e(dirac().groups(3), &[4, 4, 3]).contains("divisible by groups"));
        assert!(e(kaiming_uniform(), &[3]).contains("at least 2 dimensions"));
        assert!(e(sparse(1.5), &[3, 3]).contains("sparsity must be in [0, 1]"));
    }

    #[test]
    fn kaiming_and_xavier_bounds_follow_pytorch_formulas() {
        // nn.Linear(in=64): kaiming_uniform_(a=sqrt(5)) gives bound 1/sqrt(64) up to rounding.
        let Plan::Elementwise(Draw::Uniform { a, b }) = kaiming_uniform().a(5f64.sqrt()).plan(&[32, 64]).unwrap()
        else {
            panic!("expected a uniform draw");
        };
        assert!((b - 0.125).abs() < 1e-15 && a == -b);
        let Plan::Elementwise(Draw::Normal { std, .. }) = xavier_normal().plan(&[30, 10]).unwrap() else {
            panic!("expected a normal draw");
        };
        assert_eq!(std, (2.0f64 / 40.0).sqrt());
    }
}
