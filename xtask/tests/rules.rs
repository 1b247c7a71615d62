//! One test per rule of the change report, each naming its rule id, and the
//! fail-closed check. Each spec change is a FIXTURE made from the shipped
//! spec (see tests/support).

mod support;

use serde_json::{json, Value};
use support::{changed, rules, shipped};
use xtask::diff::{diff, AcceptedBreaks, Bump, Level};

const CALL: &str = "/components/schemas/Call/properties";
const REQUEST: &str = "/components/schemas/CreateCallRequest/properties";

/// The one change with `rule`, asserting its level; returns its message.
fn only(old: &Value, new: &Value, rule: &str, level: Level) -> String {
    let all = rules(old, new);
    let found: Vec<_> = all.iter().filter(|c| c.0 == rule).collect();
    assert_eq!(found.len(), 1, "one `{rule}` in {all:#?}");
    assert_eq!(found[0].1, level, "{all:#?}");
    assert!(
        !all.iter().any(|c| c.0 == "unclassified-surface-change"),
        "the rules explain every surface change: {all:#?}"
    );
    found[0].3.clone()
}

fn with_request_enum(values: Value) -> Value {
    changed(|s| {
        s.pointer_mut(REQUEST).unwrap()["priority"] =
            json!({"type": "string", "enum": values, "description": "Dialling priority."})
    })
}

#[test]
fn request_enum_value_added_is_breaking_for_a_closed_enum() {
    let old = with_request_enum(json!(["low", "high"]));
    let new = with_request_enum(json!(["low", "high", "urgent"]));
    let message = only(&old, &new, "request-enum-value-added", Level::Breaking);
    assert!(message.contains("exhaustive `match`"), "{message}");
}

#[test]
fn response_enum_value_added_is_a_warning() {
    let new = changed(|s| {
        let values = s.pointer_mut("/components/schemas/CallType/enum").unwrap();
        values.as_array_mut().unwrap().push(json!("sms"));
    });
    only(&shipped(), &new, "response-enum-value-added", Level::Warning);
    assert_eq!(diff(&shipped(), &new).semver, Bump::Minor);
}

#[test]
fn a_default_changes_no_rust_type_and_is_a_warning() {
    // The issue's case: `default` on the optional `agentId`.
    let new = changed(|s| s.pointer_mut(REQUEST).unwrap()["agentId"]["default"] = json!("agent_default"));
    let message = only(&shipped(), &new, "property-default-changed", Level::Warning);
    assert!(message.contains("stays `Option<T>`"), "{message}");
    let surface = |doc: &Value| {
        let spec = sigmamind_codegen::Spec::from_value("s.json", doc.clone()).unwrap();
        let options = xtask::generator_options::sigmamind_options();
        sigmamind_codegen::surface::render(&spec, &sigmamind_codegen::generate_file(&spec, &options).unwrap())
    };
    assert!(surface(&new).contains("  agentId (.agent_id): Option<AgentId>"));
    // And back: removing it is the same rule.
    only(&new, &shipped(), "property-default-changed", Level::Warning);
}

#[test]
fn a_required_request_field_that_becomes_nullable_is_breaking() {
    let new = changed(|s| s.pointer_mut(REQUEST).unwrap()["toPhoneNumber"]["nullable"] = json!(true));
    let message = only(
        &shipped(),
        &new,
        "request-property-became-nullable",
        Level::Breaking,
    );
    assert!(message.contains("`T` becomes `Option<T>`"), "{message}");
}

#[test]
fn components_added_removed_and_renamed_are_reported() {
    let added = changed(|s| {
        s["components"]["schemas"]["Note"] =
            json!({"type": "object", "properties": {"text": {"type": "string", "description": "d"}}})
    });
    only(&shipped(), &added, "component-added", Level::Compatible);
    only(&added, &shipped(), "component-removed", Level::Breaking);
    let renamed = changed(|s| {
        s["components"]["schemas"]["Memo"] =
            json!({"type": "object", "properties": {"text": {"type": "string", "description": "d"}}})
    });
    let message = only(&added, &renamed, "component-renamed", Level::Breaking);
    assert_eq!(message, "type `Note` renamed to `Memo`");
}

#[test]
fn a_shared_schema_is_compared_where_it_is_optional_and_where_it_is_required() {
    let with_notes = |nullable: bool| {
        changed(|s| {
            let mut note =
                json!({"type": "object", "properties": {"text": {"type": "string", "description": "d"}}});
            if nullable {
                note["nullable"] = json!(true);
            }
            s["components"]["schemas"]["Note"] = note;
            let request = s.pointer_mut("/components/schemas/CreateCallRequest").unwrap();
            request["properties"]["noteA"] = json!({"$ref": "#/components/schemas/Note"});
            request["properties"]["noteB"] = json!({"$ref": "#/components/schemas/Note"});
            request["required"].as_array_mut().unwrap().push(json!("noteB"));
        })
    };
    let all = rules(&with_notes(false), &with_notes(true));
    let nullable: Vec<_> = all
        .iter()
        .filter(|c| c.0 == "request-property-became-nullable")
        .collect();
    assert_eq!(nullable.len(), 2, "{all:#?}");
    assert!(nullable
        .iter()
        .any(|c| c.1 == Level::Compatible && c.2.ends_with("noteA")));
    assert!(nullable
        .iter()
        .any(|c| c.1 == Level::Breaking && c.2.ends_with("noteB")));
}

#[test]
fn composition_members_are_compared() {
    let with_contact = |members: Value| {
        changed(|s| {
            s.pointer_mut(REQUEST).unwrap()["contact"] = json!({"description": "d", "oneOf": members});
        })
    };
    let one = with_contact(json!([{"type": "string"}, {"type": "integer"}]));
    let two = with_contact(json!([{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]));
    only(&one, &two, "schema-composition-changed", Level::Breaking);
}

#[test]
fn ref_bodies_and_responses_are_followed() {
    // Bodies and responses moved under components: nothing changes.
    let moved = |f: &dyn Fn(&mut Value)| {
        changed(|s| {
            let op = s.pointer_mut("/paths/~1v1~1calls/post").unwrap();
            let body = op["requestBody"].take();
            let created = op["responses"]["201"].take();
            op["requestBody"] = json!({"$ref": "#/components/requestBodies/NewCall"});
            op["responses"]["201"] = json!({"$ref": "#/components/responses/Created"});
            s["components"]["requestBodies"] = json!({"NewCall": body});
            s["components"]["responses"] = json!({"Created": created});
            f(s);
        })
    };
    let plain = moved(&|_| {});
    assert_eq!(
        diff(&shipped(), &plain)
            .changes
            .iter()
            .filter(|c| c.level != Level::Docs)
            .count(),
        0
    );
    let removed = moved(&|s| {
        s.pointer_mut("/components/schemas/Call/properties")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("transcript");
    });
    only(&plain, &removed, "response-property-removed", Level::Breaking);
}

#[test]
fn path_level_parameters_count() {
    let new = changed(|s| {
        s["paths"]["/v1/calls"]["parameters"] = json!([{"name": "region", "in": "query", "required": true, "description": "d", "schema": {"type": "string"}}]);
    });
    only(
        &shipped(),
        &new,
        "new-required-request-parameter",
        Level::Breaking,
    );
}

#[test]
fn error_bodies_are_compared() {
    let added = changed(|s| {
        s["paths"]["/v1/calls"]["post"]["responses"]["403"] =
            s["paths"]["/v1/calls"]["post"]["responses"]["401"].clone();
    });
    only(&shipped(), &added, "error-response-added", Level::Compatible);
    only(&added, &shipped(), "error-response-removed", Level::Breaking);
    let narrowed = changed(|s| {
        let body = s
            .pointer_mut("/components/schemas/LocalServerErrorBody/properties")
            .unwrap();
        body.as_object_mut().unwrap().remove("errors");
    });
    let all = rules(&shipped(), &narrowed);
    assert!(
        all.iter()
            .any(|c| c.0 == "response-property-removed" && c.2.contains("response 4")),
        "{all:#?}"
    );
}

#[test]
fn every_media_type_is_compared() {
    let with_form = changed(|s| {
        let content = s
            .pointer_mut("/paths/~1v1~1calls/post/requestBody/content")
            .unwrap();
        content["application/x-www-form-urlencoded"] = content["application/json"].clone();
    });
    only(
        &with_form,
        &shipped(),
        "request-media-type-removed",
        Level::Breaking,
    );
}

#[test]
fn numeric_and_array_rules_tighten_and_loosen() {
    let with_field = |schema: Value| changed(|s| s.pointer_mut(REQUEST).unwrap()["retries"] = schema);
    let base = json!({"type": "integer", "description": "d", "minimum": 0, "maximum": 10, "multipleOf": 2});
    let cases = [
        (
            "exclusiveMinimum",
            json!(true),
            "request-property-exclusive-minimum",
        ),
        (
            "exclusiveMaximum",
            json!(true),
            "request-property-exclusive-maximum",
        ),
        ("multipleOf", json!(4), "request-property-multiple-of"),
    ];
    for (keyword, value, rule) in cases {
        let mut tighter = base.clone();
        tighter[keyword] = value;
        only(
            &with_field(base.clone()),
            &with_field(tighter.clone()),
            rule,
            Level::Breaking,
        );
        only(
            &with_field(tighter),
            &with_field(base.clone()),
            rule,
            Level::Compatible,
        );
    }
    // A step that does not divide the old one cannot be proven looser.
    let mut other = base.clone();
    other["multipleOf"] = json!(3);
    only(
        &with_field(base.clone()),
        &with_field(other),
        "request-property-multiple-of",
        Level::Breaking,
    );

    let list = |extra: Value| {
        let mut schema = json!({"type": "array", "description": "d", "items": {"type": "string"}});
        schema
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        with_field(schema)
    };
    only(
        &list(json!({})),
        &list(json!({"minItems": 1})),
        "request-property-min-items",
        Level::Breaking,
    );
    only(
        &list(json!({"maxItems": 5})),
        &list(json!({"maxItems": 3})),
        "request-property-max-items",
        Level::Breaking,
    );
    only(
        &list(json!({"maxItems": 3})),
        &list(json!({"maxItems": 5})),
        "request-property-max-items",
        Level::Compatible,
    );
}

#[test]
fn unique_items_is_a_rule_and_changes_the_rust_type() {
    let list = |unique: bool| {
        changed(|s| {
            s.pointer_mut(REQUEST).unwrap()["tags"] = json!({"type": "array", "description": "d", "items": {"type": "string"}, "uniqueItems": unique})
        })
    };
    let all = rules(&list(false), &list(true));
    assert!(
        all.iter()
            .any(|c| c.0 == "request-property-unique-items" && c.1 == Level::Breaking),
        "{all:#?}"
    );
}

#[test]
fn the_api_key_header_and_the_default_base_url_are_compared() {
    let header =
        changed(|s| s["components"]["securitySchemes"]["ApiKeyAuth"]["name"] = json!("Authorization"));
    let message = only(&shipped(), &header, "security-scheme-changed", Level::Breaking);
    assert!(
        message.contains("\"X-API-Key\" to \"Authorization\""),
        "{message}"
    );
    let server = changed(|s| s["servers"][0]["url"] = json!("https://api.eu.sigmamind.ai"));
    let message = only(&shipped(), &server, "server-url-changed", Level::Warning);
    assert!(message.contains("DEFAULT_BASE_URL"), "{message}");
}

#[test]
fn a_surface_change_no_rule_explains_is_breaking() {
    // Map values narrowed from anything to strings: no rule looks at a map
    // whose old values were `true`, but the Rust type changes.
    let new = changed(|s| {
        s.pointer_mut(REQUEST).unwrap()["dynamicVariables"]["additionalProperties"] =
            json!({"type": "string"});
    });
    let report = diff(&shipped(), &new);
    let unclassified: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.rule == "unclassified-surface-change")
        .collect();
    assert_eq!(unclassified.len(), 1, "{:#?}", report.changes);
    assert_eq!(unclassified[0].level, Level::Breaking);
    assert_eq!(unclassified[0].location, "CreateCallRequest");
    assert!(
        unclassified[0]
            .message
            .contains("-  dynamicVariables (.dynamic_variables): serde_json::Map<String,serde_json::Value>"),
        "{}",
        unclassified[0].message
    );
    assert_eq!(report.semver, Bump::Major);
}

#[test]
fn docs_only_means_the_surface_is_identical() {
    let new = changed(|s| s.pointer_mut(CALL).unwrap()["transcript"]["description"] = json!("Reworded."));
    let report = diff(&shipped(), &new);
    assert_eq!(report.semver, Bump::Patch, "{:#?}", report.changes);
    assert!(report.changes.iter().all(|c| c.level == Level::Docs));
}

#[test]
fn an_accepted_break_lets_the_update_through_and_stays_in_the_report() {
    let new = changed(|s| {
        s.pointer_mut(CALL)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("transcript");
    });
    let mut report = diff(&shipped(), &new);
    assert!(report.is_breaking());
    report.accept(
        &AcceptedBreaks::parse(
            r#"
            [[accept]]
            rule = "response-property-removed"
            location = "POST /v1/calls response 201.transcript"
            reason = "the vendor never filled it"
            "#,
        )
        .unwrap(),
    );
    assert!(!report.is_breaking());
    assert_eq!(
        report.semver,
        Bump::Major,
        "an accepted break still needs the bump"
    );
    assert!(report
        .markdown()
        .contains("(accepted: the vendor never filled it)"));
}
