//! The text form of schemes (SPEC.md 8): PyTorch's function name without the
//! trailing underscore and its arguments, positional or by keyword, with
//! PyTorch's defaults; `Display` writes the canonical form (every argument by
//! keyword, shortest round-tripping decimals) that `FromStr` reads back exactly.

use std::fmt;
use std::str::FromStr;

pub use reproducible_schemes::{Arg, Kind, Signature};

use super::*;
use crate::error::{closest, Error, Result};

impl FanMode {
    fn name(self) -> &'static str {
        match self {
            FanMode::FanIn => "fan_in",
            FanMode::FanOut => "fan_out",
        }
    }
}

impl Nonlinearity {
    /// The name `calculate_gain` takes.
    pub fn name(self) -> &'static str {
        match self {
            Nonlinearity::Linear => "linear",
            Nonlinearity::Conv => "conv2d",
            Nonlinearity::Sigmoid => "sigmoid",
            Nonlinearity::Tanh => "tanh",
            Nonlinearity::Relu => "relu",
            Nonlinearity::LeakyRelu => "leaky_relu",
            Nonlinearity::Selu => "selu",
        }
    }
}

impl FromStr for Nonlinearity {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let table = reproducible_schemes::NONLINEARITIES;
        let variant = table.iter().find(|(name, _)| *name == s).map(|(_, v)| *v);
        Ok(match variant {
            Some("Linear") => Nonlinearity::Linear,
            Some("Conv") => Nonlinearity::Conv,
            Some("Sigmoid") => Nonlinearity::Sigmoid,
            Some("Tanh") => Nonlinearity::Tanh,
            Some("Relu") => Nonlinearity::Relu,
            Some("LeakyRelu") => Nonlinearity::LeakyRelu,
            Some("Selu") => Nonlinearity::Selu,
            _ => {
                let names: Vec<&str> = table.iter().map(|(name, _)| *name).collect();
                return Err(format!(
                    "unknown nonlinearity `{s}`; expected one of {}",
                    names.join(", ")
                ));
            }
        })
    }
}

impl FromStr for FanMode {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match reproducible_schemes::MODES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, v)| *v)
        {
            Some("FanIn") => Ok(FanMode::FanIn),
            Some("FanOut") => Ok(FanMode::FanOut),
            _ => Err(format!("unknown mode `{s}`; expected fan_in or fan_out")),
        }
    }
}

impl Scheme {
    /// The scheme's row of the scheme table: its arguments, their kinds and
    /// PyTorch's defaults.
    pub fn signature(&self) -> &'static Signature {
        signature(self.name()).expect("every scheme is in the table")
    }

    /// The arguments in the canonical text form, by name, in PyTorch's order:
    /// what `Display` writes.
    pub fn arguments(&self) -> Vec<(&'static str, String)> {
        let num = |v: f64| format!("{v:?}");
        let values: Vec<String> = match *self {
            Scheme::Uniform { a, b } => vec![num(a), num(b)],
            Scheme::Normal { mean, std } => vec![num(mean), num(std)],
            Scheme::TruncNormal { mean, std, a, b } => vec![num(mean), num(std), num(a), num(b)],
            Scheme::Constant { val } => vec![num(val)],
            Scheme::Zeros | Scheme::Ones | Scheme::Eye => vec![],
            Scheme::Dirac { groups } => vec![groups.to_string()],
            Scheme::XavierUniform { gain } | Scheme::XavierNormal { gain } | Scheme::Orthogonal { gain } => {
                vec![num(gain)]
            }
            Scheme::KaimingUniform { a, mode, nonlinearity } | Scheme::KaimingNormal { a, mode, nonlinearity } => {
                vec![num(a), mode.name().to_owned(), nonlinearity.name().to_owned()]
            }
            Scheme::Sparse { sparsity, std } => vec![num(sparsity), num(std)],
        };
        self.signature().args.iter().map(|a| a.name).zip(values).collect()
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self.arguments().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        write!(f, "{}({})", self.name(), args.join(", "))
    }
}

/// Every scheme name the text form accepts, in the table's order.
pub fn names() -> impl Iterator<Item = &'static str> {
    reproducible_schemes::names()
}

/// The row of the scheme table named `name`: its arguments, kinds and defaults.
pub fn signature(name: &str) -> Option<&'static Signature> {
    reproducible_schemes::find(name)
}

impl FromStr for Scheme {
    type Err = Error;

    /// Parses `name(arg, key=value, ...)`. Positional arguments come first in
    /// PyTorch's order; string values may be quoted; a trailing `_` on the name
    /// (`kaiming_uniform_`) is accepted.
    fn from_str(input: &str) -> Result<Self> {
        let err = |column: usize, reason: String| Error::Parse {
            input: input.to_owned(),
            column: column + 1,
            reason,
        };
        let open = input.find('(');
        let name_end = open.unwrap_or(input.len());
        let raw_name = input[..name_end].trim();
        let name = raw_name.strip_suffix('_').unwrap_or(raw_name);
        let Some(sig) = reproducible_schemes::find(name).map(|s| s.args) else {
            let known: Vec<&str> = names().collect();
            let hint = closest(name, &known)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(err(
                0,
                format!("unknown init scheme `{raw_name}`{hint} (known: {})", known.join(", ")),
            ));
        };
        let mut values: Vec<Option<(String, usize)>> = vec![None; sig.len()];
        if let Some(open) = open {
            let body = input[open + 1..].trim_end();
            let Some(body) = body.strip_suffix(')') else {
                return Err(err(input.len(), "expected `)` at the end".into()));
            };
            let mut offset = open + 1;
            let mut positional = true;
            for (k, raw) in body.split(',').enumerate() {
                let col = offset + (raw.len() - raw.trim_start().len());
                offset += raw.len() + 1;
                let arg = raw.trim();
                if arg.is_empty() {
                    if body.trim().is_empty() && k == 0 {
                        break;
                    }
                    return Err(err(col, "empty argument".into()));
                }
                let (slot, value) = match arg.split_once('=') {
                    Some((key, value)) => {
                        positional = false;
                        let key = key.trim();
                        let Some(slot) = sig.iter().position(|a| a.name == key) else {
                            let names: Vec<&str> = sig.iter().map(|a| a.name).collect();
                            let hint = closest(key, &names)
                                .map(|c| format!("; did you mean `{c}`?"))
                                .unwrap_or_default();
                            return Err(err(
                                col,
                                format!(
                                    "`{name}` has no argument `{key}`{hint} (arguments: {})",
                                    names.join(", ")
                                ),
                            ));
                        };
                        (slot, value.trim())
                    }
                    None => {
                        if !positional {
                            return Err(err(col, "positional argument after a keyword argument".into()));
                        }
                        if k >= sig.len() {
                            return Err(err(col, format!("`{name}` takes at most {} arguments", sig.len())));
                        }
                        (k, arg)
                    }
                };
                if values[slot].is_some() {
                    return Err(err(col, format!("argument `{}` given twice", sig[slot].name)));
                }
                let value = value.trim_matches(|c| c == '\'' || c == '"').to_owned();
                values[slot] = Some((value, col));
            }
        }
        let mut args = Args {
            input,
            name,
            values: Vec::new(),
        };
        for (arg, v) in sig.iter().zip(values) {
            match (v, arg.default) {
                (Some((v, col)), _) => args.values.push((arg.name, v, col)),
                (None, Some(d)) => args.values.push((arg.name, d.to_owned(), name_end)),
                (None, None) => {
                    return Err(err(name_end, format!("`{name}` needs argument `{}`", arg.name)));
                }
            }
        }
        args.build()
    }
}

struct Args<'a> {
    input: &'a str,
    name: &'a str,
    values: Vec<(&'static str, String, usize)>,
}

impl Args<'_> {
    fn get(&self, key: &str) -> (&str, usize) {
        let (_, v, c) = self.values.iter().find(|(k, _, _)| *k == key).expect("signature key");
        (v, *c)
    }

    fn err(&self, column: usize, reason: String) -> Error {
        Error::Parse {
            input: self.input.to_owned(),
            column: column + 1,
            reason,
        }
    }

    fn f64(&self, key: &str) -> Result<f64> {
        let (v, col) = self.get(key);
        let x: f64 = v
            .parse()
            .map_err(|_| self.err(col, format!("`{key}` must be a number, got `{v}`")))?;
        if !x.is_finite() {
            return Err(self.err(col, format!("`{key}` must be finite, got `{v}`")));
        }
        Ok(x)
    }

    fn usize(&self, key: &str) -> Result<usize> {
        let (v, col) = self.get(key);
        let bad = || self.err(col, format!("`{key}` must be a non-negative integer, got `{v}`"));
        // Plain decimals only (SPEC section 8); `usize::from_str` also takes `+2`.
        if !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        v.parse().map_err(|_| bad())
    }

    fn parsed<T: FromStr<Err = String>>(&self, key: &str) -> Result<T> {
        let (v, col) = self.get(key);
        v.parse().map_err(|e| self.err(col, e))
    }

    fn build(&self) -> Result<Scheme> {
        Ok(match self.name {
            "uniform" => uniform(self.f64("a")?, self.f64("b")?),
            "normal" => normal(self.f64("mean")?, self.f64("std")?),
            "trunc_normal" => trunc_normal(self.f64("mean")?, self.f64("std")?, self.f64("a")?, self.f64("b")?),
            "constant" => constant(self.f64("val")?),
            "zeros" => zeros(),
            "ones" => ones(),
            "eye" => eye(),
            "dirac" => dirac().groups(self.usize("groups")?),
            "xavier_uniform" => xavier_uniform().gain(self.f64("gain")?),
            "xavier_normal" => xavier_normal().gain(self.f64("gain")?),
            "orthogonal" => orthogonal().gain(self.f64("gain")?),
            "kaiming_uniform" | "kaiming_normal" => {
                let base = if self.name == "kaiming_uniform" {
                    kaiming_uniform()
                } else {
                    kaiming_normal()
                };
                base.a(self.f64("a")?)
                    .mode(self.parsed("mode")?)
                    .nonlinearity(self.parsed("nonlinearity")?)
            }
            "sparse" => sparse(self.f64("sparsity")?).std(self.f64("std")?),
            other => unreachable!("signature() knows `{other}`"),
        })
    }
}
