//! Cross-field rules: every field has exactly one kind, keys are unique names,
//! no `#[cfg]`, forward parts are distinct.

use std::collections::HashMap;

use crate::ast::{Container, Field, Kind, Model};
use crate::errors::Errors;

pub fn check(model: &Model, errors: &Errors) {
    let name = &model.input.ident;
    let mut keys: HashMap<String, &Field> = HashMap::new();
    for field in &model.fields {
        let ident = &field.ident;
        if let Some(cfg) = &field.cfg_attr {
            errors.spanned(
                cfg,
                format!(
                    "`#[cfg]` on field `{ident}` of `{name}` is not supported: a parameter that exists only in \
                     some builds would make the model's parameters depend on build flags; use an `Option<T>` \
                     submodule with `when = cfg!(..)` or a config flag instead"
                ),
            );
        }
        for extra in field.kind_attrs.iter().skip(1) {
            errors.spanned(
                extra,
                format!(
                    "field `{ident}` of `{name}` has more than one kind; keep one of #[param], #[module], #[config]"
                ),
            );
        }
        if let Kind::Missing = field.kind {
            errors.spanned(
                ident,
                format!(
                    "field `{ident}` of `{name}` has no kind: mark it `#[param(shape = [..], init = ..)]`, \
                     `#[module(config)]` or `#[config(expr)]`"
                ),
            );
        }
        let Some(key) = field.key() else { continue };
        if key.is_empty() || key.contains('.') {
            errors.spanned(
                ident,
                format!("key `{key}` of `{ident}` must be a non-empty name without dots"),
            );
        }
        match keys.get(&key) {
            Some(first) => {
                let at = field
                    .key_literal()
                    .map_or_else(|| quote::quote!(#ident), |k| quote::quote!(#k));
                errors.spanned(
                    at,
                    format!(
                        "fields `{}` and `{ident}` of `{name}` both resolve to the key `{key}`; \
                         each parameter path must be unique",
                        first.ident
                    ),
                );
            }
            None => {
                keys.insert(key, field);
            }
        }
    }
    for (index, field) in model.fields.iter().enumerate() {
        if let Kind::Module(m) = &field.kind {
            check_ties(model, index, m, errors);
        }
    }
    let mut parts: Vec<String> = Vec::new();
    for part in model.forward.iter().flatten() {
        let text = part.to_string();
        if parts.contains(&text) {
            errors.spanned(part, format!("forward part `{text}` is listed twice"));
        }
        parts.push(text);
    }
}

/// A tie names a parameter of this model built before the tied submodule: a
/// `#[param]` field, or a parameter below a single submodule field; the tied
/// submodule is a single one (not a `Vec` or an `Option`), and ties each of
/// its parameters once.
fn check_ties(model: &Model, index: usize, m: &crate::ast::Module, errors: &Errors) {
    let name = &model.input.ident;
    let field = &model.fields[index];
    let ident = &field.ident;
    if !m.ties.is_empty() && !matches!(m.container, Container::One(_)) {
        errors.spanned(
            &m.ties[0].tokens,
            format!("`tie` needs a single submodule; `{ident}` of `{name}` is a `Vec` or an `Option`"),
        );
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    for tie in &m.ties {
        if seen.contains(&tie.param.as_str()) {
            errors.spanned(
                &tie.tokens,
                format!("parameter `{}` of `{ident}` is tied twice", tie.param),
            );
        }
        seen.push(&tie.param);
        let target = tie.target.join(".");
        let first = &tie.target[0];
        let Some(k) = model
            .fields
            .iter()
            .position(|f| syn::ext::IdentExt::unraw(&f.ident) == first)
        else {
            errors.spanned(
                &tie.tokens,
                format!("`{ident}` is tied to `{target}`, but `{name}` has no field `{first}`"),
            );
            continue;
        };
        let of = &model.fields[k];
        if k >= index {
            errors.spanned(
                &tie.tokens,
                format!(
                    "`{ident}` is tied to `{target}`, which is built after it; declare `{first}` before `{ident}` \
                     (fields are built in declaration order)"
                ),
            );
            continue;
        }
        let fits = match &of.kind {
            Kind::Param(_) => tie.target.len() == 1,
            Kind::Module(t) => tie.target.len() > 1 && matches!(t.container, Container::One(_)),
            _ => false,
        };
        if !fits {
            errors.spanned(
                &tie.tokens,
                format!(
                    "`{ident}` is tied to `{target}`: a tie names a `#[param]` field of `{name}` (`{first}`), or a \
                     parameter below one of its single `#[module]` fields (`{first}.weight`)"
                ),
            );
        }
    }
}
