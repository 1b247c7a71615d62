//! Edits to progenitor's output, on the syntax tree.

use quote::format_ident;
use syn::{parse_quote, GenericArgument, ImplItem, Item, PathArguments, ReturnType, Type};

use crate::open_enum;
use crate::transform::{ConstrainedString, OpenEnum};
use crate::SendAdapter;

fn module_mut<'a>(file: &'a mut syn::File, name: &str) -> Option<&'a mut Vec<Item>> {
    file.items.iter_mut().find_map(|item| match item {
        Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

/// Puts the open enums into the generated `types` module, where typify's
/// replacements point.
pub fn add_open_enums(file: &mut syn::File, enums: &[OpenEnum]) {
    if enums.is_empty() {
        return;
    }
    let mut tokens = open_enum::unknown_value();
    tokens.extend(open_enum::parse_error());
    for e in enums {
        tokens.extend(open_enum::generate(e));
    }
    let extra: syn::File = syn::parse2(tokens).expect("open enum template is valid Rust");
    if let Some(items) = module_mut(file, "types") {
        // After the `error` module and before the types, in spec order.
        let at = items
            .iter()
            .position(|item| matches!(item, Item::Struct(_) | Item::Enum(_)))
            .unwrap_or(items.len());
        items.splice(at..at, extra.items);
    }
}

/// Renames each operation builder's `send` to `send_raw` and adds a `send`
/// that runs it through the adapter, so callers get the crate's error type
/// while progenitor's request code stays exactly as generated.
pub fn route_send(file: &mut syn::File, adapter: &SendAdapter) {
    let function: syn::Path = syn::parse_str(&adapter.function).expect("adapter path");
    let error: syn::Type = syn::parse_str(&adapter.error_type).expect("error type path");
    let Some(items) = module_mut(file, "builder") else {
        return;
    };
    for item in items.iter_mut() {
        let Item::Impl(block) = item else { continue };
        let mut added = Vec::new();
        for member in block.items.iter_mut() {
            let ImplItem::Fn(f) = member else { continue };
            if f.sig.ident != "send" || f.sig.asyncness.is_none() {
                continue;
            }
            let Some(success) = success_type(&f.sig.output) else {
                continue;
            };
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
                    // Boxed: operation futures are large; moving them costs.
                    #function(::std::boxed::Box::pin(self.send_raw())).await
                }
            }));
        }
        block.items.extend(added);
    }
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
pub fn add_constrained_schemas(file: &mut syn::File, strings: &[ConstrainedString]) {
    let Some(items) = module_mut(file, "types") else {
        return;
    };
    let mut impls = Vec::new();
    for c in strings {
        let found = items.iter_mut().find_map(|item| match item {
            Item::Struct(s) if s.ident == c.name && matches!(s.fields, syn::Fields::Unnamed(_)) => Some(s),
            _ => None,
        });
        let Some(newtype) = found else { continue };
        drop_derive(&mut newtype.attrs, "JsonSchema");
        let ident = &newtype.ident;
        let name = &c.name;
        let description = c.description.clone().unwrap_or_default();
        let option = |v: Option<u32>| match v {
            Some(n) => quote::quote!(Some(#n)),
            None => quote::quote!(None),
        };
        let (min, max) = (option(c.min_length), option(c.max_length));
        let pattern = match &c.pattern {
            Some(p) => quote::quote!(Some(#p.to_owned())),
            None => quote::quote!(None),
        };
        let rules = quote::quote!(string: Some(Box::new(::schemars::schema::StringValidation {
            max_length: #max,
            min_length: #min,
            pattern: #pattern,
        })),);
        impls.push(
            syn::parse2(open_enum::string_schema(ident, name, &description, rules)).expect("valid impl"),
        );
    }
    items.extend(impls);
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
