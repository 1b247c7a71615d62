//! Edits to progenitor's output, on the syntax tree. Each edit states what
//! it expects to find and fails generation, naming it, when progenitor's
//! output no longer has that shape: a rewrite never silently does nothing.

use heck::ToUpperCamelCase;
use quote::{format_ident, quote};
use syn::{parse_quote, GenericArgument, ImplItem, Item, PathArguments, ReturnType, Type};

use crate::attrs::{has_serde_flag, serde_value};
use crate::open_enum;
use crate::transform::{ConstrainedString, ErrorBodies, OpenEnum};
use crate::{DriftInspection, SendAdapter};

/// A rewrite that found nothing to rewrite.
pub type RewriteError = String;

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

/// Puts the open enums into the generated `types` module, where typify's
/// replacements point.
pub fn add_open_enums(file: &mut syn::File, enums: &[OpenEnum]) -> Result<(), RewriteError> {
    if enums.is_empty() {
        return Ok(());
    }
    let mut tokens = open_enum::unknown_value();
    tokens.extend(open_enum::parse_error());
    for e in enums {
        tokens.extend(open_enum::generate(e));
    }
    let extra: syn::File =
        syn::parse2(tokens).map_err(|e| format!("open enums: the template is not valid Rust: {e}"))?;
    let items = module_mut(file, "types", "open enums")?;
    // After the `error` module and before the types, in spec order.
    let at = items
        .iter()
        .position(|item| matches!(item, Item::Struct(_) | Item::Enum(_)))
        .unwrap_or(items.len());
    items.splice(at..at, extra.items);
    Ok(())
}

/// Renames each operation builder's `send` to `send_raw` and adds a `send`
/// that runs it through the adapter (`adapter(operation_id, future)`), so
/// callers get the crate's error type while progenitor's request code stays
/// exactly as generated. Every operation in `operation_ids` must get one.
pub fn route_send(
    file: &mut syn::File,
    adapter: &SendAdapter,
    operation_ids: &[String],
) -> Result<(), RewriteError> {
    let function = &adapter.function;
    let error = &adapter.error_type;
    let items = module_mut(file, "builder", "routing send")?;
    let builder_fields: std::collections::HashMap<String, Vec<String>> = items
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
        let Some(operation_id) = operation_ids
            .iter()
            .find(|id| id.to_upper_camel_case() == builder)
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
                /// a [`crate::Error`].
                pub async fn send(self) -> ::std::result::Result<#success, #error> {
                    let client = self.client;
                    // Boxed: operation futures are large; moving them costs.
                    #function(client, #operation_id, ::std::boxed::Box::pin(self.send_raw())).await
                }
            }));
        }
        if !added.is_empty() {
            routed.push(operation_id.clone());
        }
        block.items.extend(added);
    }
    let missing: Vec<&String> = operation_ids.iter().filter(|id| !routed.contains(id)).collect();
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

/// `DEFAULT_BASE_URL`: the spec's first server, where the client connects
/// unless told otherwise.
pub fn add_server_url(file: &mut syn::File, openapi: &openapiv3::OpenAPI) {
    let url = openapi
        .servers
        .first()
        .map(|s| s.url.trim_end_matches('/').to_owned())
        .unwrap_or_default();
    file.items.push(parse_quote! {
        /// The API's base URL, from the spec's `servers`.
        pub const DEFAULT_BASE_URL: &str = #url;
    });
}

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
            syn::parse2(open_enum::string_schema(ident, name, &description, rules))
                .map_err(|e| format!("rule-carrying JSON Schemas: the template is not valid Rust: {e}"))?,
        );
    }
    items.extend(impls);
    Ok(())
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
        let name = format_ident!("{}ErrorBody", operation.operation_id.to_upper_camel_case());
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
            let variant = format_ident!(
                "{}",
                match status.status.as_str() {
                    "default" => "Other".to_owned(),
                    s => format!("Status{}", s.to_uppercase()),
                }
            );
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

/// Marks every generated struct with named fields `#[non_exhaustive]`, so
/// that a field the vendor adds is not a breaking change: outside the crate
/// they are built with their builders (`Call::builder()`) and matched with
/// `..`, never written as struct literals.
pub fn make_structs_non_exhaustive(file: &mut syn::File) -> Result<(), RewriteError> {
    let items = module_mut(file, "types", "non-exhaustive structs")?;
    for item in items.iter_mut() {
        if let Item::Struct(s) = item {
            if matches!(s.fields, syn::Fields::Named(_))
                && !s.attrs.iter().any(|a| a.path().is_ident("non_exhaustive"))
            {
                s.attrs.push(parse_quote!(#[non_exhaustive]));
            }
        }
    }
    Ok(())
}

/// typify's builders require a value for a struct's flattened map of
/// unknown fields (`extra`); a response type built by hand has none, so the
/// builder starts it empty instead.
pub fn default_flattened_maps(file: &mut syn::File) -> Result<(), RewriteError> {
    let types = module_mut(file, "types", "empty unknown-field maps")?;
    let mut flattened: Vec<(String, String)> = Vec::new();
    for item in types.iter() {
        let Item::Struct(s) = item else { continue };
        for field in &s.fields {
            let flatten = has_serde_flag(&field.attrs, "flatten");
            if let (true, Some(ident)) = (flatten, &field.ident) {
                flattened.push((s.ident.to_string(), ident.to_string()));
            }
        }
    }
    if flattened.is_empty() {
        return Ok(());
    }
    let builders = types
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "builder" => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .ok_or("empty unknown-field maps: typify's output has no `types::builder` module any more")?;
    for (name, field) in flattened {
        let done = builders.iter_mut().any(|item| {
            let Item::Impl(block) = item else { return false };
            let is_default = block
                .trait_
                .as_ref()
                .is_some_and(|(path, _)| path.segments.last().is_some_and(|s| s.ident == "Default"));
            let is_this = matches!(block.self_ty.as_ref(), Type::Path(p) if p.path.is_ident(name.as_str()));
            if !(is_default && is_this) {
                return false;
            }
            block.items.iter_mut().any(|member| {
                let ImplItem::Fn(f) = member else { return false };
                let Some(syn::Stmt::Expr(syn::Expr::Struct(init), None)) = f.block.stmts.last_mut() else {
                    return false;
                };
                init.fields.iter_mut().any(|fv| {
                    let hit = matches!(&fv.member, syn::Member::Named(m) if *m == field);
                    if hit {
                        fv.expr = parse_quote!(Ok(Default::default()));
                    }
                    hit
                })
            })
        });
        if !done {
            return Err(format!(
                "empty unknown-field maps: found no `{field}` in `impl Default for builder::{name}`"
            ));
        }
    }
    Ok(())
}

/// Implements the crate's drift inspection for every generated type: a
/// struct inspects its fields (by wire name) and reports its `extra` map,
/// an open enum reports `Unknown`, anything else has nothing to report.
pub fn add_drift_inspection(file: &mut syn::File, drift: &DriftInspection) -> Result<(), RewriteError> {
    let items = module_mut(file, "types", "drift inspection")?;
    let (inspect, findings) = (&drift.trait_, &drift.findings);
    let mut impls = Vec::new();
    for item in items.iter() {
        let (ident, body) = match item {
            Item::Struct(s) => {
                let syn::Fields::Named(fields) = &s.fields else {
                    let ident = &s.ident;
                    impls.push(quote!(impl #inspect for #ident {}));
                    continue;
                };
                let mut steps = Vec::new();
                for field in &fields.named {
                    let name = field.ident.as_ref().expect("named field");
                    if has_serde_flag(&field.attrs, "flatten") {
                        steps.push(quote!(found.fields(&self.#name);));
                        continue;
                    }
                    let wire = serde_value(&field.attrs, "rename").unwrap_or_else(|| name.to_string());
                    steps.push(quote! {
                        found.enter(#wire);
                        #inspect::inspect(&self.#name, found);
                        found.leave();
                    });
                }
                (s.ident.clone(), quote!(#(#steps)*))
            }
            Item::Enum(e) => {
                let open = e
                    .variants
                    .iter()
                    .any(|v| v.ident == "Unknown" && matches!(v.fields, syn::Fields::Unnamed(_)));
                if !open {
                    let ident = &e.ident;
                    impls.push(quote!(impl #inspect for #ident {}));
                    continue;
                }
                (
                    e.ident.clone(),
                    quote! {
                        if let Self::Unknown(value) = self {
                            found.enum_value(value.as_str());
                        }
                    },
                )
            }
            _ => continue,
        };
        impls.push(quote! {
            impl #inspect for #ident {
                fn inspect(&self, found: &mut #findings) {
                    #body
                }
            }
        });
    }
    if impls.is_empty() {
        return Err("drift inspection: the types module has no types".into());
    }
    let block: syn::File = syn::parse2(quote!(#(#impls)*))
        .map_err(|e| format!("drift inspection: the template is not valid Rust: {e}"))?;
    items.extend(block.items);
    Ok(())
}

/// Removes one trait from `#[derive(...)]` lists.
fn drop_derive(attrs: &mut [syn::Attribute], name: &str) {
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
        *attr = parse_quote!(#[derive(#(#kept),*)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_that_matches_nothing_fails_with_its_message() {
        // progenitor's output without the builder module it used to have.
        let mut file: syn::File = parse_quote! { pub mod types {} };
        let adapter = SendAdapter {
            function: parse_quote!(crate::transport::send),
            error_type: parse_quote!(crate::Error),
        };
        let err = route_send(&mut file, &adapter, &["create_call".into()]).unwrap_err();
        assert_eq!(
            err,
            "routing send: progenitor's output has no inline `mod builder` any more"
        );

        // A builder whose `send` is gone.
        let mut file: syn::File = parse_quote! { pub mod builder { pub struct CreateCall { client: u8 } impl CreateCall { pub fn other(self) {} } } };
        let err = route_send(&mut file, &adapter, &["create_call".into()]).unwrap_err();
        assert!(
            err.contains("found no `async fn send` on the builder of [\"create_call\"]"),
            "{err}"
        );

        // A builder without the client `send` hands on.
        let mut file: syn::File = parse_quote! { pub mod builder { pub struct CreateCall; impl CreateCall { pub async fn send(self) -> Result<ResponseValue<u8>, E> { todo!() } } } };
        let err = route_send(&mut file, &adapter, &["create_call".into()]).unwrap_err();
        assert_eq!(
            err,
            "routing send: the builder `CreateCall` has no `client` field any more"
        );

        // A constrained string typify did not make a newtype of.
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
