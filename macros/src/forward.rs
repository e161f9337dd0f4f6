//! `#[reproducible::forward]`: records the fields an impl block reads through `self`.

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::ext::IdentExt;
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
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let id = part_id(part.as_ref());
    // The impl is kept whatever else is wrong.
    quote! {
        #item

        #args_error

        #[automatically_derived]
        #[doc(hidden)]
        impl #impl_generics ::reproducible::__private::ForwardUses<#id> for #self_ty #where_clause {
            const USED: &'static [&'static str] = &[#(#used),*];
        }
    }
}

/// The number a forward part is known by (FNV-1a of its name; the unnamed
/// part's is that of the empty name): `#[reproducible_model]` and
/// `#[reproducible::forward]` compute it from the same name.
pub fn part_id(part: Option<&Ident>) -> u64 {
    let name = part.map(ToString::to_string).unwrap_or_default();
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
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
