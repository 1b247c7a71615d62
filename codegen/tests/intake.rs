//! The naming rules and inline schemas, on small documents (FIXTURES: each
//! imitates a shape vendors publish; none is the vendor's).
#![cfg(feature = "intake")]

use serde_json::{json, Value};
use sigmamind_codegen::intake::{self, NameBook};
use sigmamind_codegen::{generate_file, surface, Options, Spec};

fn doc(paths: Value, schemas: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas}
    })
}

fn get(path: &str, schema: Value) -> Value {
    json!({path: {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}}}})
}

fn take(document: &Value, book: &NameBook) -> intake::Intake {
    intake::run(document, None, book, true).unwrap()
}

fn surface_of(document: &Value) -> String {
    let spec = Spec::from_value("effective.json", document.clone()).unwrap();
    let file = generate_file(&spec, &Options::standalone()).unwrap();
    surface::render(&spec, &file)
}

#[test]
fn new_things_are_named_by_the_rules() {
    let vendor = doc(
        get(
            "/v1/agents/{agentId}",
            json!({"type": "object", "properties": {
                "state": {"type": ["string", "null"], "enum": ["live", "draft", null], "description": "d"},
                "tags": {"type": "array", "items": {"type": "object", "properties": {"label": {"type": "string"}}}}
            }}),
        ),
        json!({}),
    );
    let mut vendor = vendor;
    vendor["paths"]["/v1/agents/{agentId}"]["get"]["parameters"] =
        json!([{"name": "agentId", "in": "path", "required": true, "schema": {"type": "string"}}]);
    let taken = take(&vendor, &NameBook::default());
    let names = &taken.names;
    assert!(
        !names
            .types
            .contains_key("GET /v1/agents/{agentId} param path agentId"),
        "a plain string parameter makes no type, so it needs no name"
    );
    assert_eq!(
        names.operations["GET /v1/agents/{agentId}"],
        "get_v1_agents_by_agent_id"
    );
    assert_eq!(
        names.types["GET /v1/agents/{agentId} 200"],
        "GetV1AgentsByAgentIdResponse"
    );
    assert_eq!(
        names.types["GET /v1/agents/{agentId} 200.state"],
        "GetV1AgentsByAgentIdResponseState"
    );
    assert_eq!(
        names.types["GET /v1/agents/{agentId} 200.tags[]"],
        "GetV1AgentsByAgentIdResponseTagsItem"
    );
    // The inline nullable enum is a named, open response enum; `null` stays
    // with the field, not in the enum.
    let surface = surface_of(&taken.document);
    assert!(
        surface.contains("enum GetV1AgentsByAgentIdResponseState (open: unknown values kept)"),
        "{surface}"
    );
    assert!(
        surface.contains("  state: Option<GetV1AgentsByAgentIdResponseState>"),
        "{surface}"
    );
    let state = &taken.document["components"]["schemas"]["GetV1AgentsByAgentIdResponseState"];
    assert_eq!(state["enum"], json!(["live", "draft"]));
    assert!(state.get("nullable").is_none());
}

#[test]
fn a_name_in_the_book_survives_inlining_renaming_and_refs() {
    // Version 1: named components.
    let v1 = doc(
        get("/calls", json!({"$ref": "#/components/schemas/Call"})),
        json!({
            "Call": {"type": "object", "properties": {"status": {"$ref": "#/components/schemas/Status"}}},
            "Status": {"type": "string", "enum": ["a", "b"]}
        }),
    );
    let first = take(&v1, &NameBook::default());
    assert_eq!(first.names.types["GET /calls 200.status"], "Status");

    // Version 2: the vendor renames Call and writes Status inline, nullable.
    let v2 = doc(
        get("/calls", json!({"$ref": "#/components/schemas/CallRecord"})),
        json!({
            "CallRecord": {"type": "object", "properties": {
                "status": {"anyOf": [{"type": "string", "enum": ["a", "b", "c"]}, {"type": "null"}]}
            }}
        }),
    );
    let second = take(&v2, &first.names);
    assert_eq!(second.names.types["GET /calls 200"], "Call");
    assert_eq!(second.names.types["GET /calls 200.status"], "Status");
    assert_eq!(second.names.operations, first.names.operations);
    let surface = surface_of(&second.document);
    assert!(
        surface.contains("struct Call\n  status: Option<Status>"),
        "{surface}"
    );
    assert!(surface.contains("  c  (C)"), "{surface}");
}

#[test]
fn a_pin_overrides_the_book() {
    let mut v = doc(
        get(
            "/calls",
            json!({"type": "object", "x-rust-name": "CallList", "properties": {"n": {"type": "integer"}}}),
        ),
        json!({}),
    );
    v["paths"]["/calls"]["get"]["x-rust-name"] = json!("list_calls");
    let mut book = NameBook::default();
    book.operations.insert("GET /calls".into(), "get_calls".into());
    book.types
        .insert("GET /calls 200".into(), "GetCallsResponse".into());
    let taken = take(&v, &book);
    assert_eq!(taken.names.operations["GET /calls"], "list_calls");
    assert_eq!(taken.names.types["GET /calls 200"], "CallList");
    assert!(
        !taken.document.to_string().contains("x-rust-name"),
        "pins are ours, not the document's"
    );
}

#[test]
fn one_name_for_two_places_shares_a_type_or_is_told_apart() {
    let agent = json!({"type": "object", "description": "one", "properties": {"id": {"type": "string"}}});
    let same_shape =
        json!({"type": "object", "description": "two", "properties": {"id": {"type": "string"}}});
    let other_shape = json!({"type": "object", "properties": {"name": {"type": "string"}}});
    let mut book = NameBook::default();
    for place in ["a", "b", "c"] {
        book.types.insert(format!("GET /x 200.{place}"), "Agent".into());
    }
    let v = doc(
        get(
            "/x",
            json!({"type": "object", "properties": {"a": agent, "b": same_shape, "c": other_shape}}),
        ),
        json!({}),
    );
    let taken = take(&v, &book);
    let schemas = taken.document["components"]["schemas"].as_object().unwrap();
    assert!(
        schemas.contains_key("Agent") && schemas.contains_key("GetXResponseC"),
        "{schemas:?}"
    );
    assert_eq!(taken.names.types["GET /x 200.a"], "Agent");
    assert_eq!(taken.names.types["GET /x 200.b"], "Agent", "same shape: one type");
    assert_eq!(
        taken.names.types["GET /x 200.c"], "GetXResponseC",
        "another shape: a new thing's name"
    );
    assert!(
        taken.notes.iter().any(|n| n
            == "GET /x 200.c: `Agent` (recorded for this place) now names a type of another shape; named `GetXResponseC`"),
        "{:?}",
        taken.notes
    );

    // A new thing whose rule name is taken by another shape gets a number.
    let v = doc(
        get(
            "/x",
            json!({"type": "object", "properties": {
                "a": {"type": "object", "x-rust-name": "Item", "properties": {"id": {"type": "string"}}},
                "b": {"type": "object", "x-rust-name": "Item", "properties": {"n": {"type": "integer"}}}
            }}),
        ),
        json!({}),
    );
    let taken = take(&v, &NameBook::default());
    assert_eq!(taken.names.types["GET /x 200.b"], "GetXResponseB");
    let v = doc(
        get(
            "/x",
            json!({"type": "object", "properties": {
                "a": {"type": "object", "x-rust-name": "GetXResponseB", "properties": {"id": {"type": "string"}}},
                "b": {"type": "object", "properties": {"n": {"type": "integer"}}}
            }}),
        ),
        json!({}),
    );
    let taken = take(&v, &NameBook::default());
    assert_eq!(taken.names.types["GET /x 200.b"], "GetXResponseB2");
    assert!(
        taken.notes.iter().any(|n| n
            == "GET /x 200.b: `GetXResponseB` already names a type of another shape; named `GetXResponseB2`"),
        "{:?}",
        taken.notes
    );
}

#[test]
fn the_31_forms_vendors_write_take_in_inline_and_in_components() {
    let v = doc(
        get(
            "/x",
            json!({"type": ["object", "null"], "properties": {
                "kind": {"const": "call"},
                "owner": {"anyOf": [{"$ref": "#/components/schemas/Owner"}, {"type": "null"}]},
                "count": {"type": ["integer", "null"], "examples": [3], "exclusiveMinimum": 0}
            }}),
        ),
        json!({"Owner": {"type": "object", "properties": {"id": {"type": "string", "examples": ["o1"]}}}}),
    );
    let taken = take(&v, &NameBook::default());
    let schemas = &taken.document["components"]["schemas"];
    let response = &schemas["GetXResponse"];
    assert_eq!(
        response["properties"]["owner"],
        json!({"allOf": [{"$ref": "#/components/schemas/Owner"}], "nullable": true})
    );
    assert_eq!(
        response["properties"]["kind"],
        json!({"$ref": "#/components/schemas/GetXResponseKind"})
    );
    assert_eq!(schemas["GetXResponseKind"]["enum"], json!(["call"]));
    assert_eq!(response["properties"]["count"]["minimum"], json!(0));
    assert_eq!(schemas["Owner"]["properties"]["id"]["example"], json!("o1"));
    let surface = surface_of(&taken.document);
    assert!(surface.contains("  owner: Option<Owner>"), "{surface}");
}

#[test]
fn error_bodies_per_status_generate_with_one_typed_enum() {
    let mut v = doc(
        get("/x", json!({"type": "string"})),
        json!({"Problem": {"type": "object", "properties": {"title": {"type": "string"}}}}),
    );
    v["paths"]["/x"]["get"]["responses"]["400"] = json!({"description": "bad", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}});
    v["paths"]["/x"]["get"]["responses"]["404"] = json!({"description": "gone", "content": {"application/json": {"schema": {"type": "object", "properties": {"code": {"type": "integer"}}}}}});
    v["paths"]["/x"]["get"]["responses"]["5XX"] =
        json!({"description": "down", "content": {"application/json": {"schema": {"type": "string"}}}});
    let taken = take(&v, &NameBook::default());
    let spec = Spec::from_value("effective.json", taken.document).unwrap();
    let mut options = Options::standalone();
    options.error_body_trait = Some(syn::parse_quote!(crate::ErrorBody));
    let file = generate_file(&spec, &options).unwrap();
    let surface = surface::render(&spec, &file);
    for line in [
        "enum GetXErrorBody",
        "  Status400(Problem)  (Status400)",
        "  Status404(GetXError404)  (Status404)",
        "  Status5XX(serde_json::Value)  (Status5XX)",
    ] {
        assert!(surface.lines().any(|l| l == line), "no `{line}` in {surface}");
    }
}

/// FIXTURE shaped like GitHub's `repository-rule` (ghes-3.17 in
/// @octokit/openapi 22.0.0 → 23.0.2): union members that are components,
/// moved within the list. Places key a member by its component, so the
/// recorded book gives every member its own name back; positional places
/// gave each member the name of whatever used to sit at its index.
#[test]
fn reordered_union_members_keep_their_names() {
    let rule =
        |tag: &str| json!({"type": "object", "properties": {"type": {"type": "string", "enum": [tag]}}});
    let with_order = |order: &[&str]| {
        let members: Vec<Value> = order
            .iter()
            .map(|n| json!({"$ref": format!("#/components/schemas/{n}")}))
            .collect();
        doc(
            get("/rules", json!({"type": "array", "items": {"oneOf": members}})),
            json!({
                "rule-creation": rule("creation"),
                "rule-workflows": rule("workflows"),
                "rule-max-file-size": rule("max_file_size"),
            }),
        )
    };
    let old = take(
        &with_order(&["rule-creation", "rule-max-file-size", "rule-workflows"]),
        &NameBook::default(),
    );
    let new = take(
        &with_order(&["rule-creation", "rule-workflows", "rule-max-file-size"]),
        &old.names,
    );
    for (place, name) in &new.names.types {
        if let Some(member) = place.split(".oneOf[").nth(1) {
            let component = member.trim_end_matches(']');
            assert_eq!(name, &heck::ToPascalCase::to_pascal_case(component), "{place}");
        }
    }
    assert!(new
        .names
        .types
        .keys()
        .any(|p| p.ends_with(".oneOf[rule-workflows]")));
    assert_eq!(old.names.types, new.names.types);
}

/// The change report asks for the names alone (`intake::names`), without
/// the named document written: the same names as the whole intake, for a
/// 3.1 document (converted first) and for an effective spec taken in again,
/// with and without a name book.
#[test]
fn the_names_alone_are_the_intakes_names() {
    let vendor = doc(
        get(
            "/v1/agents",
            json!({"type": "object", "properties": {
                "state": {"type": ["string", "null"], "enum": ["live", "draft", null]},
                "tags": {"type": "array", "items": {"type": "object", "properties": {"label": {"type": "string"}}}}
            }}),
        ),
        json!({"Agent": {"type": "object", "properties": {"id": {"type": "string"}}}}),
    );
    let effective: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/sigmamind.json")).unwrap(),
    )
    .unwrap();
    for document in [&vendor, &effective] {
        let first = take(document, &NameBook::default()).names;
        assert!(!first.types.is_empty());
        for book in [NameBook::default(), first] {
            assert_eq!(
                intake::names(document, &book).unwrap(),
                take(document, &book).names
            );
        }
    }
}
