//! The generation pipeline: clear errors for bad specs, forward-compatibility
//! decisions, and a surface listing that shows spec changes line by line.

use serde_json::{json, Value};
use sigmamind_codegen::{generate, generate_file, surface, Options, Spec};

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/sigmamind.json");

fn shipped() -> Value {
    Spec::load(SPEC).unwrap().document
}

fn problem(text: &str) -> String {
    Spec::parse("openapi/broken.yaml", text).unwrap_err().to_string()
}

fn surface_of(document: Value) -> String {
    let spec = Spec::from_value("mem.yaml", document).unwrap();
    let file = generate_file(&spec, &Options::standalone()).unwrap();
    surface::render(&spec, &file)
}

#[test]
fn bad_specs_fail_with_one_line_naming_file_and_problem() {
    let yaml = problem("openapi: 3.0.3\ninfo: [unclosed\n");
    if cfg!(feature = "yaml") {
        assert!(yaml.starts_with("openapi/broken.yaml: not valid YAML:"), "{yaml}");
        assert!(yaml.contains("line"), "{yaml}");
    } else {
        assert!(
            yaml.contains("needs sigmamind-codegen's `yaml` feature"),
            "{yaml}"
        );
    }

    let version = problem(r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#);
    assert_eq!(
        version,
        "openapi/broken.yaml: is OpenAPI 3.1.0, but the generator reads OpenAPI 3.0.x; convert it with `cargo xtask update-spec`"
    );

    let mut dangling = shipped();
    dangling["components"]["schemas"]["Call"]["properties"]["agent"] =
        json!({"$ref": "#/components/schemas/Agnet"});
    let err = Spec::from_value("openapi/sigmamind.json", dangling)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "openapi/sigmamind.json: `$ref: #/components/schemas/Agnet` points at nothing in the document"
    );

    let mut typo = shipped();
    typo["paths"]["/v1/calls"]["post"]["responses"] = json!("201");
    let err = Spec::from_value("openapi/sigmamind.json", typo)
        .unwrap_err()
        .to_string();
    // openapiv3 deserialises `paths` by hand, so the path stops there; the
    // message still says what was expected.
    assert!(
        err.starts_with("openapi/sigmamind.json: not a valid OpenAPI 3.0 document at `paths`"),
        "{err}"
    );
    assert!(err.contains("expected struct Responses"), "{err}");

    let mut two_bodies = shipped();
    two_bodies["paths"]["/v1/calls"]["post"]["responses"]["200"] = json!({
        "description": "ok", "content": {"application/json": {"schema": {"type": "string"}}}
    });
    let err = Spec::from_value("openapi/sigmamind.json", two_bodies)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("POST /v1/calls: its success responses have 2 different body schemas"),
        "{err}"
    );

    let mut no_id = shipped();
    no_id["paths"]["/v1/calls"]["post"]
        .as_object_mut()
        .unwrap()
        .remove("operationId");
    let spec = Spec::from_value("openapi/sigmamind.json", no_id).unwrap();
    let err = generate(&spec, &Options::standalone()).unwrap_err().to_string();
    assert!(err.contains("missing operation ID"), "{err}");
}

#[test]
fn request_rules_on_a_schema_shared_with_responses_are_refused() {
    let mut shared = shipped();
    shared["components"]["schemas"]["PhoneNumber"]["properties"]["sipPhoneNumber"] =
        json!({"$ref": "#/components/schemas/E164PhoneNumber"});
    let spec = Spec::from_value("openapi/sigmamind.json", shared).unwrap();
    let err = generate(&spec, &Options::standalone()).unwrap_err().to_string();
    assert!(
        err.contains("schema `E164PhoneNumber` is used by both requests and responses"),
        "{err}"
    );
}

#[test]
fn an_inline_enum_fed_to_the_generator_without_the_intake_is_refused_with_the_way_out() {
    let mut inline = shipped();
    inline["components"]["schemas"]["Agent"]["properties"]["status"] =
        json!({"type": "string", "enum": ["Live", "Draft"]});
    let spec = Spec::from_value("openapi/sigmamind.json", inline).unwrap();
    let err = generate(&spec, &Options::standalone()).unwrap_err().to_string();
    assert!(
        err.contains("Agent.status: an enum written inline in a response cannot be generated open")
            && err.contains("cargo xtask update-spec"),
        "{err}"
    );
}

#[test]
fn a_new_enum_value_is_exactly_one_new_line_of_surface() {
    let before = surface_of(shipped());
    let mut changed = shipped();
    changed["components"]["schemas"]["CallStatus"]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("voicemail"));
    let after = surface_of(changed);
    let old: Vec<&str> = before.lines().collect();
    let added: Vec<&str> = after.lines().filter(|l| !old.contains(l)).collect();
    assert_eq!(added, vec!["  voicemail  (Voicemail)"]);
    assert_eq!(after.lines().count(), before.lines().count() + 1);
}

#[test]
fn new_response_enums_are_generated_open_without_code_changes() {
    let mut changed = shipped();
    changed["components"]["schemas"]["AgentStatus"] =
        json!({"type": "string", "enum": ["Live", "Draft"], "description": "Agent status."});
    changed["components"]["schemas"]["Agent"]["properties"]["status"] =
        json!({"$ref": "#/components/schemas/AgentStatus"});
    let surface = surface_of(changed);
    assert!(
        surface.contains("enum AgentStatus (open: unknown values kept)"),
        "{surface}"
    );
    assert!(surface.contains("  status: Option<AgentStatus>"), "{surface}");
}

/// Seen on GitHub's description: `teams/list` listed the `send()` of
/// `teams/list-members-in-org` and every other operation whose builder's
/// name starts with `TeamsList`. Each operation lists its own.
#[test]
fn each_operation_lists_only_its_own_send() {
    let mut document = shipped();
    document["paths"]["/v1/calls/again"] = json!({"post": {
        "operationId": "create_call_again",
        "responses": {"204": {"description": "Placed again."}}
    }});
    let surface = surface_of(document);
    let section = |header: &str| -> Vec<String> {
        surface
            .lines()
            .skip_while(|l| !l.starts_with(header))
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .map(str::to_owned)
            .collect()
    };
    let sends = |header: &str| {
        section(header)
            .into_iter()
            .filter(|l| l.contains(".send()"))
            .count()
    };
    assert_eq!(sends("POST /v1/calls "), 1, "{surface}");
    assert_eq!(sends("POST /v1/calls/again "), 1, "{surface}");
}

/// The change report's listing skips typify's struct builders and their
/// rewrite; nothing it lists comes from them. Checked on a document with
/// what each rewrite touches: response-only objects (unknown fields kept,
/// lenient decoding), open and closed enums, a constrained string, an
/// `allOf`, a nullable object, nested inline objects.
#[test]
fn the_listing_without_struct_builders_is_the_whole_surface() {
    let mut document = shipped();
    let schemas = &mut document["components"]["schemas"];
    schemas["Code"] = json!({"type": "string", "pattern": "^[A-Z]{2}$", "minLength": 2, "maxLength": 2});
    schemas["Holder"] = json!({
        "type": "object", "nullable": true, "title": "HolderInner",
        "properties": {"code": {"type": "string"}}
    });
    schemas["Both"] = json!({"allOf": [
        {"$ref": "#/components/schemas/Agent"},
        {"type": "object", "properties": {"holder": {"$ref": "#/components/schemas/Holder"}}}
    ]});
    document["paths"]["/v1/both"] = json!({"post": {
        "operationId": "both",
        "parameters": [{"name": "code", "in": "query", "required": true,
                        "schema": {"$ref": "#/components/schemas/Code"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Both"}
        }}}}
    }});
    let spec = Spec::from_value("mem.yaml", document).unwrap();
    let file = generate_file(&spec, &Options::standalone()).unwrap();
    let whole = surface::render(&spec, &file);
    assert!(
        whole.contains("newtype Code(String)") && whole.contains("rule: longer than 2 characters"),
        "{whole}"
    );
    assert!(whole.contains("struct Both") && whole.contains("..: fields the spec does not know"));
    let listing = surface::listing(&spec, &Options::standalone()).unwrap();
    assert_eq!(listing, whole);
}

/// typify stops a whole generation on an enum whose values it cannot name
/// apart as variants (GitHub's `reactions-+1` and `reactions--1`);
/// `enum_failures` finds each such enum without generating, in the words
/// the whole generation stops with. An open (response) enum is named by us
/// with typify's rules: `+1` and `-1` are no failure (`plus1`, `minus1`),
/// `x+1` and `x-1` are (both `X1`, then `XX1`), in the same words.
#[test]
fn the_enums_typify_cannot_name_are_found_without_the_whole_generation() {
    let mut document = shipped();
    let schemas = &mut document["components"]["schemas"];
    schemas["Sort"] = json!({"type": "string", "enum": ["created", "reactions-+1", "reactions--1"]});
    schemas["Order"] = json!({"type": "string", "enum": ["a b", "a-b", "asc"]});
    schemas["Fine"] = json!({"type": "string", "enum": ["asc", "desc"]});
    schemas["Seen"] = json!({"type": "string", "enum": ["x+1", "x-1"]});
    schemas["Call"]["properties"]["seen"] = json!({"$ref": "#/components/schemas/Seen"});
    schemas["Reaction"] = json!({"type": "string", "enum": ["+1", "-1", "laugh"]});
    schemas["Call"]["properties"]["reaction"] = json!({"$ref": "#/components/schemas/Reaction"});
    let parameters = ["Sort", "Order", "Fine"].map(|name| {
        json!({"name": name.to_lowercase(), "in": "query", "schema": {"$ref": format!("#/components/schemas/{name}")}})
    });
    document["paths"]["/v1/search"] = json!({"get": {
        "operationId": "search_calls",
        "parameters": parameters,
        "responses": {"204": {"description": "none"}}
    }});
    let spec = Spec::from_value("mem.yaml", document.clone()).unwrap();
    let (prepared, _) =
        sigmamind_codegen::transform::prepare(&spec, sigmamind_codegen::transform::Success::AsDocumented)
            .unwrap();
    let failures = sigmamind_codegen::enum_failures(&prepared);
    let values: Vec<Vec<&str>> = failures
        .iter()
        .map(|f| sigmamind_codegen::unnameable_enum_values(f).unwrap())
        .collect();
    assert_eq!(
        values,
        // In component order: Order, Seen, Sort.
        [
            vec!["a b", "a-b"],
            vec!["x+1", "x-1"],
            vec!["reactions-+1", "reactions--1"]
        ],
        "{failures:?}"
    );
    // The whole generation stops on one of them, with the same words:
    // typify on a closed one, the open-enums rewrite on `Seen`.
    let whole = generate(&spec, &Options::standalone()).unwrap_err().to_string();
    assert!(
        failures.iter().any(|f| whole.ends_with(f.as_str())),
        "{whole}\n{failures:?}"
    );
    document["components"]["schemas"]["Seen"] = json!({"type": "string", "enum": ["x+1", "y-1"]});
    let spec = Spec::from_value("mem.yaml", document.clone()).unwrap();
    let whole = generate(&spec, &Options::standalone()).unwrap_err().to_string();
    assert!(
        whole.ends_with("Failed to make unique variant names for [reactions-+1,reactions--1]")
            || whole.ends_with("Failed to make unique variant names for [a b,a-b]"),
        "{whole}"
    );
    // Without the closed ones, the open one stops it, named.
    for name in ["Sort", "Order"] {
        document["components"]["schemas"][name] = json!({"type": "string"});
    }
    document["components"]["schemas"]["Seen"] = json!({"type": "string", "enum": ["x+1", "x-1"]});
    let spec = Spec::from_value("mem.yaml", document.clone()).unwrap();
    let whole = generate(&spec, &Options::standalone()).unwrap_err().to_string();
    assert!(
        whole.ends_with("open enums: `Seen`: Failed to make unique variant names for [x+1,x-1]"),
        "{whole}"
    );
    // Without any of them, it generates; `+1` and `-1` as typify names them.
    document["components"]["schemas"]["Seen"] = json!({"type": "string", "enum": ["x+1", "y-1"]});
    let spec = Spec::from_value("mem.yaml", document).unwrap();
    let file = generate_file(&spec, &Options::standalone()).unwrap();
    let listing = surface::render(&spec, &file);
    assert!(
        listing.contains("  +1  (plus1)\n  -1  (minus1)\n  laugh  (Laugh)"),
        "{listing}"
    );
}

/// Open enums are ours to generate, closed ones typify's: a value gets the
/// same Rust variant either way. Held to typify's own output for values
/// GitHub and others publish (`+1`, `2fa_disabled`, `*`, `self`, file
/// modes, accents), and for values only its second try names apart.
#[test]
fn open_enum_variants_are_named_as_typify_names_closed_ones() {
    let cases = [
        json!([
            "+1",
            "-1",
            "laugh",
            "2fa_disabled",
            "*",
            "self",
            "in-progress",
            "a b",
            "ça va",
            "x'y",
            "100644",
            "_private",
            "über",
            "snake_case_value",
            "CamelCase",
            "HTTP2",
            "fn"
        ]),
        json!(["a-b", "a--b", "c"]),
    ];
    for values in cases {
        let mut document = shipped();
        document["components"]["schemas"]["Tricky"] = json!({"type": "string", "enum": values});
        document["paths"]["/v1/tricky"] = json!({"get": {
            "operationId": "tricky",
            "parameters": [{"name": "t", "in": "query", "schema": {"$ref": "#/components/schemas/Tricky"}}],
            "responses": {"204": {"description": "none"}}
        }});
        let spec = Spec::from_value("mem.yaml", document).unwrap();
        let file = generate_file(&spec, &Options::standalone()).unwrap();
        let typify: Vec<String> = file
            .items
            .iter()
            .find_map(|item| match item {
                syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
                _ => None,
            })
            .and_then(|(_, items)| {
                items.iter().find_map(|item| match item {
                    syn::Item::Enum(e) if e.ident == "Tricky" => {
                        Some(e.variants.iter().map(|v| v.ident.to_string()).collect())
                    }
                    _ => None,
                })
            })
            .expect("typify made the closed enum");
        let values: Vec<String> = serde_json::from_value(values).unwrap();
        assert_eq!(
            sigmamind_codegen::open_enum::variant_names(&values).unwrap(),
            typify
        );
    }
}

#[test]
fn generation_is_deterministic() {
    let spec = Spec::load(SPEC).unwrap();
    let a = generate(&spec, &Options::standalone()).unwrap();
    let b = generate(&spec, &Options::standalone()).unwrap();
    assert_eq!(a, b);
}

/// Seen on GitHub's description: a nullable object component becomes a
/// newtype over `Option` of a struct typify names after the schema's
/// `title` (`NullableIssueReference(Option<IssueReference>)`), or
/// `{name}Inner`. The change report finds those structs by this rule.
#[test]
fn a_nullable_object_holds_the_struct_the_rule_names() {
    let mut document = shipped();
    let object = |title: Option<&str>| {
        let mut schema = json!({
            "type": "object", "nullable": true,
            "properties": {"number": {"type": "integer"}}
        });
        if let Some(title) = title {
            schema["title"] = json!(title);
        }
        schema
    };
    let cases = [
        ("NullableIssueReference", Some("Issue Reference")),
        ("NullablePinnedComment", Some("Pinned issue-comment's context")),
        ("CodeScanningOptions", None),
    ];
    let mut properties = serde_json::Map::new();
    for (name, title) in cases {
        document["components"]["schemas"][name] = object(title);
        properties.insert(
            name.to_lowercase(),
            json!({"$ref": format!("#/components/schemas/{name}")}),
        );
    }
    document["components"]["schemas"]["Holder"] = json!({"type": "object", "properties": properties});
    document["paths"]["/v1/holders"] = json!({"get": {
        "operationId": "get_holder",
        "responses": {"200": {"description": "A holder.", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Holder"}
        }}}}
    }});
    let surface = surface_of(document.clone());
    for (name, _) in cases {
        let schema = &document["components"]["schemas"][name];
        let inner = sigmamind_codegen::schema::nullable_object_inner(name, schema).unwrap();
        assert!(
            surface.contains(&format!("newtype {name}(Option<{inner}>)")),
            "{name} -> {inner}:\n{surface}"
        );
        assert!(
            surface.contains(&format!("\nstruct {inner}\n")),
            "{inner}:\n{surface}"
        );
    }
}
