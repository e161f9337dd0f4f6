//! What a model with mistakes still gets (thiserror's `fallback.rs`): its
//! `Model` impl and constructors as stubs, so the rest of the crate
//! type-checks and only the mistakes themselves are reported.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Model;
use crate::expand::{config_type, marker};

pub fn stubs(model: &Model) -> TokenStream {
    let name = &model.input.ident;
    let (impl_generics, ty_generics, where_clause) = model.input.generics.split_for_impl();
    let config_ty = config_type(model);
    let version = model.version;
    let message = format!("`{name}` was not generated: its `#[reproducible_model]` attributes have errors");
    let marker = marker(model);
    quote! {
        #marker

        #[automatically_derived]
        impl #impl_generics ::reproducible::__private::Model for #name #ty_generics #where_clause {
            type Config = #config_ty;
            const MODEL_VERSION: u32 = #version;

            fn build(
                _: &Self::Config,
                _: &::reproducible::__private::Ctx,
            ) -> ::reproducible::__private::Result<Self> {
                ::core::unimplemented!(#message)
            }

            fn visit_params<'a>(
                &'a self,
                _: &mut dyn ::core::ops::FnMut(&str, &'a ::reproducible::__private::Tensor, bool),
            ) {
                ::core::unimplemented!(#message)
            }
        }

        #[automatically_derived]
        impl #impl_generics #name #ty_generics #where_clause {
            /// The model-level version.
            pub const MODEL_VERSION: u32 = #version;

            /// Not generated: the attributes have errors.
            pub fn init(
                _: &#config_ty,
                _: &::reproducible::Init,
            ) -> ::reproducible::__private::Result<Self> {
                ::core::unimplemented!(#message)
            }

            /// Not generated: the attributes have errors.
            pub fn load(
                _: &#config_ty,
                _: &::reproducible::__private::VarBuilder,
            ) -> ::reproducible::__private::Result<Self> {
                ::core::unimplemented!(#message)
            }
        }
    }
}
