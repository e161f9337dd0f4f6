//! A typed view of the model struct that keeps the original syn nodes and
//! spans. Each field's attribute is resolved here, once, into typed values
//! (the scheme already turned into code, versions into numbers, required keys
//! present), so that expansion cannot fail; a field whose attribute has
//! mistakes is [`Kind::Invalid`], with its errors recorded.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, GenericArgument, Ident, LitStr, PathArguments, Type};

use crate::attr::{self, ConfigAttr, ModelArgs, ModuleAttr, ParamAttr};
use crate::errors::Errors;
use crate::schemes;

pub struct Model {
    pub input: DeriveInput,
    pub config: Option<Type>,
    pub version: u32,
    /// The forward parts (`#[reproducible::forward(part)]`); one unnamed part
    /// when the model names none.
    pub forward: Vec<Option<Ident>>,
    pub fields: Vec<Field>,
}

pub struct Field {
    pub ident: Ident,
    /// The field's type.
    pub ty: Type,
    pub kind: Kind,
    /// Every `#[param]`/`#[module]`/`#[config]` attribute, for the "two kinds" check.
    pub kind_attrs: Vec<Attribute>,
    pub cfg_attr: Option<Attribute>,
}

// One value per field, built once per compile: size does not matter, directness does.
#[allow(clippy::large_enum_variant)]
pub enum Kind {
    Param(Param),
    Module(Module),
    Config(ConfigAttr),
    /// No kind attribute.
    Missing,
    /// A kind attribute with mistakes (already reported).
    Invalid,
}

/// A `#[param]` field, resolved.
pub struct Param {
    /// The dimensions as code of type `Vec<usize>`, each spanned at its expression.
    pub shape: TokenStream,
    /// Code of type `Scheme`.
    pub scheme: TokenStream,
    pub version: u32,
    pub key: Option<LitStr>,
    pub frozen: bool,
    pub dtype: Option<Ident>,
    pub unused: Option<LitStr>,
}

/// A `#[module]` field, resolved.
pub struct Module {
    pub config: Expr,
    pub container: Container,
    pub key: Option<LitStr>,
    /// `version = N`: every parameter below is drawn at its own version plus `N - 1`.
    pub version: u32,
    pub unused: Option<LitStr>,
    /// `tie(param = field.path, ..)`.
    pub ties: Vec<Tie>,
}

/// One tied parameter: the submodule's parameter at `param` (a dotted path
/// below it) is the model's parameter at `target`, whose first segment names
/// an earlier field.
pub struct Tie {
    pub param: String,
    pub target: Vec<String>,
    /// The `param = target` tokens, for errors.
    pub tokens: TokenStream,
}

/// How a submodule field holds its module(s).
pub enum Container {
    One(Type),
    List { inner: Type, count: Expr },
    Optional { inner: Type, when: Expr },
}

const KIND_ATTRS: [&str; 3] = ["param", "module", "config"];

pub fn is_kind_attr(attr: &Attribute) -> bool {
    KIND_ATTRS.iter().any(|k| attr.path().is_ident(k))
}

/// `Vec<T>` -> `("Vec", T)`, `Option<T>` -> `("Option", T)`.
fn wrapper(ty: &Type) -> Option<(&'static str, Type)> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let Some(GenericArgument::Type(inner)) = args.args.first() else {
        return None;
    };
    ["Vec", "Option"]
        .into_iter()
        .find(|w| last.ident == w)
        .map(|w| (w, inner.clone()))
}

impl Model {
    pub fn from_syn(args: TokenStream, input: DeriveInput, errors: &Errors) -> Option<Model> {
        let ModelArgs {
            config,
            version,
            forward,
        } = attr::model_args(args, errors);
        let named = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => named.named.iter().cloned().collect::<Vec<_>>(),
                Fields::Unnamed(_) | Fields::Unit => {
                    errors.spanned(
                        &input.ident,
                        format!(
                            "`#[reproducible_model]` needs named fields: a parameter's path is its field name, \
                             so `{}` cannot be a tuple or unit struct",
                            input.ident
                        ),
                    );
                    return None;
                }
            },
            Data::Enum(e) => {
                errors.spanned(
                    e.enum_token,
                    "`#[reproducible_model]` applies to structs with named fields, not enums: \
                     use an `Option<T>` submodule for a part that is present only sometimes",
                );
                return None;
            }
            Data::Union(u) => {
                errors.spanned(
                    u.union_token,
                    "`#[reproducible_model]` applies to structs with named fields, not unions",
                );
                return None;
            }
        };
        let fields = named
            .into_iter()
            .map(|f| {
                let ident = f.ident.clone().expect("named field");
                let kind_attrs: Vec<Attribute> = f.attrs.iter().filter(|a| is_kind_attr(a)).cloned().collect();
                let cfg_attr = f.attrs.iter().find(|a| a.path().is_ident("cfg")).cloned();
                let kind = match kind_attrs.first() {
                    None => Kind::Missing,
                    Some(a) if a.path().is_ident("param") => {
                        param(&ident, &input.ident, attr::param(a, errors), errors)
                    }
                    Some(a) if a.path().is_ident("module") => {
                        module(&ident, &input.ident, &f.ty, attr::module(a, errors), errors)
                    }
                    Some(a) => attr::config(a, errors).map_or(Kind::Invalid, Kind::Config),
                };
                Field {
                    ident,
                    ty: f.ty.clone(),
                    kind,
                    kind_attrs,
                    cfg_attr,
                }
            })
            .collect();
        Some(Model {
            input,
            config,
            version: version.map_or(1, |v| v.base10_parse().unwrap_or(1)),
            forward: forward.map_or_else(|| vec![None], |parts| parts.into_iter().map(Some).collect()),
            fields,
        })
    }
}

/// Resolves a `#[param]`: its required keys, its scheme (checked against the
/// scheme table) and its shape.
fn param(ident: &Ident, model: &Ident, p: ParamAttr, errors: &Errors) -> Kind {
    let before = errors.len();
    if p.shape.is_none() {
        errors.spanned(
            &p.attr,
            format!("parameter `{ident}` of `{model}` needs `shape = [..]`"),
        );
    }
    if p.init.is_none() {
        errors.spanned(
            &p.attr,
            format!("parameter `{ident}` of `{model}` needs `init = ..`, e.g. `init = normal(0.0, 0.02)`"),
        );
    }
    let scheme = p.init.as_ref().map(|init| schemes::init(init, errors));
    let shape = p.shape.as_ref().map(|s| schemes::shape(s, errors));
    if let Some(d) = &p.dtype {
        if !["F32", "F64", "F16", "BF16"].contains(&d.to_string().as_str()) {
            errors.spanned(d, format!("unknown dtype `{d}`; expected F32, F64, F16 or BF16"));
        }
    }
    check_reason(p.unused.as_ref(), errors);
    match (shape, scheme) {
        (Some(shape), Some(scheme)) if errors.len() == before => Kind::Param(Param {
            shape,
            scheme,
            version: p.version.map_or(1, |v| v.base10_parse().unwrap_or(1)),
            key: p.key,
            frozen: p.frozen,
            dtype: p.dtype,
            unused: p.unused,
        }),
        _ => Kind::Invalid,
    }
}

/// Resolves a `#[module]`: its config, and its container's key (`count` for a
/// `Vec`, `when` for an `Option`).
fn module(ident: &Ident, model: &Ident, ty: &Type, m: ModuleAttr, errors: &Errors) -> Kind {
    let before = errors.len();
    let wrapper = wrapper(ty);
    let is = |w: &str| wrapper.as_ref().is_some_and(|(name, _)| *name == w);
    if m.config.is_none() {
        errors.spanned(
            &m.attr,
            format!(
                "submodule `{ident}` of `{model}` needs its config as the first argument, \
                 e.g. `#[module(linear(cfg.dim, cfg.dim))]` or `#[module(cfg.block)]`"
            ),
        );
    }
    if is("Vec") && m.count.is_none() {
        errors.spanned(
            &m.attr,
            format!("`{ident}` is a `Vec` of submodules and needs `count = ..`"),
        );
    }
    if is("Option") && m.when.is_none() {
        errors.spanned(
            &m.attr,
            format!("`{ident}` is an `Option` submodule and needs `when = ..` (a bool computed from `cfg`)"),
        );
    }
    if let (Some(count), false) = (&m.count, is("Vec")) {
        errors.spanned(
            count,
            format!("`count` needs the field type to be `Vec<_>`; `{ident}` is not"),
        );
    }
    if let (Some(when), false) = (&m.when, is("Option")) {
        errors.spanned(
            when,
            format!("`when` needs the field type to be `Option<_>`; `{ident}` is not"),
        );
    }
    let version = m.version.as_ref().map_or(1, |v| v.base10_parse().unwrap_or(1));
    if version == 0 {
        errors.spanned(
            m.version.as_ref().expect("a version of 0 was written"),
            "a submodule's `version` starts at 1 (its parameters' own versions); bump it to re-roll them",
        );
    }
    check_reason(m.unused.as_ref(), errors);
    let ties: Vec<Tie> = m
        .ties
        .iter()
        .filter_map(|(param, target)| {
            let tokens = quote::quote!(#param = #target);
            match (dotted(param), dotted(target)) {
                (Some(p), Some(t)) => Some(Tie {
                    param: p.join("."),
                    target: t,
                    tokens,
                }),
                _ => {
                    errors.spanned(
                        &tokens,
                        "a tie is `parameter = path`, both dotted paths of names, e.g. `tie(weight = wte.weight)`",
                    );
                    None
                }
            }
        })
        .collect();
    let config = m.config.map(|c| schemes::in_config(c, errors));
    if errors.len() > before {
        return Kind::Invalid;
    }
    let (Some(config), container) = (config, wrapper) else {
        return Kind::Invalid;
    };
    let container = match (container, m.count, m.when) {
        (Some(("Vec", inner)), Some(count), _) => Container::List { inner, count },
        (Some(("Option", inner)), _, Some(when)) => Container::Optional { inner, when },
        _ => Container::One(ty.clone()),
    };
    Kind::Module(Module {
        config,
        container,
        key: m.key,
        version,
        unused: m.unused,
        ties,
    })
}

/// `a.b.0.c` as its segments, or None for any other expression.
fn dotted(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Path(p) => p.path.get_ident().map(|i| vec![i.unraw().to_string()]),
        Expr::Field(f) => {
            let mut base = dotted(&f.base)?;
            base.push(match &f.member {
                syn::Member::Named(n) => n.unraw().to_string(),
                syn::Member::Unnamed(i) => i.index.to_string(),
            });
            Some(base)
        }
        _ => None,
    }
}

fn check_reason(unused: Option<&LitStr>, errors: &Errors) {
    if let Some(u) = unused {
        if u.value().trim().is_empty() {
            errors.spanned(
                u,
                "`unused` needs a reason, e.g. `unused = \"kept for checkpoint compatibility\"`",
            );
        }
    }
}

impl Field {
    /// The stream path segment: the alias if given, else the field name.
    pub fn key(&self) -> Option<String> {
        let key = match &self.kind {
            Kind::Param(p) => p.key.as_ref(),
            Kind::Module(m) => m.key.as_ref(),
            _ => return None,
        };
        Some(key.map_or_else(|| self.ident.unraw().to_string(), LitStr::value))
    }

    /// The `key = ".."` literal, when the field has one.
    pub fn key_literal(&self) -> Option<&LitStr> {
        match &self.kind {
            Kind::Param(p) => p.key.as_ref(),
            Kind::Module(m) => m.key.as_ref(),
            _ => None,
        }
    }

    /// The `unused = ".."` opt-out, for parameters and submodules.
    pub fn unused(&self) -> Option<&LitStr> {
        match &self.kind {
            Kind::Param(p) => p.unused.as_ref(),
            Kind::Module(m) => m.unused.as_ref(),
            _ => None,
        }
    }

    /// Whether the forward code is checked against this field: parameters and
    /// submodules must be read, or be opted out and then not read.
    pub fn is_checked(&self) -> bool {
        matches!(self.kind, Kind::Param(_) | Kind::Module(_))
    }
}
