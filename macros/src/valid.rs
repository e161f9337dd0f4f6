//! Cross-field rules: every field has exactly one kind, required keys are present,
//! containers match their keys, keys are unique, no `#[cfg]`.

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
        match &field.kind {
            Kind::Missing => errors.spanned(
                ident,
                format!(
                    "field `{ident}` of `{name}` has no kind: mark it `#[param(shape = [..], init = ..)]`, \
                     `#[module(config)]` or `#[config(expr)]`"
                ),
            ),
            Kind::Param(p) => {
                if p.shape.is_none() {
                    errors.spanned(&p.attr, format!("parameter `{ident}` of `{name}` needs `shape = [..]`"));
                }
                if p.init.is_none() {
                    errors.spanned(
                        &p.attr,
                        format!("parameter `{ident}` of `{name}` needs `init = ..`, e.g. `init = normal(0.0, 0.02)`"),
                    );
                }
                if let Some(init) = &p.init {
                    // Checks the scheme name and arguments now, so they are reported
                    // together with every other mistake.
                    crate::schemes::init(init, errors);
                }
                if let Some(d) = &p.dtype {
                    if !["F32", "F64", "F16", "BF16"].contains(&d.to_string().as_str()) {
                        errors.spanned(d, format!("unknown dtype `{d}`; expected F32, F64, F16 or BF16"));
                    }
                }
                if let Some(u) = &p.unused {
                    if u.value().trim().is_empty() {
                        errors.spanned(
                            u,
                            "`unused` needs a reason, e.g. `unused = \"kept for checkpoint compatibility\"`",
                        );
                    }
                }
            }
            Kind::Module(m, container) => {
                if m.config.is_none() {
                    errors.spanned(
                        &m.attr,
                        format!(
                            "submodule `{ident}` of `{name}` needs its config as the first argument, \
                             e.g. `#[module(linear(cfg.dim, cfg.dim))]` or `#[module(cfg.block)]`"
                        ),
                    );
                }
                match container {
                    Container::List(_) if m.count.is_none() => errors.spanned(
                        &m.attr,
                        format!("`{ident}` is a `Vec` of submodules and needs `count = ..`"),
                    ),
                    Container::Optional(_) if m.when.is_none() => errors.spanned(
                        &m.attr,
                        format!(
                            "`{ident}` is an `Option` submodule and needs `when = ..` (a bool computed from `cfg`)"
                        ),
                    ),
                    _ => {}
                }
                if let (Some(count), false) = (&m.count, matches!(container, Container::List(_))) {
                    errors.spanned(
                        count,
                        format!("`count` needs the field type to be `Vec<_>`; `{ident}` is not"),
                    );
                }
                if let (Some(when), false) = (&m.when, matches!(container, Container::Optional(_))) {
                    errors.spanned(
                        when,
                        format!("`when` needs the field type to be `Option<_>`; `{ident}` is not"),
                    );
                }
                if let Some(u) = &m.unused {
                    if u.value().trim().is_empty() {
                        errors.spanned(
                            u,
                            "`unused` needs a reason, e.g. `unused = \"kept for checkpoint compatibility\"`",
                        );
                    }
                }
            }
            Kind::Config(_) => {}
        }
        if let Some(key) = field.key() {
            if key.is_empty() || key.contains('.') {
                errors.spanned(
                    ident,
                    format!("key `{key}` of `{ident}` must be a non-empty name without dots"),
                );
            }
            if let Some(first) = keys.get(&key) {
                let span_token = match &field.kind {
                    Kind::Param(p) if p.key.is_some() => p.key.as_ref().map(|k| quote::quote!(#k)),
                    Kind::Module(m, _) if m.key.is_some() => m.key.as_ref().map(|k| quote::quote!(#k)),
                    _ => None,
                }
                .unwrap_or_else(|| quote::quote!(#ident));
                errors.spanned(
                    span_token,
                    format!(
                        "fields `{}` and `{ident}` of `{name}` both resolve to the key `{key}`; \
                         each parameter path must be unique",
                        first.ident
                    ),
                );
            } else {
                keys.insert(key, field);
            }
        }
    }
}
