//! Each operation's documented error bodies, typed: one enum per operation
//! with one variant per documented status.

use heck::ToUpperCamelCase;
use quote::{format_ident, quote};
use syn::{parse_quote, Type};

use super::{module_mut, RewriteError};
use crate::transform::ErrorBodies;

/// The name of an operation's error-body enum: `create_call` →
/// `CreateCallErrorBody` (the change report names it the same way).
pub fn enum_name(operation_id: &str) -> String {
    format!("{}ErrorBody", operation_id.to_upper_camel_case())
}

/// The variant of an error-body enum for a documented status key:
/// `401` → `Status401`, `4XX` → `Status4XX`, `default` → `Other`.
pub fn variant_name(status: &str) -> String {
    match status {
        "default" => "Other".to_owned(),
        s => format!("Status{}", s.to_uppercase()),
    }
}

/// For each operation with documented error bodies, an enum with one
/// variant per documented status (`CreateCallErrorBody::Status401(..)`),
/// `#[non_exhaustive]` so a newly documented status is not a breaking
/// change, implementing the crate's error-body trait so that
/// `sigmamind::Error::error_body::<CreateCallErrorBody>()` gives the body
/// typed for the status that came back.
pub fn add_error_bodies(
    file: &mut syn::File,
    operations: &[ErrorBodies],
    body_trait: &syn::Path,
) -> Result<(), RewriteError> {
    if operations.is_empty() {
        return Ok(());
    }
    let items = module_mut(file, "types", "error bodies")?;
    for operation in operations {
        let name = format_ident!("{}", enum_name(&operation.operation_id));
        let id = &operation.operation_id;
        let doc = format!(
            "The error bodies `{id}` documents, by status. `sigmamind::Error::error_body` gives the one \
             that came back, typed; a status or body the spec does not document gives `None` (the raw \
             JSON stays on the error)."
        );
        let mut variants = Vec::new();
        let mut exact = Vec::new();
        let mut ranges = Vec::new();
        let mut fallback = None;
        for status in &operation.statuses {
            let variant = format_ident!("{}", variant_name(&status.status));
            let ty: Type = match &status.component {
                Some(component) => {
                    let ident = format_ident!("{}", component);
                    parse_quote!(#ident)
                }
                None => parse_quote!(::serde_json::Value),
            };
            let variant_doc = format!("`{}`: {}", status.status, status.description.trim());
            variants.push(quote! {
                #[doc = #variant_doc]
                #variant(#ty)
            });
            let parse = quote!(::serde_json::from_value::<#ty>(body.clone()).ok().map(Self::#variant));
            let code = status.status.as_str();
            if code == "default" {
                fallback = Some(parse);
            } else if let Ok(n) = code.parse::<u16>() {
                exact.push(quote!(#n => #parse,));
            } else if let Some(class) = code.chars().next().and_then(|c| c.to_digit(10)) {
                let (low, high) = (class as u16 * 100, class as u16 * 100 + 99);
                ranges.push(quote!(#low..=#high => #parse,));
            } else {
                return Err(format!(
                    "error bodies: `{id}` documents a status `{code}` that is not one"
                ));
            }
        }
        let fallback = fallback.unwrap_or_else(|| quote!(None));
        let block: syn::File = syn::parse2(quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, PartialEq)]
            #[non_exhaustive]
            pub enum #name {
                #(#variants,)*
            }

            impl #body_trait for #name {
                const OPERATION_ID: &'static str = #id;

                fn from_json(status: u16, body: &::serde_json::Value) -> ::std::option::Option<Self> {
                    match status {
                        #(#exact)*
                        #(#ranges)*
                        _ => #fallback,
                    }
                }
            }
        })
        .map_err(|e| format!("error bodies: the template is not valid Rust: {e}"))?;
        items.extend(block.items);
    }
    Ok(())
}
