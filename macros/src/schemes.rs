//! The `init = ..` of `#[param]`: PyTorch-style calls checked at compile time.
//!
//! `init = kaiming_uniform(a = 5f64.sqrt(), mode = fan_out)` becomes the runtime's
//! `Scheme::KaimingUniform { .. }` with PyTorch's defaults for omitted arguments.
//! This table mirrors the runtime's text form (`scheme.rs`); the `pass/` ui test
//! that uses every scheme keeps the two in step.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Lit};

use crate::errors::{did_you_mean, Errors};

#[derive(Clone, Copy)]
enum ArgKind {
    F64,
    Usize,
    Mode,
    Nonlinearity,
}

struct Signature {
    name: &'static str,
    variant: &'static str,
    args: &'static [(&'static str, ArgKind, Option<&'static str>)],
}

use ArgKind::*;

const SCHEMES: &[Signature] = &[
    Signature {
        name: "uniform",
        variant: "Uniform",
        args: &[("a", F64, Some("0.0")), ("b", F64, Some("1.0"))],
    },
    Signature {
        name: "normal",
        variant: "Normal",
        args: &[("mean", F64, Some("0.0")), ("std", F64, Some("1.0"))],
    },
    Signature {
        name: "trunc_normal",
        variant: "TruncNormal",
        args: &[
            ("mean", F64, Some("0.0")),
            ("std", F64, Some("1.0")),
            ("a", F64, Some("-2.0")),
            ("b", F64, Some("2.0")),
        ],
    },
    Signature {
        name: "constant",
        variant: "Constant",
        args: &[("val", F64, None)],
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
        args: &[("groups", Usize, Some("1"))],
    },
    Signature {
        name: "xavier_uniform",
        variant: "XavierUniform",
        args: &[("gain", F64, Some("1.0"))],
    },
    Signature {
        name: "xavier_normal",
        variant: "XavierNormal",
        args: &[("gain", F64, Some("1.0"))],
    },
    Signature {
        name: "kaiming_uniform",
        variant: "KaimingUniform",
        args: &[
            ("a", F64, Some("0.0")),
            ("mode", Mode, Some("fan_in")),
            ("nonlinearity", Nonlinearity, Some("leaky_relu")),
        ],
    },
    Signature {
        name: "kaiming_normal",
        variant: "KaimingNormal",
        args: &[
            ("a", F64, Some("0.0")),
            ("mode", Mode, Some("fan_in")),
            ("nonlinearity", Nonlinearity, Some("leaky_relu")),
        ],
    },
    Signature {
        name: "orthogonal",
        variant: "Orthogonal",
        args: &[("gain", F64, Some("1.0"))],
    },
    Signature {
        name: "sparse",
        variant: "Sparse",
        args: &[("sparsity", F64, None), ("std", F64, Some("0.01"))],
    },
];

const MODES: &[(&str, &str)] = &[("fan_in", "FanIn"), ("fan_out", "FanOut")];
const NONLINEARITIES: &[(&str, &str)] = &[
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

/// Converts an `init` expression to code producing a `Scheme`.
pub fn init(expr: &Expr, errors: &Errors) -> TokenStream {
    match expr {
        Expr::Call(call) => {
            if let Expr::Path(p) = &*call.func {
                if let Some(ident) = p.path.get_ident() {
                    return known_call(ident, call, errors);
                }
            }
            pass_through(expr)
        }
        Expr::MethodCall(m) => {
            let receiver = init(&m.receiver, errors);
            let method = &m.method;
            let args = &m.args;
            quote_spanned! {m.span()=> #receiver.#method(#args) }
        }
        _ => pass_through(expr),
    }
}

fn pass_through(expr: &Expr) -> TokenStream {
    quote_spanned! {expr.span()=> {
        let scheme: ::reproducible::__private::Scheme = #expr;
        scheme
    }}
}

fn known_call(ident: &syn::Ident, call: &syn::ExprCall, errors: &Errors) -> TokenStream {
    let name = ident.to_string();
    let Some(sig) = SCHEMES.iter().find(|s| s.name == name) else {
        let names: Vec<&str> = SCHEMES.iter().map(|s| s.name).collect();
        errors.spanned(
            ident,
            format!(
                "unknown init scheme `{name}`{} (known: {}); for a `Scheme` of your own, use a path or a variable",
                did_you_mean(&name, &names),
                names.join(", ")
            ),
        );
        return quote!(::reproducible::__private::Scheme::Zeros);
    };
    let arg_names: Vec<&str> = sig.args.iter().map(|a| a.0).collect();
    let mut values: Vec<Option<&Expr>> = vec![None; sig.args.len()];
    let mut keyword = false;
    for (i, arg) in call.args.iter().enumerate() {
        let slot = match arg {
            Expr::Assign(assign) => {
                keyword = true;
                let key = match &*assign.left {
                    Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
                    _ => None,
                };
                let Some(key) = key else {
                    errors.spanned(&assign.left, "expected an argument name");
                    continue;
                };
                let Some(slot) = arg_names.iter().position(|n| *n == key) else {
                    errors.spanned(
                        &assign.left,
                        format!(
                            "`{name}` has no argument `{key}`{} (arguments: {})",
                            did_you_mean(&key, &arg_names),
                            if arg_names.is_empty() {
                                "none".to_owned()
                            } else {
                                arg_names.join(", ")
                            }
                        ),
                    );
                    continue;
                };
                (slot, &*assign.right)
            }
            other => {
                if keyword {
                    errors.spanned(other, "positional argument after a keyword argument");
                    continue;
                }
                if i >= sig.args.len() {
                    errors.spanned(other, format!("`{name}` takes at most {} arguments", sig.args.len()));
                    continue;
                }
                (i, other)
            }
        };
        if values[slot.0].is_some() {
            errors.spanned(slot.1, format!("argument `{}` given twice", arg_names[slot.0]));
            continue;
        }
        values[slot.0] = Some(slot.1);
    }
    let variant = syn::Ident::new(sig.variant, ident.span());
    if sig.args.is_empty() {
        return quote_spanned! {ident.span()=> ::reproducible::__private::Scheme::#variant };
    }
    let fields = sig.args.iter().zip(values).map(|(&(arg, kind, default), value)| {
        let field = syn::Ident::new(arg, ident.span());
        let value = match (value, default) {
            (Some(v), _) => convert(v, kind, errors),
            (None, Some(d)) => default_tokens(d, kind),
            (None, None) => {
                errors.spanned(&call.func, format!("`{name}` needs the argument `{arg}`"));
                quote!(0.0)
            }
        };
        quote!(#field: #value)
    });
    quote_spanned! {ident.span()=> ::reproducible::__private::Scheme::#variant { #(#fields),* } }
}

fn word(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Some(s.value()),
        _ => None,
    }
}

fn enum_value(expr: &Expr, table: &[(&str, &str)], ty: &str, errors: &Errors) -> TokenStream {
    let Some(w) = word(expr) else {
        return quote_spanned! {expr.span()=> #expr };
    };
    match table.iter().find(|(n, _)| *n == w) {
        Some((_, variant)) => {
            let ty = syn::Ident::new(ty, expr.span());
            let variant = syn::Ident::new(variant, expr.span());
            quote_spanned! {expr.span()=> ::reproducible::__private::#ty::#variant }
        }
        None => {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            errors.spanned(
                expr,
                format!(
                    "unknown {} `{w}`{} (expected one of: {})",
                    if ty == "FanMode" { "mode" } else { "nonlinearity" },
                    did_you_mean(&w, &names),
                    names.join(", ")
                ),
            );
            quote!(::core::default::Default::default())
        }
    }
}

fn convert(expr: &Expr, kind: ArgKind, errors: &Errors) -> TokenStream {
    match kind {
        F64 => quote_spanned! {expr.span()=> (#expr) as f64 },
        Usize => quote_spanned! {expr.span()=> (#expr) as usize },
        Mode => enum_value(expr, MODES, "FanMode", errors),
        Nonlinearity => enum_value(expr, NONLINEARITIES, "Nonlinearity", errors),
    }
}

fn default_tokens(default: &str, kind: ArgKind) -> TokenStream {
    match kind {
        F64 => {
            let v: f64 = default.parse().expect("default is a number");
            quote!(#v)
        }
        Usize => {
            let v: usize = default.parse().expect("default is an integer");
            quote!(#v)
        }
        Mode => {
            let (_, v) = MODES.iter().find(|(n, _)| *n == default).expect("default mode");
            let v = syn::Ident::new(v, proc_macro2::Span::call_site());
            quote!(::reproducible::__private::FanMode::#v)
        }
        Nonlinearity => {
            let (_, v) = NONLINEARITIES
                .iter()
                .find(|(n, _)| *n == default)
                .expect("default nonlinearity");
            let v = syn::Ident::new(v, proc_macro2::Span::call_site());
            quote!(::reproducible::__private::Nonlinearity::#v)
        }
    }
}
