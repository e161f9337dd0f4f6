//! `#[reproducible::forward]`: records the fields an impl block reads through `self`.

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Ident, ItemImpl, Member};

pub fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    // `#[reproducible::forward]` or `#[reproducible::forward(part)]`.
    let (part, args_error) = match syn::parse2::<Option<Ident>>(args.clone()) {
        Ok(part) => (part, None),
        Err(_) => (
            None,
            Some(
                syn::Error::new_spanned(
                    &args,
                    "`#[reproducible::forward]` takes nothing, or the name of one part of the forward code \
                     (`#[reproducible::forward(head)]`, listed in `#[reproducible_model(forward = [..])]`)",
                )
                .to_compile_error(),
            ),
        ),
    };
    let item: ItemImpl = match syn::parse2(input.clone()) {
        Ok(i) => i,
        Err(_) => {
            let mut out = input;
            out.extend(
                syn::Error::new(
                    proc_macro2::Span::call_site(),
                    "`#[reproducible::forward]` goes on the impl block that holds a model's forward code",
                )
                .to_compile_error(),
            );
            return out;
        }
    };
    let mut uses = Uses::default();
    uses.visit_item_impl(&item);
    let used: Vec<String> = uses.fields.into_iter().collect();
    let Some((model, marker)) = marker_of(&item.self_ty) else {
        let error = syn::Error::new_spanned(
            &item.self_ty,
            "`#[reproducible::forward]` goes on an impl of a `#[reproducible_model]` struct, named by its path \
             (`impl Net`, `impl Module for Net`, `impl<const R: usize> Mlp<R>`)",
        )
        .to_compile_error();
        return quote!(#item #args_error #error);
    };
    let model_name = model.to_string();
    // The uses are attached to the model's non-generic marker type, so that the
    // model's checks are constants evaluated where it is defined, generic or
    // not, in `cargo check` too. The unnamed part is a trait impl (two unnamed
    // impls conflict on a trait whose name says what to do); a named part is
    // an associated constant named after it (a part written twice is a
    // duplicate definition of that name).
    let (uses_item, listed, message) = match &part {
        None => (
            quote! {
                #[automatically_derived]
                #[doc(hidden)]
                impl ::reproducible::__private::SeveralForwardImplsNeedPartNames for #marker {
                    const USED: &'static [&'static str] = &[#(#used),*];
                }
            },
            String::new(),
            format!(
                "`{model_name}` lists the parts of its forward code (`forward = [..]`), and this \
                 `#[reproducible::forward]` impl has no part name: name it, e.g. `#[reproducible::forward(head)]`, \
                 and keep the name in `forward = [..]`"
            ),
        ),
        Some(part) => (
            quote! {
                #[automatically_derived]
                #[doc(hidden)]
                #[allow(non_upper_case_globals)]
                impl #marker {
                    pub(crate) const #part: &'static [&'static str] = &[#(#used),*];
                }
            },
            part.unraw().to_string(),
            format!(
                "forward part `{}` is not listed in `{model_name}`'s `#[reproducible_model(forward = [..])]`; \
                 list every part there, e.g. `forward = [{}, ...]`",
                part.unraw(),
                part.unraw()
            ),
        ),
    };
    let at = part.as_ref().map_or_else(|| item.self_ty.span(), Ident::span);
    let check = quote_spanned! {at=>
        const _: () = if !::reproducible::__private::contains(#marker::__FORWARD_PARTS, #listed) {
            ::core::panic!(#message)
        };
    };
    // The impl is kept whatever else is wrong.
    quote! {
        #item

        #args_error

        #uses_item

        #check
    }
}

/// The model named by an impl's self type, and the path of its marker type
/// (`#[reproducible_model]` writes `__ReproducibleForwardOf<Name>` beside the
/// struct): `a::Mlp<R>` -> `a::__ReproducibleForwardOfMlp`.
fn marker_of(self_ty: &syn::Type) -> Option<(Ident, syn::Path)> {
    let syn::Type::Path(p) = self_ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let mut path = p.path.clone();
    let last = path.segments.last_mut()?;
    let model = last.ident.clone();
    last.ident = marker_name(&model);
    last.arguments = syn::PathArguments::None;
    Some((model, path))
}

/// The name of a model's marker type, which carries what its forward code reads.
pub fn marker_name(model: &Ident) -> Ident {
    quote::format_ident!("__ReproducibleForwardOf{}", model.unraw(), span = model.span())
}

#[derive(Default)]
struct Uses {
    fields: BTreeSet<String>,
}

fn is_self(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.path.is_ident("self"))
}

impl Uses {
    /// `self . field` inside macro tokens (`println!("{}", self.scale)`), which syn
    /// does not parse as expressions.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, t) in trees.iter().enumerate() {
            match t {
                TokenTree::Group(g) => self.scan_tokens(g.stream()),
                TokenTree::Ident(id) if id == "self" => {
                    if let (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(field))) =
                        (trees.get(i + 1), trees.get(i + 2))
                    {
                        if p.as_char() == '.' {
                            self.fields.insert(field.unraw().to_string());
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Uses {
    fn visit_expr_field(&mut self, e: &'ast syn::ExprField) {
        if is_self(&e.base) {
            if let Member::Named(name) = &e.member {
                self.fields.insert(name.unraw().to_string());
            }
        }
        syn::visit::visit_expr_field(self, e);
    }

    fn visit_pat_struct(&mut self, p: &'ast syn::PatStruct) {
        // `let Self { qkv, proj, .. } = self;`
        for f in &p.fields {
            if let Member::Named(name) = &f.member {
                self.fields.insert(name.unraw().to_string());
            }
        }
        syn::visit::visit_pat_struct(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.scan_tokens(m.tokens.clone());
    }
}
