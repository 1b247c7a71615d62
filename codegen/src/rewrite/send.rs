//! Every operation's `send` through the crate's layer (auth, retries,
//! errors, drift), with progenitor's request code kept exactly as generated.

use std::collections::HashMap;

use heck::ToUpperCamelCase;
use quote::{format_ident, quote};
use syn::{parse_quote, GenericArgument, ImplItem, Item, PathArguments, ReturnType, Type};

use super::{module_mut, RewriteError};
use crate::options::SendAdapter;

/// One operation as `send` hands it to the adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// Its `operationId` (the builder is its PascalCase).
    pub operation_id: String,
    /// The success statuses the spec documents, as inclusive ranges
    /// (`201` → `201..=201`, `2XX` and `default` → `200..=299`).
    pub documented_success: Vec<(u16, u16)>,
}

/// Renames each operation builder's `send` to `send_raw` and adds a `send`
/// that runs it through the adapter (`adapter(client, operation_id,
/// &[(201, 201)], future)`: the documented success statuses as ranges), so callers get the crate's error type
/// while progenitor's request code stays exactly as generated. Every
/// operation in `operations` must get one.
pub fn route_send(
    file: &mut syn::File,
    adapter: &SendAdapter,
    operations: &[Routed],
) -> Result<(), RewriteError> {
    let function = &adapter.function;
    let error = &adapter.error_type;
    let items = module_mut(file, "builder", "routing send")?;
    let builder_fields: HashMap<String, Vec<String>> = items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some((
                s.ident.to_string(),
                s.fields
                    .iter()
                    .filter_map(|f| f.ident.as_ref().map(ToString::to_string))
                    .collect(),
            )),
            _ => None,
        })
        .collect();
    let mut routed = Vec::new();
    for item in items.iter_mut() {
        let Item::Impl(block) = item else { continue };
        let Type::Path(self_ty) = block.self_ty.as_ref() else {
            continue;
        };
        let Some(builder) = self_ty.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        let Some(operation) = operations
            .iter()
            .find(|op| op.operation_id.to_upper_camel_case() == builder)
        else {
            continue;
        };
        // `send` hands the builder's client to the adapter.
        if !builder_fields
            .get(&builder)
            .is_some_and(|fields| fields.iter().any(|f| f == "client"))
        {
            return Err(format!(
                "routing send: the builder `{builder}` has no `client` field any more"
            ));
        }
        let operation_id = &operation.operation_id;
        let ranges = operation
            .documented_success
            .iter()
            .map(|(low, high)| quote!((#low, #high)));
        let documented = quote!(&[#(#ranges),*]);
        let mut added = Vec::new();
        for member in block.items.iter_mut() {
            let ImplItem::Fn(f) = member else { continue };
            if f.sig.ident != "send" || f.sig.asyncness.is_none() {
                continue;
            }
            let success = success_type(&f.sig.output).ok_or_else(|| {
                format!("routing send: `{builder}::send` no longer returns `Result<ResponseValue<T>, _>`")
            })?;
            let docs: Vec<_> = f
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .cloned()
                .collect();
            f.sig.ident = format_ident!("send_raw");
            f.vis = parse_quote!(pub(crate));
            f.attrs.retain(|a| !a.path().is_ident("doc"));
            f.attrs
                .push(parse_quote!(#[doc = "progenitor's request code, unchanged; `send` wraps it."]));
            added.push(ImplItem::Fn(parse_quote! {
                #(#docs)*
                ///
                /// Auth, retries and errors are handled by the crate: failures are
                /// a [`crate::Error`], and every `2xx` answer is a success.
                pub async fn send(self) -> ::std::result::Result<#success, #error> {
                    let client = self.client;
                    // Boxed: operation futures are large; moving them costs.
                    #function(client, #operation_id, #documented, ::std::boxed::Box::pin(self.send_raw())).await
                }
            }));
        }
        if !added.is_empty() {
            routed.push(operation_id.clone());
        }
        block.items.extend(added);
    }
    let missing: Vec<&String> = operations
        .iter()
        .map(|op| &op.operation_id)
        .filter(|id| !routed.contains(id))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "routing send: found no `async fn send` on the builder of {missing:?} in progenitor's output"
        ));
    }
    Ok(())
}

/// `ResponseValue<T>` out of `Result<ResponseValue<T>, Error<E>>`.
fn success_type(output: &ReturnType) -> Option<Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::Path(path) = ty.as_ref() else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> SendAdapter {
        SendAdapter {
            function: parse_quote!(crate::transport::send),
            error_type: parse_quote!(crate::Error),
        }
    }

    fn create_call() -> Vec<Routed> {
        vec![Routed {
            operation_id: "create_call".into(),
            documented_success: vec![(201, 201)],
        }]
    }

    #[test]
    fn a_shape_it_does_not_expect_fails_with_its_message() {
        // progenitor's output without the builder module it used to have.
        let mut file: syn::File = parse_quote! { pub mod types {} };
        let err = route_send(&mut file, &adapter(), &create_call()).unwrap_err();
        assert_eq!(
            err,
            "routing send: progenitor's output has no inline `mod builder` any more"
        );

        // A builder whose `send` is gone.
        let mut file: syn::File = parse_quote! { pub mod builder { pub struct CreateCall { client: u8 } impl CreateCall { pub fn other(self) {} } } };
        let err = route_send(&mut file, &adapter(), &create_call()).unwrap_err();
        assert!(
            err.contains("found no `async fn send` on the builder of [\"create_call\"]"),
            "{err}"
        );

        // A builder without the client `send` hands on.
        let mut file: syn::File = parse_quote! { pub mod builder { pub struct CreateCall; impl CreateCall { pub async fn send(self) -> Result<ResponseValue<u8>, E> { todo!() } } } };
        let err = route_send(&mut file, &adapter(), &create_call()).unwrap_err();
        assert_eq!(
            err,
            "routing send: the builder `CreateCall` has no `client` field any more"
        );
    }

    #[test]
    fn send_hands_the_documented_success_statuses_to_the_adapter() {
        let mut file: syn::File = parse_quote! { pub mod builder { pub struct CreateCall { client: u8 } impl CreateCall { pub async fn send(self) -> Result<ResponseValue<u8>, E> { todo!() } } } };
        route_send(&mut file, &adapter(), &create_call()).unwrap();
        let text = quote!(#file).to_string();
        assert!(
            text.contains("crate :: transport :: send (client , \"create_call\" , & [(201u16 , 201u16)]"),
            "{text}"
        );
    }
}
