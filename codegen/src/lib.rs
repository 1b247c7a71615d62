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
pub mod lint;
pub mod open_enum;
pub mod rewrite;
pub mod schema;
pub mod spec;
pub mod surface;
pub mod transform;

use std::panic::{self, AssertUnwindSafe};

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;

pub use spec::{Spec, SpecError};

/// How the generated code connects to the hand-written crate around it.
/// The `sigmamind` crate's own settings live beside its `build.rs`
/// (`build/generator_options.rs`), as typed paths.
#[derive(Clone)]
pub struct Options {
    /// Path of the generated `types` module as seen from the crate root.
    pub types_path: syn::Path,
    /// `inner` state type of the generated `Client`; with it, the crate must
    /// implement `ClientHooks` for `Client` itself (auth, retries, tracing).
    pub client_state: Option<syn::Type>,
    /// Async fn every operation's `send` goes through. Without it, `send` is
    /// progenitor's.
    pub send_adapter: Option<SendAdapter>,
    /// The crate's drift inspection: every generated type implements
    /// `trait_` (`fn inspect(&self, found: &mut findings)`), reporting open
    /// enums' unknown values and structs' unknown fields.
    pub drift: Option<DriftInspection>,
    /// Trait the generated error-body enums implement: `const OPERATION_ID:
    /// &'static str` and `fn from_json(status: u16, body: &serde_json::Value)
    /// -> Option<Self>`. Without it, no error-body enums are generated.
    pub error_body_trait: Option<syn::Path>,
}

/// Paths of the crate's drift inspection (see [`Options::drift`]).
#[derive(Clone)]
pub struct DriftInspection {
    /// The trait every generated type implements.
    pub trait_: syn::Path,
    /// The collector its method takes.
    pub findings: syn::Path,
}

/// The crate function that wraps progenitor's `send` (see [`Options`]).
#[derive(Clone)]
pub struct SendAdapter {
    /// Path of an `async fn(client: &Client, operation_id: &'static str, fut)
    /// -> Result<ResponseValue<T>, Error>`, given the builder's client, the
    /// operation's id and progenitor's boxed `send` future.
    pub function: syn::Path,
    /// The crate's error type.
    pub error_type: syn::Type,
}

/// Paths as written (syn's own `Debug` needs a feature the build would pay for).
fn tokens(value: &impl quote::ToTokens) -> String {
    value.to_token_stream().to_string()
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("types_path", &tokens(&self.types_path))
            .field("client_state", &self.client_state.as_ref().map(tokens))
            .field("send_adapter", &self.send_adapter)
            .field("drift", &self.drift.as_ref().map(|d| tokens(&d.trait_)))
            .field("error_body_trait", &self.error_body_trait.as_ref().map(tokens))
            .finish()
    }
}

impl std::fmt::Debug for SendAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendAdapter")
            .field("function", &tokens(&self.function))
            .field("error_type", &tokens(&self.error_type))
            .finish()
    }
}

impl Options {
    /// Plain progenitor output, types at the crate root (for a standalone crate).
    pub fn standalone() -> Self {
        Self {
            types_path: syn::parse_quote!(crate::types),
            client_state: None,
            send_adapter: None,
            drift: None,
            error_body_trait: None,
        }
    }
}

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
    let (openapi, plan) = prepared(spec)?;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("PartialEq")
        .with_derive("schemars::JsonSchema")
        // Deterministic order for maps, in memory and when serialised.
        .with_map_type("::std::collections::BTreeMap");
    if let Some(state) = &options.client_state {
        settings
            .with_inner_type(quote!(#state))
            .with_hooks(HooksMode::Expected);
    }
    replace_open_enums(&mut settings, &plan, &options.types_path);
    let mut file = run_generator(spec, "generator", || {
        Generator::new(&settings).generate_tokens(&openapi)
    })?;
    let rewrite_failed = |problem: String| {
        SpecError::new(
            &spec.file,
            format!(
                "a rewrite of progenitor's output failed (progenitor's output changed shape?): {problem}"
            ),
        )
    };
    rewrite::add_open_enums(&mut file, &plan.open_enums).map_err(rewrite_failed)?;
    rewrite::add_constrained_schemas(&mut file, &plan.constrained_strings).map_err(rewrite_failed)?;
    rewrite::add_server_url(&mut file, &openapi);
    rewrite::make_structs_non_exhaustive(&mut file).map_err(rewrite_failed)?;
    rewrite::default_flattened_maps(&mut file).map_err(rewrite_failed)?;
    if let Some(drift) = &options.drift {
        rewrite::add_drift_inspection(&mut file, drift).map_err(rewrite_failed)?;
    }
    if let Some(body_trait) = &options.error_body_trait {
        rewrite::add_error_bodies(&mut file, &plan.error_bodies, body_trait).map_err(rewrite_failed)?;
    }
    if let Some(adapter) = &options.send_adapter {
        let operation_ids: Vec<String> = spec::operations(&spec.document)
            .into_iter()
            .filter_map(|(_, _, op)| op.get("operationId").and_then(serde_json::Value::as_str))
            .map(str::to_owned)
            .collect();
        rewrite::route_send(&mut file, adapter, &operation_ids).map_err(rewrite_failed)?;
    }
    Ok(file)
}

thread_local! {
    static SILENCED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Typed `httpmock` helpers for every operation (progenitor's `MockServerExt`),
/// over the same transformed spec as the client so the types match.
/// `crate_path` is where the generated `types` module lives (`crate`).
pub fn generate_httpmock(spec: &Spec, crate_path: &syn::Path) -> Result<String, SpecError> {
    let (openapi, plan) = prepared(spec)?;
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged);
    replace_open_enums(&mut settings, &plan, &syn::parse_quote!(#crate_path::types));
    let crate_path = quote!(#crate_path).to_string().replace(' ', "");
    let file = run_generator(spec, "httpmock generator", || {
        Generator::new(&settings).httpmock(&openapi, &crate_path)
    })?;
    Ok(render(&file))
}

/// The spec as progenitor should see it (after [`transform::prepare`]), and the plan.
fn prepared(spec: &Spec) -> Result<(openapiv3::OpenAPI, transform::Plan), SpecError> {
    let (document, plan) = transform::prepare(spec)?;
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
fn run_generator(
    spec: &Spec,
    which: &str,
    generate: impl FnOnce() -> Result<proc_macro2::TokenStream, progenitor::Error>,
) -> Result<syn::File, SpecError> {
    let tokens = quietly(generate)
        .map_err(|panic| SpecError::new(&spec.file, format!("the {which} failed: {panic}")))?
        .map_err(|e| SpecError::new(&spec.file, format!("the {which} rejected the spec: {e}")))?;
    syn::parse2(tokens)
        .map_err(|e| SpecError::new(&spec.file, format!("the {which} produced invalid Rust: {e}")))
}

/// Runs `f`, turning a panic into an `Err` with its message and keeping the
/// default panic output (a backtrace pointing into progenitor) off stderr.
/// Only this thread's panics are silenced: the hook installed once defers to
/// the previous hook everywhere else (tests run in parallel).
fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !SILENCED.with(|s| s.get()) {
                previous(info);
            }
        }));
    });
    SILENCED.with(|s| s.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    SILENCED.with(|s| s.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".to_owned())
    })
}
