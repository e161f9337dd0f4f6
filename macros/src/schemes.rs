//! The typed values of `#[param]`: `init = ..`, checked at compile time against
//! the scheme table the runtime parses its text form with
//! (`reproducible-schemes`), and `shape = [..]`.
//!
//! `init = kaiming_uniform(a = 5f64.sqrt(), mode = fan_out)` becomes the runtime's
//! `Scheme::KaimingUniform { .. }` with PyTorch's defaults for omitted arguments.
//! Every argument type-checks as what it is (`f64`, `usize`) at the user's own
//! expression: nothing is cast.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use reproducible_schemes::{Kind, Signature, MODES, NONLINEARITIES, SCHEMES};
use syn::spanned::Spanned;
use syn::{Expr, Lit};

use crate::errors::{did_you_mean, Errors};

/// `shape = [..]` as code of type `Vec<usize>`: each dimension must be a
/// `usize` where it is written. Any other expression must convert into one.
pub fn shape(expr: &Expr, errors: &Errors) -> TokenStream {
    match expr {
        Expr::Array(a) => {
            let dims = a.elems.iter().map(|d| match d {
                Expr::Lit(syn::ExprLit { lit: Lit::Int(_), .. }) => quote!(#d),
                _ => typed(d, "dim"),
            });
            quote!(::std::vec![#(#dims),*])
        }
        Expr::Tuple(t) => {
            let dims: Vec<String> = t.elems.iter().map(|d| quote!(#d).to_string()).collect();
            errors.spanned(
                t,
                format!(
                    "write the shape as `[..]`, not a tuple: `shape = [{}]`",
                    dims.join(", ")
                ),
            );
            quote!(::std::vec::Vec::new())
        }
        other => quote_spanned!(other.span()=> ::std::vec::Vec::<usize>::from(#other)),
    }
}

/// `expr` through the identity function `__private::{check}`, which takes the
/// type the value must have: a mistake is a type error at the user's own
/// expression, and nothing is cast.
fn typed(expr: &Expr, check: &str) -> TokenStream {
    let check = syn::Ident::new(check, Span::call_site());
    quote_spanned!(expr.span()=> ::reproducible::__private::#check(#expr))
}

/// Converts an `init` expression to code producing a `Scheme`: a call of a
/// scheme by name (checked here), a builder chain on one, or any other
/// expression of type `Scheme` (a path, a variable, a call of one's own
/// function).
pub fn init(expr: &Expr, errors: &Errors) -> TokenStream {
    match expr {
        Expr::Call(call) => match &*call.func {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let ident = p.path.get_ident().expect("checked");
                match SCHEMES.iter().find(|s| ident == s.name) {
                    Some(sig) => known_call(sig, ident, call, errors),
                    None => own_function(ident, expr, errors),
                }
            }
            _ => pass_through(expr),
        },
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
    typed(expr, "scheme")
}

/// A call of a function that is not a scheme: the user's own, returning a
/// `Scheme`; unless its name is one letter or two from a scheme's, which is
/// far likelier a typo.
fn own_function(ident: &syn::Ident, expr: &Expr, errors: &Errors) -> TokenStream {
    let name = ident.to_string();
    let names: Vec<&str> = SCHEMES.iter().map(|s| s.name).collect();
    let hint = did_you_mean(&name, &names);
    if hint.is_empty() {
        return pass_through(expr);
    }
    errors.spanned(
        ident,
        format!(
            "unknown init scheme `{name}`{hint} (known: {}); if `{name}` is a function of yours \
             returning a `Scheme`, call it as `self::{name}(..)`",
            names.join(", ")
        ),
    );
    quote!(::reproducible::__private::Scheme::Zeros)
}

fn known_call(sig: &Signature, ident: &syn::Ident, call: &syn::ExprCall, errors: &Errors) -> TokenStream {
    let name = sig.name;
    let arg_names: Vec<&str> = sig.args.iter().map(|a| a.name).collect();
    let mut values: Vec<Option<&Expr>> = vec![None; sig.args.len()];
    let mut keyword = false;
    for (i, arg) in call.args.iter().enumerate() {
        let (slot, value) = match arg {
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
        if values[slot].is_some() {
            errors.spanned(value, format!("argument `{}` given twice", arg_names[slot]));
            continue;
        }
        values[slot] = Some(value);
    }
    let variant = syn::Ident::new(sig.variant, ident.span());
    if sig.args.is_empty() {
        return quote_spanned! {ident.span()=> ::reproducible::__private::Scheme::#variant };
    }
    let fields = sig.args.iter().zip(values).map(|(arg, value)| {
        let field = syn::Ident::new(arg.name, ident.span());
        let value = match (value, arg.default) {
            (Some(v), _) => convert(v, arg.kind, errors),
            (None, Some(d)) => default_tokens(d, arg.kind),
            (None, None) => {
                errors.spanned(&call.func, format!("`{name}` needs the argument `{}`", arg.name));
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
        return typed(expr, if ty == "FanMode" { "fan_mode" } else { "nonlinearity" });
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

/// An argument's value: a number must be an `f64` (an integer literal is
/// taken exactly; a literal with another suffix is an error), a count a
/// `usize`, a mode or nonlinearity one of the table's names.
fn convert(expr: &Expr, kind: Kind, errors: &Errors) -> TokenStream {
    match kind {
        Kind::Number => number(expr, errors),
        Kind::Count => typed(expr, "count"),
        Kind::Mode => enum_value(expr, MODES, "FanMode", errors),
        Kind::Nonlinearity => enum_value(expr, NONLINEARITIES, "Nonlinearity", errors),
    }
}

fn number(expr: &Expr, errors: &Errors) -> TokenStream {
    // A literal, possibly negated.
    let (negative, lit) = match expr {
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(l) => (true, Some(&l.lit)),
            _ => (false, None),
        },
        Expr::Lit(l) => (false, Some(&l.lit)),
        _ => (false, None),
    };
    let sign = if negative { -1.0 } else { 1.0 };
    match lit {
        Some(Lit::Int(i)) if i.suffix().is_empty() || i.suffix() == "f64" => match i.base10_parse::<u64>() {
            // Integers below 2^53 are exact in f64.
            Ok(v) if v <= 1 << 53 => {
                let v = sign * v as f64;
                quote_spanned!(expr.span()=> #v)
            }
            _ => {
                errors.spanned(expr, "integer too large to be exact in f64; write it as a float");
                quote!(0.0)
            }
        },
        Some(Lit::Float(f)) if f.suffix().is_empty() || f.suffix() == "f64" => quote!(#expr),
        Some(other @ (Lit::Int(_) | Lit::Float(_))) => {
            errors.spanned(
                other,
                "scheme arguments are f64: drop the suffix, or convert with `f64::from(..)`",
            );
            quote!(0.0)
        }
        _ => typed(expr, "number"),
    }
}

fn default_tokens(default: &str, kind: Kind) -> TokenStream {
    match kind {
        Kind::Number => {
            let v: f64 = default.parse().expect("the table's defaults are numbers");
            quote!(#v)
        }
        Kind::Count => {
            let v: usize = default.parse().expect("the table's defaults are integers");
            quote!(#v)
        }
        Kind::Mode | Kind::Nonlinearity => {
            let (table, ty) = if kind == Kind::Mode {
                (MODES, "FanMode")
            } else {
                (NONLINEARITIES, "Nonlinearity")
            };
            let (_, v) = table
                .iter()
                .find(|(n, _)| *n == default)
                .expect("the table's defaults are in its lists");
            let (ty, v) = (
                syn::Ident::new(ty, Span::call_site()),
                syn::Ident::new(v, Span::call_site()),
            );
            quote!(::reproducible::__private::#ty::#v)
        }
    }
}

/// A `#[module(..)]` config with the scope of `init = ..`: the argument of a
/// builder method named `*_init` (`embedding(v, d).weight_init(normal(0.0, 0.02))`)
/// that calls a scheme by name, or chains on such a call, is resolved as
/// `init = ..` resolves it; every other expression is left as written.
pub fn in_config(config: Expr, errors: &Errors) -> Expr {
    struct Schemes<'a>(&'a Errors);
    impl syn::visit_mut::VisitMut for Schemes<'_> {
        fn visit_expr_method_call_mut(&mut self, m: &mut syn::ExprMethodCall) {
            syn::visit_mut::visit_expr_method_call_mut(self, m);
            if !m.method.to_string().ends_with("_init") || m.args.len() != 1 {
                return;
            }
            let arg = &m.args[0];
            if names_scheme(arg) {
                let code = init(arg, self.0);
                m.args[0] = syn::parse2(code).expect("a resolved scheme is an expression");
            }
        }
    }
    let mut config = config;
    syn::visit_mut::VisitMut::visit_expr_mut(&mut Schemes(errors), &mut config);
    config
}

/// Whether `expr` is a call of a scheme by name, or a builder chain on one.
fn names_scheme(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => matches!(&*call.func, Expr::Path(p)
            if p.path.get_ident().is_some_and(|i| SCHEMES.iter().any(|s| i == s.name))),
        Expr::MethodCall(m) => names_scheme(&m.receiver),
        _ => false,
    }
}
