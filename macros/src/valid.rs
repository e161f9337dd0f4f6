//! Cross-field rules: every field has exactly one kind, keys are unique names,
//! no `#[cfg]`, forward parts are distinct.

use std::collections::HashMap;

use crate::ast::{Field, Kind, Model};
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
    let mut parts: Vec<String> = Vec::new();
    for part in model.forward.iter().flatten() {
        let text = part.to_string();
        if parts.contains(&text) {
            errors.spanned(part, format!("forward part `{text}` is listed twice"));
        }
        parts.push(text);
    }
}
