//! Constrained strings (a `pattern`, length limits) keep their rules in the
//! JSON Schema they describe themselves with.

use quote::quote;
use syn::Item;

use super::{drop_derive, module_mut, RewriteError};
use crate::json_schema::string_schema;
use crate::transform::ConstrainedString;

/// Gives each constrained string newtype a `JsonSchema` that states its rules
/// (the derive would describe a bare string), so schema consumers and the
/// conformance tests see what `FromStr` enforces.
pub fn add_constrained_schemas(
    file: &mut syn::File,
    strings: &[ConstrainedString],
) -> Result<(), RewriteError> {
    if strings.is_empty() {
        return Ok(());
    }
    let items = module_mut(file, "types", "rule-carrying JSON Schemas")?;
    let mut impls = Vec::new();
    for c in strings {
        let found = items.iter_mut().find_map(|item| match item {
            Item::Struct(s) if s.ident == c.name && matches!(s.fields, syn::Fields::Unnamed(_)) => Some(s),
            _ => None,
        });
        let newtype = found.ok_or_else(|| {
            format!(
                "rule-carrying JSON Schemas: typify generated no newtype `{}` for the constrained string \
                 schema of that name",
                c.name
            )
        })?;
        drop_derive(&mut newtype.attrs, "JsonSchema");
        let ident = &newtype.ident;
        let name = &c.name;
        let description = c.description.clone().unwrap_or_default();
        let option = |v: Option<u32>| match v {
            Some(n) => quote!(Some(#n)),
            None => quote!(None),
        };
        let (min, max) = (option(c.min_length), option(c.max_length));
        let pattern = match &c.pattern {
            Some(p) => quote!(Some(#p.to_owned())),
            None => quote!(None),
        };
        let rules = quote!(string: Some(Box::new(::schemars::schema::StringValidation {
            max_length: #max,
            min_length: #min,
            pattern: #pattern,
        })),);
        impls.push(
            syn::parse2(string_schema(ident, name, &description, rules))
                .map_err(|e| format!("rule-carrying JSON Schemas: the template is not valid Rust: {e}"))?,
        );
    }
    items.extend(impls);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn a_constrained_string_typify_did_not_make_a_newtype_of_fails() {
        let mut file: syn::File = parse_quote! { pub mod types { pub struct AgentId { x: u8 } } };
        let rules = ConstrainedString {
            name: "AgentId".into(),
            description: None,
            pattern: None,
            min_length: None,
            max_length: Some(64),
        };
        let err = add_constrained_schemas(&mut file, &[rules]).unwrap_err();
        assert!(err.contains("no newtype `AgentId`"), "{err}");
    }
}
