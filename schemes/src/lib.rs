//! The table of init schemes: each `torch.nn.init` scheme's name, its
//! arguments in PyTorch's order with their kinds and defaults (SPEC.md 8).
//!
//! The runtime's text form (`reproducible::scheme`) and the compile-time check
//! of `#[param(init = ..)]` in `reproducible-macros` both read this one table,
//! so a scheme, an argument or a default cannot differ between them.

/// What an argument holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A finite f64.
    Number,
    /// A non-negative integer (`groups`).
    Count,
    /// `fan_in` or `fan_out`.
    Mode,
    /// One of [`NONLINEARITIES`].
    Nonlinearity,
}

/// One argument of a scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    /// Its name, PyTorch's keyword.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
    /// PyTorch's default, in the text form; `None` when it must be given.
    pub default: Option<&'static str>,
}

/// A scheme: its name in the text form (PyTorch's function without the
/// trailing underscore), the name of its `Scheme` variant, and its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The text form's name (`kaiming_uniform`).
    pub name: &'static str,
    /// The `reproducible::scheme::Scheme` variant (`KaimingUniform`).
    pub variant: &'static str,
    /// The arguments, in PyTorch's positional order.
    pub args: &'static [Arg],
}

const fn arg(name: &'static str, kind: Kind, default: Option<&'static str>) -> Arg {
    Arg { name, kind, default }
}

use Kind::{Count, Mode, Nonlinearity, Number};

const GAIN: &[Arg] = &[arg("gain", Number, Some("1"))];
const KAIMING: &[Arg] = &[
    arg("a", Number, Some("0")),
    arg("mode", Mode, Some("fan_in")),
    arg("nonlinearity", Nonlinearity, Some("leaky_relu")),
];

/// Every scheme, in SPEC.md's order.
pub const SCHEMES: &[Signature] = &[
    Signature {
        name: "uniform",
        variant: "Uniform",
        args: &[arg("a", Number, Some("0")), arg("b", Number, Some("1"))],
    },
    Signature {
        name: "normal",
        variant: "Normal",
        args: &[arg("mean", Number, Some("0")), arg("std", Number, Some("1"))],
    },
    Signature {
        name: "trunc_normal",
        variant: "TruncNormal",
        args: &[
            arg("mean", Number, Some("0")),
            arg("std", Number, Some("1")),
            arg("a", Number, Some("-2")),
            arg("b", Number, Some("2")),
        ],
    },
    Signature {
        name: "constant",
        variant: "Constant",
        args: &[arg("val", Number, None)],
    },
    Signature {
        name: "zeros",
        variant: "Zeros",
        args: &[],
    },
    Signature {
        name: "ones",
        variant: "Ones",
        args: &[],
    },
    Signature {
        name: "eye",
        variant: "Eye",
        args: &[],
    },
    Signature {
        name: "dirac",
        variant: "Dirac",
        args: &[arg("groups", Count, Some("1"))],
    },
    Signature {
        name: "xavier_uniform",
        variant: "XavierUniform",
        args: GAIN,
    },
    Signature {
        name: "xavier_normal",
        variant: "XavierNormal",
        args: GAIN,
    },
    Signature {
        name: "kaiming_uniform",
        variant: "KaimingUniform",
        args: KAIMING,
    },
    Signature {
        name: "kaiming_normal",
        variant: "KaimingNormal",
        args: KAIMING,
    },
    Signature {
        name: "orthogonal",
        variant: "Orthogonal",
        args: GAIN,
    },
    Signature {
        name: "sparse",
        variant: "Sparse",
        args: &[arg("sparsity", Number, None), arg("std", Number, Some("0.01"))],
    },
];

/// The fan modes: text form and `FanMode` variant.
pub const MODES: &[(&str, &str)] = &[("fan_in", "FanIn"), ("fan_out", "FanOut")];

/// The nonlinearities `calculate_gain` knows: text form (PyTorch's names) and
/// `Nonlinearity` variant. Several names share a variant, as in PyTorch.
pub const NONLINEARITIES: &[(&str, &str)] = &[
    ("linear", "Linear"),
    ("conv1d", "Conv"),
    ("conv2d", "Conv"),
    ("conv3d", "Conv"),
    ("conv_transpose1d", "Conv"),
    ("conv_transpose2d", "Conv"),
    ("conv_transpose3d", "Conv"),
    ("sigmoid", "Sigmoid"),
    ("tanh", "Tanh"),
    ("relu", "Relu"),
    ("leaky_relu", "LeakyRelu"),
    ("selu", "Selu"),
];

/// The scheme called `name`.
pub fn find(name: &str) -> Option<&'static Signature> {
    SCHEMES.iter().find(|s| s.name == name)
}

/// Every scheme name, in table order.
pub fn names() -> impl Iterator<Item = &'static str> {
    SCHEMES.iter().map(|s| s.name)
}
