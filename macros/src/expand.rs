//! Code generation: `Model` impl, `init`/`load` constructors, the unused-parameter check.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Expr};

use crate::ast::{self, Container, Kind, Model};
use crate::errors::Errors;
use crate::{schemes, valid};

pub fn model(args: TokenStream, input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let errors = Errors::default();
    // Parse, validate, and expand only what validated (expansion trusts it).
    let code = ast::Model::from_syn(args, input.clone(), &errors).and_then(|m| {
        valid::check(&m, &errors);
        errors.is_empty().then(|| expand(&m, &errors))
    });
    match (errors.finish(), code) {
        (Ok(()), Some(code)) => code,
        (result, _) => {
            // Keep the user's struct so the rest of the crate still type-checks.
            let item = stripped(&input);
            let errors = result.err().map(|e| e.to_compile_error());
            quote!(#item #errors)
        }
    }
}

/// A name of the generated code that the user's expressions cannot see.
fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The struct without our helper attributes.
fn stripped(input: &DeriveInput) -> DeriveInput {
    let mut item = input.clone();
    if let syn::Data::Struct(s) = &mut item.data {
        for f in s.fields.iter_mut() {
            f.attrs.retain(|a| !ast::is_kind_attr(a));
        }
    }
    item
}

fn expand(model: &Model, errors: &Errors) -> TokenStream {
    let item = stripped(&model.input);
    let name = &model.input.ident;
    let (impl_generics, ty_generics, where_clause) = model.input.generics.split_for_impl();
    let config_ty = model.args.config.as_ref().map_or_else(|| quote!(()), |t| quote!(#t));
    let version = model
        .args
        .version
        .as_ref()
        .map_or(1u32, |v| v.base10_parse().expect("validated"));

    // Hygiene: the constructor's own names are `mixed_site`, so the expressions
    // the user writes in attributes (which see only `cfg`) can neither see nor
    // be shadowed by them, whatever the fields are called.
    let ctx = local("ctx");
    let mut builds = Vec::new();
    let mut visits = Vec::new();
    let mut inits = Vec::new();
    let mut checks = Vec::new();
    for (index, field) in model.fields.iter().enumerate() {
        let ident = &field.ident;
        let value = format_ident!("field_{}", index, span = Span::mixed_site());
        inits.push(quote!(#ident: #value));
        let key = field.key().unwrap_or_default();
        // A field renamed with `key = "old"`: its path in code is recorded as the alias.
        let code = ident.to_string();
        let child = if key == code {
            quote!(#ctx.child(#key))
        } else {
            quote!(#ctx.child_as(#key, #code))
        };
        match &field.kind {
            Kind::Param(p) => {
                let shape = match p.shape.as_ref().expect("validated") {
                    Expr::Array(a) => {
                        let dims = a.elems.iter().map(|d| quote_spanned!(d.span()=> (#d) as usize));
                        quote!(::std::vec![#(#dims),*])
                    }
                    other => quote_spanned!(other.span()=> ::std::vec::Vec::<usize>::from(#other)),
                };
                let scheme = schemes::init(p.init.as_ref().expect("validated"), errors);
                let version = p
                    .version
                    .as_ref()
                    .map_or(1u32, |v| v.base10_parse().expect("validated"));
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
                builds.push(if key == code {
                    quote!(let #value = #ctx.param(#key, #spec)?;)
                } else {
                    quote!(let #value = #ctx.param_as(#key, #code, #spec)?;)
                });
                visits.push(quote!(f(#key, &self.#ident, #trainable);));
            }
            Kind::Module(m, container) => {
                let config = m.config.as_ref().expect("validated");
                let config_of = |index: &TokenStream| match config {
                    Expr::Closure(_) => quote_spanned!(config.span()=> &((#config)(#index))),
                    _ => quote_spanned!(config.span()=> &(#config)),
                };
                let ty = match container {
                    Container::One => &field.ty,
                    Container::List(inner) | Container::Optional(inner) => inner,
                };
                // Spanned at the field's type: a type that is not a `Model` gets one
                // trait-bound error there (rustc merges the identical ones).
                let build = quote_spanned!(ty.span()=> <#ty as ::reproducible::__private::Model>::build);
                let visit = quote_spanned!(ty.span()=> <#ty as ::reproducible::__private::Model>::visit_params);
                match container {
                    Container::One => {
                        let cfg = config_of(&quote!(0usize));
                        builds.push(quote! {
                            let #value = #build(#cfg, &#child)?;
                        });
                        visits.push(
                            quote!(#visit(&self.#ident, &mut |p, t, tr| f(&::std::format!("{}.{}", #key, p), t, tr));),
                        );
                    }
                    Container::List(_) => {
                        let count = m.count.as_ref().expect("validated");
                        let (list, n, modules, i) = (local("list"), local("count"), local("modules"), local("index"));
                        let i = quote!(#i);
                        let cfg = config_of(&i);
                        builds.push(quote! {
                            let #value = {
                                let #list = #child;
                                let #n: usize = (#count) as usize;
                                let mut #modules = ::std::vec::Vec::with_capacity(#n);
                                for #i in 0..#n {
                                    #modules.push(#build(#cfg, &#list.child(&::std::string::ToString::to_string(&#i)))?);
                                }
                                #modules
                            };
                        });
                        visits.push(quote! {
                            for (index, module) in self.#ident.iter().enumerate() {
                                #visit(module, &mut |p, t, tr| f(&::std::format!("{}.{}.{}", #key, index, p), t, tr));
                            }
                        });
                    }
                    Container::Optional(_) => {
                        let when = m.when.as_ref().expect("validated");
                        let cfg = config_of(&quote!(0usize));
                        builds.push(quote! {
                            let #value = if #when {
                                ::core::option::Option::Some(#build(#cfg, &#child)?)
                            } else {
                                ::core::option::Option::None
                            };
                        });
                        visits.push(quote! {
                            if let ::core::option::Option::Some(module) = &self.#ident {
                                #visit(module, &mut |p, t, tr| f(&::std::format!("{}.{}", #key, p), t, tr));
                            }
                        });
                    }
                }
            }
            Kind::Config(expr) => {
                let expr_value = match expr {
                    Some(e) => quote_spanned!(e.span()=> #e),
                    None => quote_spanned!(ident.span()=> ::core::clone::Clone::clone(&cfg.#ident)),
                };
                builds.push(quote!(let #value = #expr_value;));
            }
            Kind::Missing => {}
        }
        if field.checked() {
            let (what, attr) = match field.kind {
                Kind::Param(_) => ("parameter", "param"),
                _ => ("submodule", "module"),
            };
            let message = format!(
                "{what} `{ident}` of `{name}` is never used in `forward`; use it, delete it, \
                 or mark it `#[{attr}(..., unused = \"reason\")]`"
            );
            let field_name = ident.to_string();
            checks.push(quote_spanned! {ident.span()=>
                if !::reproducible::__private::contains(
                    <#name #ty_generics as ::reproducible::__private::ForwardUses>::USED,
                    #field_name,
                ) {
                    ::core::panic!(#message);
                }
            });
        }
    }

    let generic = !model.input.generics.params.is_empty();
    // Non-generic models check in a free constant, evaluated by every build
    // (even `cargo check`); generic ones when `build` is instantiated.
    let (free_check, assoc_check, use_check) = if checks.is_empty() {
        (quote!(), quote!(), quote!())
    } else if generic {
        (
            quote!(),
            quote! {
                #[doc(hidden)]
                const __REPRODUCIBLE_UNUSED_CHECK: () = { #(#checks)* };
            },
            quote!(let () = Self::__REPRODUCIBLE_UNUSED_CHECK;),
        )
    } else {
        (quote!(const _: () = { #(#checks)* };), quote!(), quote!())
    };
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

            #[allow(unused_variables, clippy::redundant_locals, clippy::unnecessary_cast)]
            fn build(
                cfg: &Self::Config,
                #ctx: &::reproducible::__private::Ctx,
            ) -> ::reproducible::__private::Result<Self> {
                #use_check
                #(#builds)*
                ::core::result::Result::Ok(Self { #(#inits),* })
            }

            fn visit_params<'a>(
                &'a self,
                f: &mut dyn ::core::ops::FnMut(&str, &'a ::reproducible::__private::Tensor, bool),
            ) {
                #(#visits)*
            }
        }

        #[automatically_derived]
        impl #impl_generics #name #ty_generics #where_clause {
            /// The model-level version declared in `#[reproducible_model(version = ..)]`: recorded, never mixed into keys.
            pub const MODEL_VERSION: u32 = #version;

            #assoc_check

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

        #free_check
    }
}
