//! Parsing of the helper attributes: `#[param(..)]`, `#[module(..)]`, `#[config(..)]`
//! and the arguments of `#[reproducible_model(..)]`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, LitInt, LitStr, Token, Type};

use crate::errors::{did_you_mean, Errors};

/// One argument: `key = value` or a bare expression (a flag such as `frozen`, or
/// the positional config of `#[module(..)]`).
pub enum Arg {
    KeyValue { key: Ident, value: Expr },
    Bare(Expr),
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Ok(Arg::KeyValue {
                key,
                value: input.parse()?,
            })
        } else {
            Ok(Arg::Bare(input.parse()?))
        }
    }
}

fn parse_args(attr: &Attribute) -> syn::Result<Vec<Arg>> {
    match &attr.meta {
        syn::Meta::Path(_) => Ok(Vec::new()),
        syn::Meta::List(list) => Punctuated::<Arg, Token![,]>::parse_terminated
            .parse2(list.tokens.clone())
            .map(|p| p.into_iter().collect()),
        syn::Meta::NameValue(nv) => Err(syn::Error::new_spanned(
            nv,
            "expected a list: `#[param(shape = [..], init = ..)]`",
        )),
    }
}

/// `#[param(shape = [..], init = .., version = N, key = "..", frozen, dtype = F32, unused = "..")]`.
pub struct ParamAttr {
    pub attr: Attribute,
    pub shape: Option<Expr>,
    pub init: Option<Expr>,
    pub version: Option<LitInt>,
    pub key: Option<LitStr>,
    pub frozen: bool,
    pub dtype: Option<Ident>,
    pub unused: Option<LitStr>,
}

pub const PARAM_KEYS: &[&str] = &["shape", "init", "version", "key", "frozen", "dtype", "unused"];

/// `#[module(config_expr, count = .., when = .., key = "..", version = N, unused = "..", tie(..))]`.
pub struct ModuleAttr {
    pub attr: Attribute,
    pub config: Option<Expr>,
    /// `tie(weight = wte.weight, ..)`: the submodule's parameter (left) is the
    /// model's parameter at the path on the right, one tensor.
    pub ties: Vec<(Expr, Expr)>,
    /// The `tie(..)` call, for spans.
    pub tie: Option<Expr>,
    pub count: Option<Expr>,
    pub when: Option<Expr>,
    pub key: Option<LitStr>,
    pub version: Option<LitInt>,
    pub unused: Option<LitStr>,
}

pub const MODULE_KEYS: &[&str] = &["count", "when", "key", "version", "unused"];

/// Tracks keys seen in one attribute to report duplicates.
struct Seen<'a> {
    keys: Vec<String>,
    errors: &'a Errors,
}

impl Seen<'_> {
    fn first(&mut self, key: &Ident) -> bool {
        let name = key.to_string();
        if self.keys.contains(&name) {
            self.errors.spanned(key, format!("duplicate key `{name}`"));
            false
        } else {
            self.keys.push(name);
            true
        }
    }
}

fn lit_str(value: &Expr, key: &Ident, errors: &Errors) -> Option<LitStr> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s), ..
        }) => Some(s.clone()),
        other => {
            errors.spanned(other, format!("`{key}` takes a string literal, e.g. `{key} = \"...\"`"));
            None
        }
    }
}

fn lit_int(value: &Expr, key: &Ident, errors: &Errors) -> Option<LitInt> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i), ..
        }) if i.base10_parse::<u32>().is_ok() => Some(i.clone()),
        other => {
            errors.spanned(
                other,
                format!("`{key}` must be an integer literal from 0 to 4294967295, e.g. `{key} = 2`"),
            );
            None
        }
    }
}

fn unknown(key: &Ident, attr: &str, known: &[&str], errors: &Errors) {
    let name = key.to_string();
    errors.spanned(
        key,
        format!(
            "unknown key `{name}` in `#[{attr}]`{} (known keys: {})",
            did_you_mean(&name, known),
            known.join(", ")
        ),
    );
}

pub fn param(attr: &Attribute, errors: &Errors) -> ParamAttr {
    let mut out = ParamAttr {
        attr: attr.clone(),
        shape: None,
        init: None,
        version: None,
        key: None,
        frozen: false,
        dtype: None,
        unused: None,
    };
    let args = match parse_args(attr) {
        Ok(a) => a,
        Err(e) => {
            errors.push(e);
            return out;
        }
    };
    let mut seen = Seen {
        keys: Vec::new(),
        errors,
    };
    for arg in args {
        match arg {
            Arg::KeyValue { key, value } => {
                if !PARAM_KEYS.contains(&key.to_string().as_str()) {
                    unknown(&key, "param", PARAM_KEYS, errors);
                    continue;
                }
                if !seen.first(&key) {
                    continue;
                }
                match key.to_string().as_str() {
                    "shape" => out.shape = Some(value),
                    "init" => out.init = Some(value),
                    "version" => out.version = lit_int(&value, &key, errors),
                    "key" => out.key = lit_str(&value, &key, errors),
                    "unused" => out.unused = lit_str(&value, &key, errors),
                    "dtype" => match &value {
                        Expr::Path(p) if p.path.get_ident().is_some() => {
                            out.dtype = p.path.get_ident().cloned();
                        }
                        other => errors.spanned(other, "`dtype` takes one of F32, F64, F16, BF16"),
                    },
                    "frozen" => errors.spanned(&key, "`frozen` is a flag: write `frozen`, not `frozen = ..`"),
                    _ => unreachable!("checked against PARAM_KEYS"),
                }
            }
            Arg::Bare(Expr::Path(p)) if p.path.get_ident().is_some() => {
                let ident = p.path.get_ident().expect("checked").clone();
                if ident == "frozen" {
                    if seen.first(&ident) {
                        out.frozen = true;
                    }
                } else if PARAM_KEYS.contains(&ident.to_string().as_str()) {
                    errors.spanned(&ident, format!("`{ident}` needs a value: `{ident} = ..`"));
                } else {
                    unknown(&ident, "param", PARAM_KEYS, errors);
                }
            }
            Arg::Bare(other) => errors.spanned(other, "expected `key = value` or the flag `frozen`"),
        }
    }
    out
}

pub fn module(attr: &Attribute, errors: &Errors) -> ModuleAttr {
    let mut out = ModuleAttr {
        attr: attr.clone(),
        config: None,
        count: None,
        when: None,
        key: None,
        version: None,
        unused: None,
        ties: Vec::new(),
        tie: None,
    };
    let args = match parse_args(attr) {
        Ok(a) => a,
        Err(e) => {
            errors.push(e);
            return out;
        }
    };
    let mut seen = Seen {
        keys: Vec::new(),
        errors,
    };
    for (i, arg) in args.into_iter().enumerate() {
        match arg {
            Arg::Bare(expr) if i == 0 => out.config = Some(expr),
            Arg::Bare(Expr::Call(call)) if matches!(&*call.func, Expr::Path(p) if p.path.is_ident("tie")) => {
                if out.tie.is_some() {
                    errors.spanned(
                        &call.func,
                        "duplicate key `tie`; list every tied parameter in one `tie(..)`",
                    );
                    continue;
                }
                for arg in &call.args {
                    match arg {
                        Expr::Assign(a) => out.ties.push(((*a.left).clone(), (*a.right).clone())),
                        other => errors.spanned(
                            other,
                            "`tie` takes `parameter = path`, e.g. `tie(weight = wte.weight)`: the submodule's \
                             parameter, and the parameter of this model it is",
                        ),
                    }
                }
                if call.args.is_empty() {
                    errors.spanned(
                        &call,
                        "`tie(..)` names at least one parameter, e.g. `tie(weight = wte.weight)`",
                    );
                }
                out.tie = Some(Expr::Call(call));
            }
            Arg::Bare(expr) => errors.spanned(
                expr,
                "only the first argument of `#[module]` is positional (the submodule's config); \
                 the others are `count = ..`, `when = ..`, `key = \"..\"`, `version = N`, `unused = \"..\"` \
                 or `tie(..)`",
            ),
            Arg::KeyValue { key, value } => {
                let name = key.to_string();
                if !MODULE_KEYS.contains(&name.as_str()) {
                    unknown(&key, "module", MODULE_KEYS, errors);
                    continue;
                }
                if !seen.first(&key) {
                    continue;
                }
                match name.as_str() {
                    "count" => out.count = Some(value),
                    "when" => out.when = Some(value),
                    "key" => out.key = lit_str(&value, &key, errors),
                    "version" => out.version = lit_int(&value, &key, errors),
                    "unused" => out.unused = lit_str(&value, &key, errors),
                    _ => unreachable!("checked against MODULE_KEYS"),
                }
            }
        }
    }
    out
}

/// What a `#[config]` attribute computes its field from.
pub enum ConfigAttr {
    /// `#[config]`: `cfg.<field>.clone()`.
    Field,
    /// `#[config(expr)]`.
    Value(Expr),
    /// `#[config(build = |ctx| ..)]`: a closure called with the build context
    /// (its device, dtype, path, seed), returning a `Result`.
    Build(Expr),
}

/// `#[config(expr)]`, `#[config(build = |ctx| ..)]`, or `#[config]` for `cfg.<field>.clone()`.
pub fn config(attr: &Attribute, errors: &Errors) -> Option<ConfigAttr> {
    match &attr.meta {
        syn::Meta::Path(_) => Some(ConfigAttr::Field),
        syn::Meta::List(list) => match syn::parse2::<Expr>(list.tokens.clone()) {
            Ok(Expr::Assign(a)) if matches!(&*a.left, Expr::Path(p) if p.path.is_ident("build")) => match *a.right {
                Expr::Closure(c) if c.inputs.len() == 1 => Some(ConfigAttr::Build(Expr::Closure(c))),
                other => {
                    errors.spanned(
                        other,
                        "`build` takes a closure of the build context returning a `Result`, \
                         e.g. `#[config(build = |ctx| rope_cache(cfg, ctx.device()))]`",
                    );
                    None
                }
            },
            Ok(e) => Some(ConfigAttr::Value(e)),
            Err(e) => {
                errors.push(syn::Error::new(
                    e.span(),
                    "`#[config(..)]` takes one expression computed from `cfg`, or `build = |ctx| ..`",
                ));
                None
            }
        },
        syn::Meta::NameValue(nv) => {
            errors.spanned(
                nv,
                "write `#[config(expr)]`, `#[config(build = |ctx| ..)]` or `#[config]`",
            );
            None
        }
    }
}

/// The arguments of `#[reproducible_model(config = Type, version = N, forward = [part, ..])]`.
pub struct ModelArgs {
    pub config: Option<Type>,
    pub version: Option<LitInt>,
    /// The names of the `#[reproducible::forward(part)]` impls, when the
    /// forward code spans several.
    pub forward: Option<Vec<Ident>>,
}

pub fn model_args(tokens: TokenStream, errors: &Errors) -> ModelArgs {
    let mut out = ModelArgs {
        config: None,
        version: None,
        forward: None,
    };
    let parser = |input: ParseStream| -> syn::Result<()> {
        let mut seen = Seen {
            keys: Vec::new(),
            errors,
        };
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "config" => {
                    let ty: Type = input.parse()?;
                    if seen.first(&key) {
                        out.config = Some(ty);
                    }
                }
                "version" => {
                    let value: Expr = input.parse()?;
                    if seen.first(&key) {
                        out.version = lit_int(&value, &key, errors);
                    }
                }
                "forward" => {
                    let content;
                    syn::bracketed!(content in input);
                    let parts = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                    if parts.is_empty() {
                        errors.spanned(
                            &key,
                            "`forward = [..]` names at least one part, e.g. `forward = [features, head]`",
                        );
                    }
                    if seen.first(&key) {
                        out.forward = Some(parts.into_iter().collect());
                    }
                }
                other => {
                    let _: Expr = input.parse()?;
                    errors.spanned(
                        &key,
                        format!(
                            "unknown key `{other}` in `#[reproducible_model]`{} (known keys: config, version, forward)",
                            did_you_mean(other, &["config", "version", "forward"])
                        ),
                    );
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(tokens) {
        errors.push(e);
    }
    if out.config.is_none() {
        // No token names the missing argument, so the error points at the attribute.
        errors.push(syn::Error::new(
            Span::call_site(),
            "`#[reproducible_model]` needs the config type its expressions read as `cfg`: \
             `#[reproducible_model(config = MyConfig)]`",
        ));
    }
    out
}
