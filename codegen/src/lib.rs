//! Code generation for the `sigmamind` crate, shared by its `build.rs`, the
//! `xtask` maintainer commands and the drift-snapshot tests.
//!
//! The pipeline: [`Spec::load`] reads and checks the spec;
//! [`transform::prepare`] decides what must be forward compatible;
//! progenitor generates the client and types; [`rewrite`] adds the open enums
//! and the rule-carrying JSON Schemas and routes every operation's `send`
//! through the crate's error layer; [`render`] turns the tree into source
//! (pretty with feature `pretty`). [`surface::render`] lists what the
//! generated code offers, for review.

mod attrs;
#[cfg(feature = "intake")]
pub mod intake;
mod json_schema;
pub mod lint;
pub mod open_enum;
pub mod options;
pub mod rewrite;
pub mod schema;
pub mod spec;
pub mod surface;
pub mod transform;

use std::panic::{self, AssertUnwindSafe};

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;

pub use options::{DriftInspection, Options, OptionsText, SendAdapter};
pub use spec::{Spec, SpecError};

/// Generates Rust source for a checked spec (see [`render`]).
pub fn generate(spec: &Spec, options: &Options) -> Result<String, SpecError> {
    Ok(render(&generate_file(spec, options)?))
}

/// Source text for a syntax tree: pretty-printed with feature `pretty` (for
/// people: snapshots, `cargo xtask generate`), token text without it (for the
/// compiler: `build.rs` then needs no pretty-printer).
pub fn render(file: &syn::File) -> String {
    #[cfg(feature = "pretty")]
    {
        prettyplease::unparse(file)
    }
    #[cfg(not(feature = "pretty"))]
    {
        render_compact(file)
    }
}

/// Token text, one line: what `build.rs` writes.
pub fn render_compact(file: &syn::File) -> String {
    quote::ToTokens::to_token_stream(file).to_string()
}

/// The checked spec as compact JSON, for code that validates against it at
/// run time (the mock server) without a YAML parser.
pub fn spec_json(spec: &Spec) -> String {
    spec.document.to_string()
}

/// Generates the syntax tree (for tools that walk it, like [`surface`]).
pub fn generate_file(spec: &Spec, options: &Options) -> Result<syn::File, SpecError> {
    generate_in(spec, options, Scope::Crate)
}

/// How much of progenitor's output a generation parses and rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// All of it: the crate `build.rs` compiles.
    Crate,
    /// What [`surface::render`] reads: without typify's struct builders
    /// (`types::builder`), which it never lists and which are over half of
    /// the code of a large spec (23 of GitHub's 37 MB); their one rewrite
    /// ([`rewrite::flattened_maps`]) goes with them; the other rewrites
    /// make no impls the listing does not read (an open enum's, a lenient
    /// `Deserialize`), but check all they check.
    Surface,
}

fn generate_in(spec: &Spec, options: &Options, scope: Scope) -> Result<syn::File, SpecError> {
    // With the crate's send adapter, every 2xx is the operation's success.
    let success = match options.send_adapter {
        Some(_) => transform::Success::AnyTwoHundred,
        None => transform::Success::AsDocumented,
    };
    let (openapi, plan) = prepared(spec, success)?;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("PartialEq")
        .with_derive("schemars::JsonSchema")
        // Deterministic order for maps, in memory and when serialised.
        .with_map_type("::std::collections::BTreeMap");
    if let Some(state) = &options.client_state {
        // With a send adapter the generated code calls no hooks (the
        // adapter does their work): progenitor's empty ones are enough.
        let hooks = match options.send_adapter {
            Some(_) => HooksMode::Optional,
            None => HooksMode::Expected,
        };
        settings.with_inner_type(quote!(#state)).with_hooks(hooks);
    }
    replace_open_enums(&mut settings, &plan, &options.types_path);
    let mut tokens = generated_tokens(spec, "generator", || {
        Generator::new(&settings).generate_tokens(&openapi)
    })?;
    if scope == Scope::Surface {
        tokens = without_struct_builders(tokens).map_err(|problem| {
            SpecError::new(
                &spec.file,
                format!("progenitor's output changed shape: {problem}"),
            )
        })?;
    }
    let mut file = parsed(spec, "generator", tokens)?;
    let rewrite_failed = |problem: String| {
        SpecError::new(
            &spec.file,
            format!(
                "a rewrite of progenitor's output failed (progenitor's output changed shape?): {problem}"
            ),
        )
    };
    rewrite::open_enums::open_enums(&mut file, &plan.open_enums, scope).map_err(rewrite_failed)?;
    rewrite::constrained_schemas::add_constrained_schemas(&mut file, &plan.constrained_strings)
        .map_err(rewrite_failed)?;
    rewrite::server_url::add_server_url(&mut file, &openapi);
    rewrite::non_exhaustive::make_structs_non_exhaustive(&mut file).map_err(rewrite_failed)?;
    if scope == Scope::Crate {
        rewrite::flattened_maps::default_flattened_maps(&mut file).map_err(rewrite_failed)?;
    }
    rewrite::lenient_responses::lenient(&mut file, scope).map_err(rewrite_failed)?;
    if let Some(drift) = &options.drift {
        rewrite::drift_inspection::add_drift_inspection(&mut file, drift).map_err(rewrite_failed)?;
    }
    if let Some(body_trait) = &options.error_body_trait {
        rewrite::error_bodies::add_error_bodies(&mut file, &plan.error_bodies, body_trait)
            .map_err(rewrite_failed)?;
    }
    if let Some(adapter) = &options.send_adapter {
        let routed: Vec<rewrite::send::Routed> = spec::operations(&spec.document)
            .into_iter()
            .filter_map(|(_, _, op)| {
                Some(rewrite::send::Routed {
                    operation_id: op.get("operationId")?.as_str()?.to_owned(),
                    documented_success: spec::documented_success(op),
                })
            })
            .collect();
        rewrite::send::route_send(&mut file, adapter, &routed).map_err(rewrite_failed)?;
    }
    Ok(file)
}

/// What typify says when it cannot name an enum's values apart as Rust
/// variants (it panics, stopping the whole generation).
const UNNAMEABLE_VALUES: &str = "Failed to make unique variant names for [";

/// The values a generator failure says typify cannot name apart as
/// variants (`Failed to make unique variant names for [a,b]`), if it is
/// that failure.
pub fn unnameable_enum_values(failure: &str) -> Option<Vec<&str>> {
    let at = failure.find(UNNAMEABLE_VALUES)?;
    let values = failure[at + UNNAMEABLE_VALUES.len()..].split(']').next()?;
    Some(values.split(',').collect())
}

/// The failures a whole generation of `prepared` (the document progenitor
/// sees, after [`transform::prepare`]) would stop on among its enums: one
/// message per string enum whose values cannot be named apart as Rust
/// variants, in typify's words, found without generating: typify's naming
/// ([`open_enum::variant_names`], held to typify's output by a test) on
/// each. A large spec's generation takes seconds; this, milliseconds, so a
/// tool comparing what can be generated (the change report) leaves those
/// enums' operations out before generating, not after a failed round.
pub fn enum_failures(prepared: &serde_json::Value) -> Vec<String> {
    prepared
        .pointer("/components/schemas")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(_, schema)| {
            let values = schema.get("enum")?.as_array()?;
            // typify names the variants of string enums (a `null` among
            // them makes the type optional, not a variant).
            let strings: Vec<String> = values
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<_>>()?;
            open_enum::variant_names(&strings).err()
        })
        .map(|problem| format!("the generator failed: {problem}"))
        .collect()
}

/// Typed `httpmock` helpers for every operation (progenitor's `MockServerExt`),
/// over the same transformed spec as the client so the types match.
/// `crate_path` is where the generated `types` module lives (`crate`).
pub fn generate_httpmock(spec: &Spec, crate_path: &syn::Path) -> Result<String, SpecError> {
    // The helpers stub exact statuses (`then.created(..)`), as the spec documents them.
    let (openapi, plan) = prepared(spec, transform::Success::AsDocumented)?;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged);
    replace_open_enums(&mut settings, &plan, &syn::parse_quote!(#crate_path::types));
    let crate_path = quote!(#crate_path).to_string().replace(' ', "");
    let tokens = generated_tokens(spec, "httpmock generator", || {
        Generator::new(&settings).httpmock(&openapi, &crate_path)
    })?;
    let file = parsed(spec, "httpmock generator", tokens)?;
    Ok(render(&file))
}

/// The spec as progenitor should see it (after [`transform::prepare`]), and the plan.
fn prepared(
    spec: &Spec,
    success: transform::Success,
) -> Result<(openapiv3::OpenAPI, transform::Plan), SpecError> {
    let (document, plan) = transform::prepare(spec, success)?;
    let openapi = Spec {
        file: spec.file.clone(),
        document,
    }
    .openapi()?;
    Ok((openapi, plan))
}

/// Points typify at the open enums, which live in `types_path`.
fn replace_open_enums(settings: &mut GenerationSettings, plan: &transform::Plan, types_path: &syn::Path) {
    let types_path = quote!(#types_path).to_string().replace(' ', "");
    for open in &plan.open_enums {
        settings.with_replacement(
            &open.name,
            format!("{types_path}::{}", open.name),
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }
}

/// Runs one of progenitor's generators; panics and errors become a
/// [`SpecError`] naming which generator and the spec file.
fn generated_tokens(
    spec: &Spec,
    which: &str,
    generate: impl FnOnce() -> Result<proc_macro2::TokenStream, progenitor::Error>,
) -> Result<proc_macro2::TokenStream, SpecError> {
    quietly(generate)
        .map_err(|panic| SpecError::new(&spec.file, format!("the {which} failed: {panic}")))?
        .map_err(|e| SpecError::new(&spec.file, format!("the {which} rejected the spec: {e}")))
}

/// The syntax tree of a generator's tokens.
fn parsed(spec: &Spec, which: &str, tokens: proc_macro2::TokenStream) -> Result<syn::File, SpecError> {
    syn::parse2(tokens)
        .map_err(|e| SpecError::new(&spec.file, format!("the {which} produced invalid Rust: {e}")))
}

/// progenitor's tokens with `mod types { mod builder { .. } }` emptied,
/// before they are parsed (parsing is most of a generation's time).
fn without_struct_builders(tokens: proc_macro2::TokenStream) -> Result<proc_macro2::TokenStream, String> {
    let mut emptied = false;
    let tokens = map_module(tokens, "types", |types| {
        map_module(types, "builder", |_| {
            emptied = true;
            proc_macro2::TokenStream::new()
        })
    });
    match emptied {
        true => Ok(tokens),
        false => Err("it has no `mod types { mod builder { .. } }` any more".into()),
    }
}

/// `tokens` with the contents of each inline `mod NAME { .. }` at its top
/// level replaced by `f` of them.
fn map_module(
    tokens: proc_macro2::TokenStream,
    name: &str,
    mut f: impl FnMut(proc_macro2::TokenStream) -> proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let mut out: Vec<TokenTree> = Vec::new();
    for tree in tokens {
        let is_module = matches!(&tree, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
            && matches!(out.as_slice(), [.., TokenTree::Ident(keyword), TokenTree::Ident(ident)]
                if keyword == "mod" && ident == name);
        match tree {
            TokenTree::Group(group) if is_module => {
                let mut replaced = Group::new(Delimiter::Brace, f(group.stream()));
                replaced.set_span(group.span());
                out.push(TokenTree::Group(replaced));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// Runs `f`, turning a panic into an `Err` with its message. (The panic
/// hook still prints it: a library does not replace the process's hook.)
fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".to_owned())
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::without_struct_builders;

    #[test]
    fn only_the_struct_builders_inside_types_are_emptied() {
        let tokens = quote! {
            pub mod types {
                pub struct Call { id: String }
                pub mod builder { pub struct Call { id: Result<String, String> } }
            }
            pub mod builder { pub struct CreateCall<'a> { client: &'a () } }
        };
        let pruned = without_struct_builders(tokens).unwrap().to_string();
        let expected = quote! {
            pub mod types {
                pub struct Call { id: String }
                pub mod builder {}
            }
            pub mod builder { pub struct CreateCall<'a> { client: &'a () } }
        };
        assert_eq!(pruned, expected.to_string());
    }

    #[test]
    fn output_without_struct_builders_is_a_change_of_shape() {
        let err = without_struct_builders(quote!(
            pub mod types {
                pub struct Call;
            }
        ))
        .unwrap_err();
        assert_eq!(err, "it has no `mod types { mod builder { .. } }` any more");
    }
}
