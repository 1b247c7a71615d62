// How the generated code connects to this crate's hand-written layer, as
// typed paths: included by build.rs, and by the snapshot tests and xtask so
// that they generate exactly what build.rs does.

/// The generator settings of the `sigmamind` crate.
pub fn sigmamind_options() -> sigmamind_codegen::Options {
    use syn::parse_quote;
    sigmamind_codegen::Options {
        types_path: parse_quote!(crate::types),
        client_state: Some(parse_quote!(crate::client::ClientState)),
        send_adapter: Some(sigmamind_codegen::SendAdapter {
            function: parse_quote!(crate::transport::send),
            error_type: parse_quote!(crate::Error),
            transport: parse_quote!(crate::transport),
        }),
        drift: Some(sigmamind_codegen::DriftInspection {
            trait_: parse_quote!(crate::drift::Inspect),
            findings: parse_quote!(crate::drift::Findings),
        }),
        error_body_trait: Some(parse_quote!(crate::error::ErrorBody)),
    }
}

/// Where the typed `httpmock` helpers find the generated types.
#[allow(dead_code)] // build.rs uses it; the tools that include this file may not
pub fn httpmock_crate_path() -> syn::Path {
    syn::parse_quote!(crate)
}
