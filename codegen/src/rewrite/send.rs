//! Every operation's `send` through the crate's layer (auth, retries,
//! errors, drift): progenitor's request construction is kept as generated
//! (but for a URL without path parameters, which comes parsed from the
//! transport); what it does with the request once built (hooks, its error
//! type, its decoding of the response) is replaced by one call to the
//! adapter.

use std::collections::HashMap;

use heck::ToUpperCamelCase;
use quote::{format_ident, quote, ToTokens};
use syn::{parse_quote, Expr, GenericArgument, ImplItem, Item, Pat, PathArguments, ReturnType, Stmt, Type};

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

/// The builder method that holds progenitor's request construction.
const BUILD_REQUEST: &str = "build_request";

/// Splits each operation builder's `send` in two: `build_request`, which
/// is progenitor's code up to the built `reqwest::Request` (see
/// `parse_url_once` for its one edit); and
/// `send`, which hands that request to the adapter (`adapter(client,
/// operation_id, &[(201, 201)], self.build_request(), transport::Json)`:
/// the documented success statuses as ranges, and how a success's body is
/// decoded, by the kind progenitor's success arm has: `Json`, `Empty` or
/// `Stream`). Every operation in `operations` must get one.
pub fn route_send(
    file: &mut syn::File,
    adapter: &SendAdapter,
    operations: &[Routed],
) -> Result<(), RewriteError> {
    let function = &adapter.function;
    let error = &adapter.error_type;
    let transport = &adapter.transport;
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
        if block
            .items
            .iter()
            .any(|member| matches!(member, ImplItem::Fn(f) if f.sig.ident == BUILD_REQUEST))
        {
            return Err(format!(
                "routing send: the builder `{builder}` already has a method `{BUILD_REQUEST}` \
                 (a parameter of that name?)"
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
            let (success, progenitor_error) = result_types(&f.sig.output).ok_or_else(|| {
                format!(
                    "routing send: `{builder}::send` no longer returns `Result<ResponseValue<T>, Error<E>>`"
                )
            })?;
            let (mut construction, decoder) = split_send(&f.block.stmts)
                .map_err(|problem| format!("routing send: `{builder}::send`: {problem}"))?;
            parse_url_once(&mut construction, transport, operation_id)
                .map_err(|problem| format!("routing send: `{builder}::send`: {problem}"))?;
            let decoder = format_ident!("{decoder}");
            let docs: Vec<_> = f
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .cloned()
                .collect();
            let build_request = format_ident!("{BUILD_REQUEST}");
            *member = ImplItem::Fn(parse_quote! {
                #[doc = "progenitor's request code, up to the built request `send` sends."]
                fn #build_request(self) -> ::std::result::Result<::reqwest::Request, #progenitor_error> {
                    #(#construction)*
                    Ok(request)
                }
            });
            added.push(ImplItem::Fn(parse_quote! {
                #(#docs)*
                ///
                /// Auth, retries and errors are handled by the crate: failures are
                /// a [`crate::Error`], and every `2xx` answer is a success.
                pub async fn send(self) -> ::std::result::Result<#success, #error> {
                    let client = self.client;
                    #function(client, #operation_id, #documented, self.#build_request(), #transport::#decoder).await
                }
            }));
            break;
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

/// progenitor's `send` body, split: the statements that build `request`
/// (everything before `let info = OperationInfo { .. }`, which begins the
/// hooks), and the decoder its success arm calls for (the arm of the final
/// `match` on the status that covers `200`).
fn split_send(stmts: &[Stmt]) -> Result<(Vec<Stmt>, &'static str), String> {
    let info = stmts
        .iter()
        .position(|stmt| local_named(stmt, "info").is_some())
        .ok_or("no `let info = OperationInfo { .. }` before the hooks any more")?;
    if stmts[..info]
        .last()
        .and_then(|stmt| local_named(stmt, "request"))
        .is_none()
    {
        return Err("the statement before `let info` no longer builds `request`".into());
    }
    let Some(Stmt::Expr(Expr::Match(status_match), None)) = stmts.last() else {
        return Err("it no longer ends with a `match` on the response's status".into());
    };
    let success = status_match
        .arms
        .iter()
        .find(|arm| covers_200(&arm.pat))
        .ok_or("its status `match` has no arm for `200` any more")?;
    let body = success.body.to_token_stream().to_string().replace(' ', "");
    let decoder = if body.contains("ResponseValue::from_response(") {
        "Json"
    } else if body.contains("ResponseValue::empty(") {
        "Empty"
    } else if body.contains("ResponseValue::stream(") {
        "Stream"
    } else {
        return Err(format!(
            "its success arm decodes in a way the adapter has no decoder for: `{body}`"
        ));
    };
    Ok((stmts[..info].to_vec(), decoder))
}

/// For an operation whose path has no parameters, progenitor formats the
/// same URL on every call (`let url = format!("{}/v1/calls",
/// client.baseurl,)`) and reqwest parses it each time; the request is given
/// the URL the transport parsed once (`transport::endpoint(client,
/// operation_id, url)`) instead. Paths with parameters are left as they are.
fn parse_url_once(
    construction: &mut [Stmt],
    transport: &syn::Path,
    operation_id: &str,
) -> Result<(), String> {
    let url = construction.iter().find_map(|stmt| local_named(stmt, "url"));
    let Some(Expr::Macro(format)) = url
        .and_then(|local| local.init.as_ref())
        .map(|init| init.expr.as_ref())
    else {
        return Err("no `let url = format!(..)` any more".into());
    };
    if !format.mac.path.is_ident("format") {
        return Err("`url` is no longer made by `format!`".into());
    }
    let arguments = format
        .mac
        .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        .map_err(|e| format!("`format!` of the URL unreadable: {e}"))?;
    // The format string and the base URL, nothing else: a path without parameters.
    if arguments.len() != 2 {
        return Ok(());
    }
    let Some(Stmt::Local(request)) = construction.last_mut() else {
        return Err("the request is no longer built by the last statement".into());
    };
    let mut expr = request
        .init
        .as_mut()
        .map(|init| init.expr.as_mut())
        .ok_or("`let request` has no value")?;
    // Down the builder chain (`client.client.post(url).header(..)...build()?`)
    // to the call on the HTTP client that takes `url`.
    loop {
        match expr {
            Expr::Try(tried) => expr = tried.expr.as_mut(),
            Expr::MethodCall(call) if is_http_client(&call.receiver) => {
                let url_only = call.args.len() == 1
                    && matches!(call.args.first(), Some(Expr::Path(p)) if p.path.is_ident("url"));
                if !url_only {
                    return Err("the HTTP client's method is no longer given `url` alone".into());
                }
                call.args = parse_quote!(#transport::endpoint(client, #operation_id, url).map_err(Error::InvalidRequest)?);
                return Ok(());
            }
            Expr::MethodCall(call) => expr = call.receiver.as_mut(),
            _ => return Err("the request is no longer built by a chain on `client.client`".into()),
        }
    }
}

/// `client.client`: the builder's client's `reqwest::Client`.
fn is_http_client(expr: &Expr) -> bool {
    matches!(expr, Expr::Field(field)
        if matches!(&field.member, syn::Member::Named(name) if name == "client")
            && matches!(field.base.as_ref(), Expr::Path(p) if p.path.is_ident("client")))
}

/// The local of `stmt` when it is `let name = ..;` (`let name: T = ..;`).
fn local_named<'s>(stmt: &'s Stmt, name: &str) -> Option<&'s syn::Local> {
    let Stmt::Local(local) = stmt else { return None };
    let ident = match &local.pat {
        Pat::Ident(ident) => &ident.ident,
        Pat::Type(typed) => match typed.pat.as_ref() {
            Pat::Ident(ident) => &ident.ident,
            _ => return None,
        },
        _ => return None,
    };
    (ident == name).then_some(local)
}

/// Whether a `match` arm's pattern takes status `200` (`200u16`,
/// `200..=299`).
fn covers_200(pat: &Pat) -> bool {
    let number = |expr: &Expr| match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) => int.base10_parse::<u16>().ok(),
        _ => None,
    };
    match pat {
        Pat::Lit(lit) => number(&Expr::Lit(lit.clone())) == Some(200),
        Pat::Range(range) => {
            let low = range.start.as_deref().and_then(number).unwrap_or(0);
            let high = range.end.as_deref().and_then(number).unwrap_or(u16::MAX);
            match range.limits {
                syn::RangeLimits::Closed(_) => (low..=high).contains(&200),
                syn::RangeLimits::HalfOpen(_) => (low..high).contains(&200),
            }
        }
        Pat::Or(or) => or.cases.iter().any(covers_200),
        _ => false,
    }
}

/// `ResponseValue<T>` and `Error<E>` out of `Result<ResponseValue<T>, Error<E>>`.
fn result_types(output: &ReturnType) -> Option<(Type, Type)> {
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
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    });
    Some((types.next()?, types.next()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter() -> SendAdapter {
        SendAdapter {
            function: parse_quote!(crate::transport::send),
            error_type: parse_quote!(crate::Error),
            transport: parse_quote!(crate::transport),
        }
    }

    fn create_call() -> Vec<Routed> {
        vec![Routed {
            operation_id: "create_call".into(),
            documented_success: vec![(201, 201)],
        }]
    }

    /// A builder in progenitor's shape (abridged), whose success arm is `success`.
    fn builder(success: proc_macro2::TokenStream) -> syn::File {
        builder_with_url(success, quote!(let url = format!("{}/v1/calls", client.baseurl);))
    }

    /// The same, with `url` made by `url`.
    fn builder_with_url(success: proc_macro2::TokenStream, url: proc_macro2::TokenStream) -> syn::File {
        parse_quote! {
            pub mod builder {
                pub struct CreateCall<'a> { client: &'a super::Client, body: u8 }
                impl<'a> CreateCall<'a> {
                    /// Sends a `POST` request to `/v1/calls`
                    pub async fn send(self) -> Result<ResponseValue<types::Call>, Error<()>> {
                        let Self { client, body } = self;
                        #url
                        #[allow(unused_mut)]
                        let mut request = client.client.post(url).json(&body).build()?;
                        let info = OperationInfo { operation_id: "create_call" };
                        client.pre(&mut request, &info).await?;
                        let result = client.exec(request, &info).await;
                        client.post(&result, &info).await?;
                        let response = result?;
                        match response.status().as_u16() {
                            #success
                            400u16 => Err(Error::ErrorResponse(ResponseValue::empty(response))),
                            _ => Err(Error::UnexpectedResponse(response)),
                        }
                    }
                }
            }
        }
    }

    fn routed(success: proc_macro2::TokenStream) -> Result<String, RewriteError> {
        let mut file = builder(success);
        route_send(&mut file, &adapter(), &create_call())?;
        Ok(quote!(#file).to_string())
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

        // A `send` whose hooks no longer begin with `let info`.
        let mut file: syn::File = parse_quote! { pub mod builder { pub struct CreateCall { client: u8 } impl CreateCall { pub async fn send(self) -> Result<ResponseValue<u8>, Error<()>> { todo!() } } } };
        let err = route_send(&mut file, &adapter(), &create_call()).unwrap_err();
        assert_eq!(
            err,
            "routing send: `CreateCall::send`: no `let info = OperationInfo { .. }` before the hooks any more"
        );

        // A success arm decoded in a way no decoder stands for.
        let err = routed(quote!(200..=299 => ResponseValue::upgrade(response).await,)).unwrap_err();
        assert!(err.contains("no decoder for"), "{err}");
        // No arm for a success at all.
        let err = routed(quote!(100u16 => todo!(),)).unwrap_err();
        assert!(err.contains("no arm for `200`"), "{err}");

        // A parameter named like the method the rewrite adds.
        let mut file = builder(quote!(200..=299 => ResponseValue::from_response(response).await,));
        let Item::Mod(module) = &mut file.items[0] else {
            unreachable!()
        };
        let Item::Impl(block) = &mut module.content.as_mut().unwrap().1[1] else {
            unreachable!()
        };
        block.items.push(parse_quote!(
            pub fn build_request(self) -> Self {
                self
            }
        ));
        let err = route_send(&mut file, &adapter(), &create_call()).unwrap_err();
        assert!(err.contains("already has a method `build_request`"), "{err}");
    }

    #[test]
    fn send_hands_the_built_request_and_the_documented_success_statuses_to_the_adapter() {
        let text = routed(quote!(200..=299 => { ResponseValue::from_response(response).await })).unwrap();
        assert!(
            text.contains(
                "crate :: transport :: send (client , \"create_call\" , & [(201u16 , 201u16)] , \
                 self . build_request () , crate :: transport :: Json) . await"
            ),
            "{text}"
        );
        // The construction is progenitor's, up to the built request; the
        // hooks and progenitor's decoding are gone.
        assert!(
            text.contains(
                "fn build_request (self) -> :: std :: result :: Result < :: reqwest :: Request , Error < () > > { \
                 let Self { client , body } = self ; let url = format ! (\"{}/v1/calls\" , client . baseurl) ; \
                 # [allow (unused_mut)] let mut request = client . client . post (crate :: transport :: endpoint \
                 (client , \"create_call\" , url) . map_err (Error :: InvalidRequest) ?) . json (& body) . build () ? ; \
                 Ok (request) }"
            ),
            "{text}"
        );
        for gone in [
            "OperationInfo",
            "client . exec",
            "from_response",
            "async fn build_request",
        ] {
            assert!(!text.contains(gone), "{gone}: {text}");
        }
        // The operation's documentation stays on `send`.
        assert!(text.contains("Sends a `POST` request to `/v1/calls`"), "{text}");
    }

    /// A path with parameters is formatted differently on each call: its
    /// URL is left to reqwest. A URL no longer made the way the rewrite
    /// reads it fails generation.
    #[test]
    fn only_a_url_without_parameters_is_parsed_once() {
        let json = || quote!(200..=299 => ResponseValue::from_response(response).await,);
        let routed_with = |url| {
            let mut file = builder_with_url(json(), url);
            route_send(&mut file, &adapter(), &create_call()).map(|()| quote!(#file).to_string())
        };
        let text = routed_with(
            quote!(let url = format!("{}/v1/calls/{}", client.baseurl, encode_path(&id.to_string()),);),
        )
        .unwrap();
        assert!(text.contains("client . client . post (url)"), "{text}");
        assert!(!text.contains("endpoint"), "{text}");

        let err = routed_with(quote!(let address = format!("{}/v1/calls", client.baseurl);)).unwrap_err();
        assert!(err.ends_with("no `let url = format!(..)` any more"), "{err}");
        let err = routed_with(quote!(let url = concat!("{}/v1/calls", client.baseurl);)).unwrap_err();
        assert!(err.ends_with("`url` is no longer made by `format!`"), "{err}");

        // The HTTP client's method given more than the URL.
        let mut file = builder(json());
        let text = quote!(#file)
            .to_string()
            .replace("post (url)", "request (Method :: POST , url)");
        file = syn::parse_str(&text).unwrap();
        let err = route_send(&mut file, &adapter(), &create_call()).unwrap_err();
        assert!(
            err.ends_with("the HTTP client's method is no longer given `url` alone"),
            "{err}"
        );
    }

    #[test]
    fn each_kind_of_success_gets_its_decoder() {
        for (arm, decoder) in [
            (
                quote!(200..=299 => { ResponseValue::from_response(response).await }),
                "Json",
            ),
            (
                quote!(200..=299 => { Ok(ResponseValue::empty(response)) }),
                "Empty",
            ),
            (
                quote!(200..=299 => { Ok(ResponseValue::stream(response)) }),
                "Stream",
            ),
            (quote!(200u16 => { Ok(ResponseValue::empty(response)) }), "Empty"),
        ] {
            let text = routed(arm).unwrap();
            assert!(
                text.contains(&format!("crate :: transport :: {decoder}) . await")),
                "{decoder}: {text}"
            );
        }
    }
}
