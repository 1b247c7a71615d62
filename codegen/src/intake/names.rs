//! Rust names that never move.
//!
//! Every generated type and operation is named by *where it sits in the API*,
//! not by how the vendor writes it: a [`Location`] such as
//! `POST /v1/calls 201.campaign.agent`. `openapi/rust-names.toml` (the name
//! book, written by `cargo xtask update-spec`) remembers the name each
//! location got; a new vendor document gets the same names for the same
//! places whether it writes a schema inline, under another component name or
//! as a `$ref`.
//!
//! A name is chosen, first match wins:
//! 1. a pin: `x-rust-name` on the schema or operation (set in our overlay);
//! 2. the name book's entry for the location;
//! 3. the rule for new things:
//!    - operations: the vendor's `operationId` in snake_case, else method and
//!      path (`GET /v1/calls/{callId}` -> `get_v1_calls_by_call_id`);
//!    - a component: its vendor name in PascalCase;
//!    - an inline schema: its parent type's name + the property in PascalCase
//!      (`Call` + `callType` -> `CallCallType`); array items add `Item`, map
//!      values `Value`, `allOf`/`anyOf`/`oneOf` members `Part{i}`/`Variant{i}`;
//!      a request body is `{Operation}Body`, a success response
//!      `{Operation}Response`, another status `{Operation}Error{status}`, a
//!      parameter `{Operation}{Parameter}`.
//!
//! Two places that get one name share one type when their schemas have the
//! same shape (descriptions and examples aside). Otherwise the place met
//! later in document order (operations by path and method, then parameters,
//! body, responses by status, properties by name) takes the next candidate
//! of the list above: a name the book records for another place is never
//! taken by a new thing; when no candidate is free, the first gets `2`, `3`,
//! ... appended. Each such decision is printed as a note.

use std::collections::BTreeMap;

use heck::{ToSnakeCase, ToUpperCamelCase};
use serde::{Deserialize, Serialize};

/// Where something sits in the API, e.g. `POST /v1/calls body.agentId`.
pub type Location = String;

/// The name book: every location's Rust name (`openapi/rust-names.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameBook {
    /// `METHOD /path` to the generated method name.
    #[serde(default)]
    pub operations: BTreeMap<Location, String>,
    /// Schema location to the generated type name.
    #[serde(default)]
    pub types: BTreeMap<Location, String>,
}

const HEADER: &str = "\
# Rust names of the SigmaMind spec's operations and types, by where they sit in
# the API. Written by `cargo xtask update-spec`: a name recorded here stays the
# same through every vendor update, however the vendor writes the schema.
# Do not edit: to choose a name, pin it with `x-rust-name` in overlay.yaml.
";

impl NameBook {
    /// Parses the TOML text of a name book.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| format!("not a valid name book: {e}"))
    }

    /// The TOML text of the name book, with its header.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a name book serialises");
        format!("{HEADER}\n{body}")
    }
}

/// Whether `location` is `place` or a place inside it (`POST /v1/calls 400`
/// holds `POST /v1/calls 400.errors[]`).
pub fn is_at_or_below(location: &str, place: &str) -> bool {
    location
        .strip_prefix(place)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[', '{']))
}

/// The place that holds `location` (`POST /v1/calls 201.campaign` holds
/// `POST /v1/calls 201.campaign.agent`), if it is not a body or response
/// itself.
pub fn parent_location(location: &str) -> Option<&str> {
    if let Some(inner) = location
        .strip_suffix("[]")
        .or_else(|| location.strip_suffix("{}"))
    {
        return Some(inner);
    }
    // `METHOD /path rest`: only `rest` has steps (a path may hold dots).
    let rest_at = location.match_indices(' ').nth(1)?.0 + 1;
    // The last step's dot: not one inside a member's `[key]`, which may
    // name a component or a discriminator value holding dots.
    let mut depth = 0usize;
    let mut dot = None;
    for (at, c) in location[rest_at..].char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => dot = Some(at),
            _ => {}
        }
    }
    Some(&location[..rest_at + dot?])
}

/// The rule's name for an operation without a pin or a name-book entry.
pub fn operation_name(method: &str, path: &str, operation_id: Option<&str>) -> String {
    if let Some(id) = operation_id.filter(|id| id.chars().any(char::is_alphanumeric)) {
        return rust_fn_name(&id.to_snake_case());
    }
    let mut parts = vec![method.to_lowercase()];
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => parts.push(format!("by_{}", param.to_snake_case())),
            None => parts.push(segment.to_snake_case()),
        }
    }
    rust_fn_name(&parts.join("_"))
}

/// A type name from any text: PascalCase, starting with a letter.
pub fn type_name(text: &str) -> String {
    let name = text.to_upper_camel_case();
    let name: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => name,
        Some(_) => format!("Type{name}"),
        None => "Type".to_owned(),
    }
}

fn rust_fn_name(snake: &str) -> String {
    let name: String = snake
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => name,
        _ => format!("op_{name}"),
    }
}

#[cfg(test)]
mod location_tests {
    use super::*;

    #[test]
    fn places_hold_places() {
        assert!(is_at_or_below(
            "POST /v1/calls 400.errors[]",
            "POST /v1/calls 400"
        ));
        assert!(is_at_or_below("POST /v1/calls 400", "POST /v1/calls 400"));
        assert!(!is_at_or_below("POST /v1/calls 4001", "POST /v1/calls 400"));
        assert_eq!(
            parent_location("POST /v1/calls 201.campaign.agent"),
            Some("POST /v1/calls 201.campaign")
        );
        assert_eq!(
            parent_location("POST /v1/calls 400.errors[]"),
            Some("POST /v1/calls 400.errors")
        );
        assert_eq!(parent_location("POST /v1.2/calls body"), None);
        assert_eq!(parent_location("GET /a param path id"), None);
        // A member's key may hold dots: they are not steps.
        assert_eq!(
            parent_location("GET /a 200.rules[].oneOf[type=v1.2]"),
            Some("GET /a 200.rules[]")
        );
        assert_eq!(
            parent_location("GET /a 200.rules[].oneOf[type=v1.2].x"),
            Some("GET /a 200.rules[].oneOf[type=v1.2]")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_follow_the_rule() {
        assert_eq!(
            operation_name("post", "/v1/calls", Some("createCall")),
            "create_call"
        );
        assert_eq!(
            operation_name("get", "/v1/calls/{callId}", None),
            "get_v1_calls_by_call_id"
        );
        assert_eq!(operation_name("get", "/", None), "get");
        assert_eq!(operation_name("get", "/2fa", Some("")), "get_2fa");
    }

    #[test]
    fn type_names_are_pascal_case_identifiers() {
        assert_eq!(type_name("call_status"), "CallStatus");
        assert_eq!(type_name("CallCallType"), "CallCallType");
        assert_eq!(type_name("404 body"), "Type404Body");
        assert_eq!(type_name("E164PhoneNumber"), "E164PhoneNumber");
    }

    #[test]
    fn the_name_book_round_trips_through_toml() {
        let mut book = NameBook::default();
        book.operations
            .insert("POST /v1/calls".into(), "create_call".into());
        book.types
            .insert("POST /v1/calls 201.campaign.agent".into(), "Agent".into());
        let text = book.to_toml();
        assert!(text.starts_with("# Rust names"), "{text}");
        assert_eq!(NameBook::parse(&text).unwrap(), book);
    }
}
