//! `DEFAULT_BASE_URL`, from the spec's servers.

use syn::parse_quote;

/// `DEFAULT_BASE_URL`: the spec's first server, where the client connects
/// unless told otherwise. A spec without servers gets OpenAPI's default,
/// `/`: relative to wherever the document was served, so no default at all:
/// the constant is empty, and the crate's client refuses to build without a
/// base URL (`cargo xtask check` also refuses such an effective spec).
pub fn add_server_url(file: &mut syn::File, openapi: &openapiv3::OpenAPI) {
    let url = openapi
        .servers
        .first()
        .map(|s| s.url.trim_end_matches('/').to_owned())
        .unwrap_or_default();
    file.items.push(parse_quote! {
        /// The API's base URL, from the spec's `servers` (empty when it lists none).
        pub const DEFAULT_BASE_URL: &str = #url;
    });
}
