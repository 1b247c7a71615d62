//! Reading the `#[serde(...)]` attributes of generated items: the surface
//! listing and the rewrites both need a field's wire name and flags.

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

/// Every key of the `#[serde(...)]` attributes (`rename`, `flatten`, ...).
pub fn serde_keys(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut keys = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            keys.push(quote::ToTokens::to_token_stream(&meta.path).to_string());
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                meta.parse_nested_meta(|_| Ok(()))?;
            }
            Ok(())
        });
    }
    keys
}

/// Whether a `#[serde(...)]` attribute has the key `key` (`flatten`, `default`).
pub fn has_serde_flag(attrs: &[syn::Attribute], key: &str) -> bool {
    serde_keys(attrs).iter().any(|k| k == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_values_and_flags() {
        let field: syn::Field = syn::parse_quote! {
            #[serde(rename = "callId", skip_serializing_if = "::std::option::Option::is_none", default)]
            pub call_id: Option<String>
        };
        assert_eq!(
            serde_keys(&field.attrs),
            ["rename", "skip_serializing_if", "default"]
        );
        assert_eq!(serde_value(&field.attrs, "rename").as_deref(), Some("callId"));
        assert!(has_serde_flag(&field.attrs, "default"));
        assert!(!has_serde_flag(&field.attrs, "flatten"));
    }
}
