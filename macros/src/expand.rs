//! Code generation: `Model` impl, `init`/`load` constructors, the
//! unused-parameter checks. Everything was resolved in `ast.rs` and validated
//! in `valid.rs`, so nothing here can fail.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Expr};

use crate::ast::{self, Container, Field, Kind, Model};
use crate::attr::ConfigAttr;
use crate::errors::Errors;
use crate::{fallback, forward, valid};

/// `#[reproducible_model]`: parse and resolve, validate, expand; on any error,
/// the user's struct with stub impls, so the rest of the crate still
/// type-checks, and every error at once.
pub fn model(args: TokenStream, input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let errors = Errors::default();
    let model = ast::Model::from_syn(args, input.clone(), &errors);
    if let Some(m) = &model {
        valid::check(m, &errors);
    }
    match (errors.finish(), model) {
        (Ok(()), Some(model)) => expand(&model),
        (result, model) => {
            let item = stripped(&input);
            let stubs = model.as_ref().map(fallback::stubs);
            let errors = result.err().map(|e| e.to_compile_error());
            quote!(#item #stubs #errors)
        }
    }
}

/// A name of the generated code that the user's expressions cannot see.
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The local holding field `index` once it is built.
fn field_value(index: usize) -> Ident {
    format_ident!("__field_{}", index, span = Span::mixed_site())
}

/// The struct without our helper attributes.
pub fn stripped(input: &DeriveInput) -> DeriveInput {
    let mut item = input.clone();
    if let syn::Data::Struct(s) = &mut item.data {
        for f in s.fields.iter_mut() {
            f.attrs.retain(|a| !ast::is_kind_attr(a));
        }
    }
    item
}

/// The config type (`()` when none was named; an error says so).
pub fn config_type(model: &Model) -> TokenStream {
    model.config.as_ref().map_or_else(|| quote!(()), |t| quote!(#t))
}

fn expand(model: &Model) -> TokenStream {
    let item = stripped(&model.input);
    let name = &model.input.ident;
    let (impl_generics, ty_generics, where_clause) = model.input.generics.split_for_impl();
    let config_ty = config_type(model);
    let version = model.version;

    // Hygiene: the constructor's own names are `mixed_site`, so the expressions
    // the user writes in attributes (which see only `cfg`) can neither see nor
    // be shadowed by them, whatever the fields are called; and `__`-prefixed,
    // as serde_derive's, so that no constant of the user's turns a binding
    // into a pattern.
    let ctx = local("__ctx");
    let mut builds = Vec::new();
    let mut visits = Vec::new();
    let mut steps = Vec::new();
    let mut inits = Vec::new();
    for (index, field) in model.fields.iter().enumerate() {
        let ident = &field.ident;
        let value = field_value(index);
        inits.push(quote!(#ident: #value));
        let (build, visit) = field_code(model, index, &ctx);
        builds.push(build);
        visits.extend(visit);
        steps.extend(step_code(field));
    }
    let checks = checks(model);
    let marker = marker(model);
    let doc_init = format!(" Builds `{name}` with every parameter drawn from its own keyed stream under `init`.");
    let doc_load = format!(
        " Builds `{name}` with every parameter loaded by path from `vb` (a safetensors checkpoint), shape-checked."
    );

    quote! {
        #item

        #[automatically_derived]
        impl #impl_generics ::reproducible::__private::Model for #name #ty_generics #where_clause {
            type Config = #config_ty;
            const MODEL_VERSION: u32 = #version;

            #[allow(unused_variables, clippy::redundant_locals)]
            fn build(
                cfg: &Self::Config,
                #ctx: &::reproducible::__private::Ctx,
            ) -> ::reproducible::__private::Result<Self> {
                #(#builds)*
                ::core::result::Result::Ok(Self { #(#inits),* })
            }

            fn visit_params<'a>(
                &'a self,
                __f: &mut dyn ::core::ops::FnMut(&str, &'a ::reproducible::__private::Tensor, bool),
            ) {
                #(#visits)*
            }

            #[allow(unused_variables)]
            fn set_step(&self, __step: u64) {
                #(#steps)*
            }
        }

        #[automatically_derived]
        impl #impl_generics #name #ty_generics #where_clause {
            /// The model-level version declared in `#[reproducible_model(version = ..)]`: recorded, never mixed into keys.
            pub const MODEL_VERSION: u32 = #version;

            #[doc = #doc_init]
            pub fn init(
                cfg: &#config_ty,
                init: &::reproducible::Init,
            ) -> ::reproducible::__private::Result<Self> {
                <Self as ::reproducible::__private::Model>::build(cfg, &::reproducible::__private::Ctx::init(init))
            }

            #[doc = #doc_load]
            pub fn load(
                cfg: &#config_ty,
                vb: &::reproducible::__private::VarBuilder,
            ) -> ::reproducible::__private::Result<Self> {
                <Self as ::reproducible::__private::Model>::build(cfg, &::reproducible::__private::Ctx::load(vb))
            }
        }

        #marker

        #( const _: () = { #checks }; )*
    }
}

/// The model's marker type: a unit struct beside it, never generic, that its
/// `#[reproducible::forward]` impls attach what they read to, and the list of
/// its forward parts (the empty name for the one unnamed part). The unused
/// checks read both in constants that every build evaluates where the model is
/// defined, `cargo check` included, whatever the model's generic parameters.
pub fn marker(model: &Model) -> TokenStream {
    let vis = &model.input.vis;
    let marker = forward::marker_name(&model.input.ident);
    let parts: Vec<String> = model
        .forward
        .iter()
        .map(|p| {
            p.as_ref()
                .map(|p| syn::ext::IdentExt::unraw(p).to_string())
                .unwrap_or_default()
        })
        .collect();
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #marker;

        #[automatically_derived]
        #[doc(hidden)]
        impl #marker {
            pub(crate) const __FORWARD_PARTS: &'static [&'static str] = &[#(#parts),*];
        }
    }
}

/// The code passing the training step on to a submodule field.
fn step_code(field: &Field) -> Option<TokenStream> {
    let Kind::Module(m) = &field.kind else {
        return None;
    };
    let ident = &field.ident;
    let ty = match &m.container {
        Container::One(ty) | Container::List { inner: ty, .. } | Container::Optional { inner: ty, .. } => ty,
    };
    let set = quote_spanned!(ty.span()=> <#ty as ::reproducible::__private::Model>::set_step);
    Some(match &m.container {
        Container::One(_) => quote!(#set(&self.#ident, __step);),
        Container::List { .. } => quote! {
            for __module in &self.#ident {
                #set(__module, __step);
            }
        },
        Container::Optional { .. } => quote! {
            if let ::core::option::Option::Some(__module) = &self.#ident {
                #set(__module, __step);
            }
        },
    })
}

/// The code building one field into `value`, and the code listing its parameters.
fn field_code(model: &Model, index: usize, ctx: &Ident) -> (TokenStream, Option<TokenStream>) {
    let field = &model.fields[index];
    let value = &field_value(index);
    let ident = &field.ident;
    let key = field.key().unwrap_or_default();
    // A field renamed with `key = "old"`: its path in code is recorded as the alias.
    let code = syn::ext::IdentExt::unraw(ident).to_string();
    match &field.kind {
        Kind::Param(p) => {
            let (shape, scheme, version) = (&p.shape, &p.scheme, p.version);
            let dtype = match &p.dtype {
                Some(d) => quote!(::core::option::Option::Some(::reproducible::__private::DType::#d)),
                None => quote!(::core::option::Option::None),
            };
            let trainable = !p.frozen;
            let spec = quote! {
                &::reproducible::__private::ParamSpec {
                    shape: #shape,
                    scheme: #scheme,
                    version: #version,
                    dtype: #dtype,
                    trainable: #trainable,
                }
            };
            let param = if key == code {
                quote!(#ctx.param(#key, #spec)?)
            } else {
                quote!(#ctx.param_as(#key, #code, #spec)?)
            };
            // Through `ParamField`, spanned at the field's type: a field that is
            // not a `Tensor` gets one error there, saying so.
            let ty = &field.ty;
            let as_field = quote_spanned!(ty.span()=> <#ty as ::reproducible::__private::ParamField>);
            (
                quote!(let #value = #as_field::from_tensor(#param);),
                Some(quote!(__f(#key, #as_field::tensor(&self.#ident), #trainable);)),
            )
        }
        Kind::Module(m) => {
            let mut child = if key == code {
                quote!(#ctx.child(#key))
            } else {
                quote!(#ctx.child_as(#key, #code))
            };
            if m.version > 1 {
                let bump = m.version - 1;
                child = quote!(#child.bump_version(#bump)?);
            }
            let config = &m.config;
            let config_of = |index: &TokenStream| match config {
                Expr::Closure(_) => quote_spanned!(config.span()=> &((#config)(#index))),
                _ => quote_spanned!(config.span()=> &(#config)),
            };
            let ty = match &m.container {
                Container::One(ty) | Container::List { inner: ty, .. } | Container::Optional { inner: ty, .. } => ty,
            };
            // Spanned at the field's type: a type that is not a `Model` gets one
            // trait-bound error there (rustc merges the identical ones).
            let build = quote_spanned!(ty.span()=> <#ty as ::reproducible::__private::Model>::build);
            let visit = quote_spanned!(ty.span()=> <#ty as ::reproducible::__private::Model>::visit_params);
            match &m.container {
                Container::One(_) if m.ties.is_empty() => {
                    let cfg = config_of(&quote!(0usize));
                    (
                        quote!(let #value = #build(#cfg, &#child)?;),
                        Some(
                            quote!(#visit(&self.#ident, &mut |__path, __tensor, __trainable| __f(&::std::format!("{}.{}", #key, __path), __tensor, __trainable));),
                        ),
                    )
                }
                Container::One(_) => {
                    let cfg = config_of(&quote!(0usize));
                    let (tied_ctx, module) = (local("__tied_ctx"), local("__module"));
                    let params: Vec<&str> = m.ties.iter().map(|t| t.param.as_str()).collect();
                    let ties = m.ties.iter().map(|t| {
                        let target = t.target.join(".");
                        let k = model.fields.iter().position(|f| {
                            syn::ext::IdentExt::unraw(&f.ident) == t.target[0]
                        }).expect("validated: the tie names an earlier field");
                        let source = field_value(k);
                        let of = &model.fields[k];
                        let tensor = match &of.kind {
                            Kind::Param(_) => {
                                let ty = &of.ty;
                                quote!(::core::clone::Clone::clone(<#ty as ::reproducible::__private::ParamField>::tensor(&#source)))
                            }
                            _ => {
                                let below = t.target[1..].join(".");
                                quote!(::reproducible::__private::find_param(&#source, #below, #target)?)
                            }
                        };
                        let param = &t.param;
                        quote!((#param, #tensor, #target))
                    });
                    (
                        quote! {
                            let #value = {
                                let #tied_ctx = #child.tie(::std::vec![#(#ties),*]);
                                let #module = #build(#cfg, &#tied_ctx)?;
                                ::reproducible::__private::check_ties(&#module, &[#(#params),*], &#tied_ctx)?;
                                #module
                            };
                        },
                        Some(quote! {
                            #visit(&self.#ident, &mut |__path, __tensor, __trainable| {
                                // A tied parameter is listed once, under the path it is tied to.
                                if !::reproducible::__private::contains(&[#(#params),*], __path) {
                                    __f(&::std::format!("{}.{}", #key, __path), __tensor, __trainable)
                                }
                            });
                        }),
                    )
                }
                Container::List { count, .. } => {
                    let (list, n, modules, i) =
                        (local("__list"), local("__count"), local("__modules"), local("__index"));
                    let index = quote!(#i);
                    let cfg = config_of(&index);
                    let count = quote_spanned!(count.span()=> ::reproducible::__private::count(#count));
                    (
                        quote! {
                            let #value = {
                                let #list = #child;
                                let #n = #count;
                                let mut #modules = ::std::vec::Vec::with_capacity(#n);
                                for #i in 0..#n {
                                    #modules.push(#build(#cfg, &#list.child(&::std::string::ToString::to_string(&#i)))?);
                                }
                                #modules
                            };
                        },
                        Some(quote! {
                            for (__index, __module) in self.#ident.iter().enumerate() {
                                #visit(__module, &mut |__path, __tensor, __trainable| __f(&::std::format!("{}.{}.{}", #key, __index, __path), __tensor, __trainable));
                            }
                        }),
                    )
                }
                Container::Optional { when, .. } => {
                    let cfg = config_of(&quote!(0usize));
                    (
                        quote! {
                            let #value = if #when {
                                ::core::option::Option::Some(#build(#cfg, &#child)?)
                            } else {
                                ::core::option::Option::None
                            };
                        },
                        Some(quote! {
                            if let ::core::option::Option::Some(__module) = &self.#ident {
                                #visit(__module, &mut |__path, __tensor, __trainable| __f(&::std::format!("{}.{}", #key, __path), __tensor, __trainable));
                            }
                        }),
                    )
                }
            }
        }
        Kind::Config(config) => {
            let computed = match config {
                ConfigAttr::Value(e) => quote_spanned!(e.span()=> #e),
                ConfigAttr::Build(closure) => {
                    quote_spanned!(closure.span()=> ::reproducible::__private::config_with(#ctx, #closure)?)
                }
                ConfigAttr::Field => quote_spanned!(ident.span()=> ::core::clone::Clone::clone(&cfg.#ident)),
            };
            (quote!(let #value = #computed;), None)
        }
        // Never expanded: validation reported these.
        Kind::Missing | Kind::Invalid => (quote!(let #value = ::core::unreachable!();), None),
    }
}

/// One check per parameter and submodule, each its own constant so that a
/// model with three unused fields reports three errors: a field must be read
/// by some forward part, and a field opted out with `unused` must not be.
fn checks(model: &Model) -> Vec<TokenStream> {
    let name = &model.input.ident;
    let marker = forward::marker_name(name);
    model
        .fields
        .iter()
        .filter(|f| f.is_checked())
        .map(|field| {
            let ident = &field.ident;
            let field_name = syn::ext::IdentExt::unraw(ident).to_string();
            let reads = model.forward.iter().map(|part| {
                let used = match part {
                    // Spanned at the model's name or the part's, where a missing
                    // forward impl is reported.
                    None => quote_spanned! {name.span()=>
                        <#marker as ::reproducible::__private::SeveralForwardImplsNeedPartNames>::USED
                    },
                    Some(part) => quote_spanned!(part.span()=> #marker::#part),
                };
                quote!(::reproducible::__private::contains(#used, #field_name))
            });
            let read = quote!((#(#reads)||*));
            let (what, attr) = match field.kind {
                Kind::Param(_) => ("parameter", "param"),
                _ => ("submodule", "module"),
            };
            match field.unused() {
                None => {
                    let message = format!(
                        "{what} `{ident}` of `{name}` is never used in `forward`; use it, delete it, \
                         or mark it `#[{attr}(..., unused = \"reason\")]`"
                    );
                    quote_spanned! {ident.span()=> if !#read { ::core::panic!(#message); } }
                }
                Some(reason) => {
                    let message = format!(
                        "{what} `{ident}` of `{name}` is marked `unused = {:?}` but `forward` reads it; \
                         remove `unused`",
                        reason.value()
                    );
                    quote_spanned! {reason.span()=> if #read { ::core::panic!(#message); } }
                }
            }
        })
        .collect()
}
