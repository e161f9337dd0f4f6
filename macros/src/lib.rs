//! The attribute macros of [`reproducible`](https://docs.rs/reproducible): see the
//! runtime crate's documentation of `reproducible_model` and `forward`.
//!
//! `#[reproducible_model]` reads as parse -> validate -> expand: `attr.rs` parses
//! the helper attributes, `ast.rs` resolves each field into typed values (its
//! scheme through `schemes.rs` and the shared scheme table), `valid.rs` checks
//! cross-field rules, `expand.rs` writes the code and cannot fail; on any error,
//! `fallback.rs` keeps the struct with stub impls. `forward.rs` is
//! `#[reproducible::forward]`.

use proc_macro::TokenStream;

mod ast;
mod attr;
mod errors;
mod expand;
mod fallback;
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

/// The expansion of the README's attention block, kept readable in
/// `macros/expansion/attention.rs` for newcomers and checked to stay current
/// (`REPRODUCIBLE_EXPANSION=overwrite cargo test -p reproducible-macros` rewrites it).
#[cfg(test)]
mod expansion {
    use quote::quote;

    #[test]
    fn attention_expansion_is_current() {
        let args = quote!(config = AttentionConfig, version = 1);
        let item = quote! {
            pub struct Attention {
                #[module(linear_no_bias(cfg.dim, cfg.dim * 3))]
                qkv: Linear,
                #[module(linear(cfg.dim, cfg.dim))]
                proj: Linear,
                #[param(shape = [1, cfg.num_heads, 1, 1], init = ones(), frozen)]
                alpha: Tensor,
                #[param(shape = [1, cfg.num_heads, 1, 1], init = normal(0.0, 1.0), version = 2)]
                gamma: Tensor,
                #[config(cfg.num_heads)]
                num_heads: usize,
                #[config(Dropout::new(cfg.attn_drop))]
                attn_drop: Dropout,
            }
        };
        let forward = quote! {
            impl Module for Attention {
                fn forward(&self, x: &Tensor) -> Result<Tensor> {
                    let qkv = self.qkv.forward(x)?;
                    let attn = self.attn_drop.forward(&qkv.broadcast_mul(&self.alpha)?.broadcast_add(&self.gamma)?, false)?;
                    let _ = self.num_heads;
                    self.proj.forward(&attn)
                }
            }
        };
        let mut code = crate::expand::model(args, item);
        code.extend(crate::forward::expand(quote!(), forward));
        let file: syn::File = syn::parse2(code).expect("the expansion parses as a file");
        let text = format!(
            "// The expansion of the README's attention block by `#[reproducible_model]` and\n\
             // `#[reproducible::forward]`, as generated (test `attention_expansion_is_current`).\n\n{}",
            prettyplease::unparse(&file)
        );
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("expansion/attention.rs");
        if std::env::var_os("REPRODUCIBLE_EXPANSION").is_some_and(|v| v == "overwrite") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let saved = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            saved, text,
            "the expansion changed: review and rerun with REPRODUCIBLE_EXPANSION=overwrite"
        );
    }
}
