//! Edits to progenitor's output, on the syntax tree, one file each. Each
//! edit states what it expects to find and fails generation, naming it,
//! when progenitor's output no longer has that shape, or when it finds
//! nothing to edit where the spec says there must be something: a rewrite
//! never silently does nothing.
//!
//! | edit | file |
//! |---|---|
//! | open enums into `mod types` | [`open_enums`] |
//! | rule-carrying JSON Schemas of constrained strings | [`constrained_schemas`] |
//! | `DEFAULT_BASE_URL` from the spec's servers | [`server_url`] |
//! | `#[non_exhaustive]` structs | [`non_exhaustive`] |
//! | builders start the unknown-field map empty | [`flattened_maps`] |
//! | responses that keep a mistyped field's raw value instead of failing | [`lenient_responses`] |
//! | drift inspection of every type | [`drift_inspection`] |
//! | the error-body enum of each operation | [`error_bodies`] |
//! | every `send` through the crate's layer | [`send`] |

pub mod constrained_schemas;
pub mod drift_inspection;
pub mod error_bodies;
pub mod flattened_maps;
pub mod lenient_responses;
pub mod non_exhaustive;
pub mod open_enums;
pub mod send;
pub mod server_url;

use syn::{parse_quote, Item};

/// A rewrite that found nothing to rewrite, or not the shape it expects.
pub type RewriteError = String;

/// The items of the inline module `name` of progenitor's output.
fn module_mut<'a>(
    file: &'a mut syn::File,
    name: &str,
    rewrite: &str,
) -> Result<&'a mut Vec<Item>, RewriteError> {
    file.items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .ok_or_else(|| format!("{rewrite}: progenitor's output has no inline `mod {name}` any more"))
}

/// Removes one trait from `#[derive(...)]` lists; whether it was there.
fn drop_derive(attrs: &mut [syn::Attribute], name: &str) -> bool {
    let mut dropped = false;
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let Ok(list) =
            attr.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        else {
            continue;
        };
        let kept: Vec<&syn::Path> = list
            .iter()
            .filter(|p| p.segments.last().is_none_or(|s| s.ident != name))
            .collect();
        dropped |= kept.len() != list.len();
        *attr = parse_quote!(#[derive(#(#kept),*)]);
    }
    dropped
}
