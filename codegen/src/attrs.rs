//! Reading the `#[serde(...)]` attributes of generated items: the surface
//! listing and the rewrites both need a field's wire name and flags.

use quote::ToTokens;

/// The value of `key = "..."` in a `#[serde(...)]` attribute (`rename`).
pub fn serde_value(attrs: &[syn::Attribute], key: &str) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(key) {
                let lit: syn::LitStr = meta.value()?.parse()?;
                found = Some(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

/// Whether a `#[serde(...)]` attribute mentions `key` (`flatten`, `default`).
pub fn has_serde_flag(attrs: &[syn::Attribute], key: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| a.to_token_stream().to_string().contains(key))
}
