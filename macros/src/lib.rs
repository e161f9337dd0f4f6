//! The attribute macros of [`reproducible`](https://docs.rs/reproducible): see the
//! runtime crate's documentation of `reproducible_model` and `forward`.
//!
//! `#[reproducible_model]` reads as parse -> validate -> expand: [`ast`] is a typed
//! view of the struct (keeping syn nodes and spans), [`attr`] parses the helper
//! attributes, [`valid`] checks cross-field rules, [`expand`] writes the code.

use proc_macro::TokenStream;

mod ast;
mod attr;
mod errors;
mod expand;
mod forward;
mod schemes;
mod valid;

/// Generates the constructor, loader and parameter listing of a model struct.
#[proc_macro_attribute]
pub fn reproducible_model(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::model(args.into(), input.into()).into()
}

/// Records which fields a model's forward code reads, for the unused-parameter check.
#[proc_macro_attribute]
pub fn forward(args: TokenStream, input: TokenStream) -> TokenStream {
    forward::expand(args.into(), input.into()).into()
}
