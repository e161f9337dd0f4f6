//! A typed view of the model struct that keeps the original syn nodes and spans.

use proc_macro2::TokenStream;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, GenericArgument, Ident, PathArguments, Type};

use crate::attr::{self, ModelArgs, ModuleAttr, ParamAttr};
use crate::errors::Errors;

pub struct Model {
    pub input: DeriveInput,
    pub args: ModelArgs,
    pub fields: Vec<Field>,
}

pub struct Field {
    pub ident: Ident,
    pub ty: Type,
    pub kind: Kind,
    /// Every `#[param]`/`#[module]`/`#[config]` attribute, for the "two kinds" check.
    pub kind_attrs: Vec<Attribute>,
    pub cfg_attr: Option<Attribute>,
}

// One value per field, built once per compile: size does not matter, directness does.
#[allow(clippy::large_enum_variant)]
pub enum Kind {
    Param(ParamAttr),
    Module(ModuleAttr, Container),
    Config(Option<Expr>),
    Missing,
}

/// How a submodule field holds its module(s).
pub enum Container {
    One,
    List(Type),
    Optional(Type),
}

const KIND_ATTRS: [&str; 3] = ["param", "module", "config"];

pub fn is_kind_attr(attr: &Attribute) -> bool {
    KIND_ATTRS.iter().any(|k| attr.path().is_ident(k))
}

/// `Vec<T>` -> List(T), `Option<T>` -> Optional(T), anything else -> One.
fn container(ty: &Type) -> Container {
    if let Type::Path(p) = ty {
        if let Some(last) = p.path.segments.last() {
            if let PathArguments::AngleBracketed(args) = &last.arguments {
                if let Some(GenericArgument::Type(inner)) = args.args.first() {
                    if last.ident == "Vec" {
                        return Container::List(inner.clone());
                    }
                    if last.ident == "Option" {
                        return Container::Optional(inner.clone());
                    }
                }
            }
        }
    }
    Container::One
}

impl Model {
    pub fn from_syn(args: TokenStream, input: DeriveInput, errors: &Errors) -> Option<Model> {
        let args = attr::model_args(args, errors);
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
                    Some(a) if a.path().is_ident("param") => Kind::Param(attr::param(a, errors)),
                    Some(a) if a.path().is_ident("module") => Kind::Module(attr::module(a, errors), container(&f.ty)),
                    Some(a) => Kind::Config(attr::config(a, errors)),
                };
                Field {
                    ident,
                    ty: f.ty,
                    kind,
                    kind_attrs,
                    cfg_attr,
                }
            })
            .collect();
        Some(Model { input, args, fields })
    }
}

impl Field {
    /// The stream path segment: the alias if given, else the field name.
    pub fn key(&self) -> Option<String> {
        match &self.kind {
            Kind::Param(p) => Some(p.key.as_ref().map_or_else(|| self.ident.to_string(), |k| k.value())),
            Kind::Module(m, _) => Some(m.key.as_ref().map_or_else(|| self.ident.to_string(), |k| k.value())),
            _ => None,
        }
    }

    /// Whether the forward code must read this field.
    pub fn checked(&self) -> bool {
        match &self.kind {
            Kind::Param(p) => p.unused.is_none(),
            Kind::Module(m, _) => m.unused.is_none(),
            _ => false,
        }
    }
}
