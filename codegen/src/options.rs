//! How the generated code connects to the hand-written crate around it.
//! The `sigmamind` crate's own settings live beside its `build.rs`
//! (`build/generator_options.rs`), as typed paths.

/// The generator's settings (see the module docs).
#[derive(Clone)]
pub struct Options {
    /// Path of the generated `types` module as seen from the crate root.
    pub types_path: syn::Path,
    /// `inner` state type of the generated `Client`. Without a send adapter,
    /// the crate must then implement `ClientHooks` for `Client` itself;
    /// with one, the adapter does their work and the hooks are not called.
    pub client_state: Option<syn::Type>,
    /// Async fn every operation's `send` goes through. Without it, `send` is
    /// progenitor's, and only the documented success status is a success.
    pub send_adapter: Option<SendAdapter>,
    /// The crate's drift inspection: every generated type implements
    /// `trait_` (`fn inspect(&self, found: &mut findings)`), reporting open
    /// enums' unknown values and structs' unknown and mistyped fields.
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
    /// The collector its method takes: `enter(&'static str)`, `leave()`,
    /// `enum_value(&str)` and `fields(&Map, &[&'static str])` (a struct's
    /// `extra` map and its documented wire names).
    pub findings: syn::Path,
}

/// The crate function every operation's `send` calls (see [`Options`]).
#[derive(Clone)]
pub struct SendAdapter {
    /// Path of an `async fn(client: &Client, operation_id: &'static str,
    /// documented_success: &'static [(u16, u16)], request:
    /// Result<reqwest::Request, progenitor_client::Error<E>>, decoder) ->
    /// Result<ResponseValue<T>, Error>`, given the builder's client, the
    /// operation's id, the success statuses its spec documents as inclusive
    /// ranges (`(201, 201)`; `(200, 299)` for `2XX`), the request as
    /// progenitor's code built it (or why it could not), and how to decode a
    /// success's body. The adapter authorises, sends and decodes. With an
    /// adapter, every `2xx` is the operation's success; the adapter says when
    /// one came back that the spec does not document.
    pub function: syn::Path,
    /// The crate's error type.
    pub error_type: syn::Type,
    /// The module of the crate's transport, whose other items the generated
    /// code names: the decoders `send` passes, values of unit structs
    /// `Json` (the success type from JSON), `Empty` (no content: `()`) and
    /// `Stream` (another media type: progenitor's `ByteStream`); and
    /// `fn endpoint(client: &Client, operation_id: &'static str, url:
    /// String) -> Result<reqwest::Url, String>`, the URL of an operation
    /// whose path has no parameters, which is the same text for every call
    /// of a client (so it need not be parsed each time); its error, a
    /// sentence, becomes progenitor's `Error::InvalidRequest`.
    pub transport: syn::Path,
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
            .field("transport", &tokens(&self.transport))
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

/// [`Options`] as text, to hand to another thread: syn's paths hold
/// tokens that stay on the thread that made them. [`OptionsText::options`]
/// parses them again, into the same settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsText {
    types_path: String,
    client_state: Option<String>,
    send_adapter: Option<(String, String, String)>,
    drift: Option<(String, String)>,
    error_body_trait: Option<String>,
}

impl Options {
    /// These settings as text (see [`OptionsText`]).
    pub fn to_text(&self) -> OptionsText {
        OptionsText {
            types_path: tokens(&self.types_path),
            client_state: self.client_state.as_ref().map(tokens),
            send_adapter: self
                .send_adapter
                .as_ref()
                .map(|a| (tokens(&a.function), tokens(&a.error_type), tokens(&a.transport))),
            drift: self
                .drift
                .as_ref()
                .map(|d| (tokens(&d.trait_), tokens(&d.findings))),
            error_body_trait: self.error_body_trait.as_ref().map(tokens),
        }
    }
}

impl OptionsText {
    /// The settings again, on this thread.
    pub fn options(&self) -> Options {
        fn parse<T: syn::parse::Parse>(text: &str) -> T {
            syn::parse_str(text).expect("the text of a path or type that was parsed once")
        }
        Options {
            types_path: parse(&self.types_path),
            client_state: self.client_state.as_deref().map(parse),
            send_adapter: self
                .send_adapter
                .as_ref()
                .map(|(function, error_type, transport)| SendAdapter {
                    function: parse(function),
                    error_type: parse(error_type),
                    transport: parse(transport),
                }),
            drift: self.drift.as_ref().map(|(trait_, findings)| DriftInspection {
                trait_: parse(trait_),
                findings: parse(findings),
            }),
            error_body_trait: self.error_body_trait.as_deref().map(parse),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings sent to another thread as text come back the same.
    #[test]
    fn options_survive_their_text() {
        let options = Options {
            types_path: syn::parse_quote!(crate::types),
            client_state: Some(syn::parse_quote!(crate::client::Inner)),
            send_adapter: Some(SendAdapter {
                function: syn::parse_quote!(crate::transport::send),
                error_type: syn::parse_quote!(crate::Error),
                transport: syn::parse_quote!(crate::transport),
            }),
            drift: Some(DriftInspection {
                trait_: syn::parse_quote!(crate::drift::Inspect),
                findings: syn::parse_quote!(crate::drift::Findings<'_>),
            }),
            error_body_trait: Some(syn::parse_quote!(crate::ErrorBody)),
        };
        let text = options.to_text();
        let again = std::thread::spawn(move || text.options().to_text())
            .join()
            .unwrap();
        assert_eq!(again, options.to_text());
        assert_eq!(format!("{:?}", again.options()), format!("{options:?}"));
    }
}
