//! One test per rule of the change report, each naming its rule id, and the
//! fail-closed check. Each spec change is a FIXTURE made from the shipped
//! spec (see tests/support).

mod support;

use serde_json::{json, Value};
use support::{changed, changed_beyond_the_generator, rules, shipped};
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

/// FIXTURE shaped like GitHub's `repository-rule` (ghes-3.17, @octokit/openapi
/// 22.0.0 → 23.0.2): members that are components, moved within the list.
/// `schema-composition-reordered` is the only finding; a member added or
/// removed is still `schema-composition-changed`, naming it.
#[test]
fn reordered_members_are_the_same_members() {
    let with_members = |order: &[&str]| {
        changed(|s| {
            for name in ["RuleCreation", "RuleWorkflows", "RuleMaxFileSize"] {
                let tag = name.trim_start_matches("Rule").to_lowercase();
                s["components"]["schemas"][name] = json!({
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"type": "string", "enum": [tag]},
                        "note": {"type": "string"}
                    }
                });
            }
            let members: Vec<Value> = order
                .iter()
                .map(|n| json!({"$ref": format!("#/components/schemas/{n}")}))
                .collect();
            s.pointer_mut(REQUEST).unwrap()["rule"] = json!({"description": "d", "oneOf": members});
        })
    };
    let old = with_members(&["RuleCreation", "RuleMaxFileSize", "RuleWorkflows"]);
    let new = with_members(&["RuleCreation", "RuleWorkflows", "RuleMaxFileSize"]);
    let all = rules(&old, &new);
    assert_eq!(
        all.iter().map(|c| c.0).collect::<Vec<_>>(),
        ["schema-composition-reordered"],
        "{all:#?}"
    );
    assert_eq!(all[0].1, Level::Docs);
    // One gone, one new: named.
    let fewer = with_members(&["RuleWorkflows", "RuleCreation"]);
    let message = only(&old, &fewer, "schema-composition-changed", Level::Breaking);
    assert!(
        message.contains("removed: RuleMaxFileSize; added: none"),
        "{message}"
    );
}

/// FIXTURE shaped like GitHub's `repository-rule-detailed` (ghes-3.17,
/// @octokit/openapi 22.0.0 → 23.0.2): members with no name of their own
/// (`allOf` of a rule and the ruleset's info), moved within the list. The
/// generator names such members by position, so the move changes what its
/// variants hold: one breaking finding that says so, not a removal and an
/// addition at every position that moved.
#[test]
fn reordered_members_without_names_are_one_finding() {
    let with_members = |order: &[&str]| {
        changed(|s| {
            for name in ["RuleCreation", "RuleWorkflows", "RuleMaxFileSize", "RulesetInfo"] {
                s["components"]["schemas"][name] = json!({
                    "type": "object",
                    "properties": {name.to_lowercase(): {"type": "string"}}
                });
            }
            let members: Vec<Value> = order
                .iter()
                .map(|n| {
                    json!({"allOf": [
                        {"$ref": format!("#/components/schemas/{n}")},
                        {"$ref": "#/components/schemas/RulesetInfo"}
                    ]})
                })
                .collect();
            s.pointer_mut(CALL).unwrap()["rule"] = json!({"description": "d", "oneOf": members});
        })
    };
    let old = with_members(&["RuleCreation", "RuleMaxFileSize", "RuleWorkflows"]);
    let new = with_members(&["RuleCreation", "RuleWorkflows", "RuleMaxFileSize"]);
    let message = only(&old, &new, "schema-composition-changed", Level::Breaking);
    assert!(
        message.contains("2 of them have no name of their own")
            && message.contains("CallRuleVariant1 is what CallRuleVariant2 was, CallRuleVariant2 is what CallRuleVariant1 was"),
        "{message}"
    );
    // Not also called a reordering that keeps the variants.
    assert!(
        !rules(&old, &new)
            .iter()
            .any(|c| c.0 == "schema-composition-reordered"),
        "{message}"
    );
    // Unmoved: nothing.
    assert!(rules(&old, &old).is_empty());
}

/// The generator makes a type of every component, and GitHub's
/// description has hundreds no operation reaches (webhook payloads): a
/// field removed from one is a breaking change the rules name, at the
/// component, not an unclassified surface change.
#[test]
fn a_component_no_operation_reaches_is_compared_too() {
    let with_payload = |fields: Value| {
        changed(|s| {
            s["components"]["schemas"]["WebhookPayload"] = json!({"type": "object", "properties": fields});
        })
    };
    let old = with_payload(json!({"action": {"type": "string"}, "team_discussions": {"type": "string"}}));
    let new = with_payload(json!({"action": {"type": "string"}}));
    let message = only(&old, &new, "response-property-removed", Level::Breaking);
    assert!(message.contains("response field removed"), "{message}");
    let all = rules(&old, &new);
    assert_eq!(
        all[0].2, "components.schemas.WebhookPayload.team_discussions",
        "{all:#?}"
    );
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
    let with_form = changed_beyond_the_generator(|s| {
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
    assert_eq!(report.changes[0].rule, "spec-text-changed");
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

const OPERATION: &str = "/paths/~1v1~1calls/post";

fn without_body() -> Value {
    changed(|s| {
        s.pointer_mut(OPERATION)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("requestBody");
    })
}

#[test]
fn operation_added_and_removed() {
    let added = changed(|s| {
        s["paths"]["/v1/calls/{callId}"] = json!({"get": {
            "operationId": "get_call",
            "description": "d",
            "parameters": [{"name": "callId", "in": "path", "required": true, "description": "d", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Call"}}}}}
        }});
    });
    only(&shipped(), &added, "operation-added", Level::Compatible);
    only(&added, &shipped(), "operation-removed", Level::Breaking);
}

#[test]
fn operation_id_changed() {
    // The name book keeps an operation's name; a pin renames it on purpose.
    let pinned = changed(|s| s.pointer_mut(OPERATION).unwrap()["x-rust-name"] = json!("place_call"));
    let message = only(&shipped(), &pinned, "operation-id-changed", Level::Breaking);
    assert!(message.contains("the client method is renamed"), "{message}");
}

#[test]
fn response_success_status_changed() {
    let to_200 = changed(|s| {
        let responses = s
            .pointer_mut(&format!("{OPERATION}/responses"))
            .unwrap()
            .as_object_mut()
            .unwrap();
        let created = responses.remove("201").unwrap();
        responses.insert("200".into(), created);
    });
    let message = only(
        &shipped(),
        &to_200,
        "response-success-status-changed",
        Level::Warning,
    );
    assert!(message.contains("every 2xx is a success"), "{message}");
    let none = changed(|s| {
        let responses = s
            .pointer_mut(&format!("{OPERATION}/responses"))
            .unwrap()
            .as_object_mut()
            .unwrap();
        responses.remove("201");
    });
    let all = rules(&shipped(), &none);
    assert!(
        all.iter()
            .any(|c| c.0 == "response-success-status-changed" && c.1 == Level::Breaking),
        "{all:#?}"
    );
}

#[test]
fn request_bodies() {
    let optional = changed(|s| s.pointer_mut(OPERATION).unwrap()["requestBody"]["required"] = json!(false));
    only(
        &shipped(),
        &without_body(),
        "request-body-removed",
        Level::Breaking,
    );
    only(
        &without_body(),
        &shipped(),
        "new-required-request-body",
        Level::Breaking,
    );
    only(
        &without_body(),
        &optional,
        "new-optional-request-body",
        Level::Compatible,
    );
    only(
        &optional,
        &shipped(),
        "request-body-became-required",
        Level::Breaking,
    );
}

#[test]
fn bodies_gain_and_lose_content() {
    let empty_request = changed(|s| s.pointer_mut(OPERATION).unwrap()["requestBody"]["content"] = json!({}));
    only(&empty_request, &shipped(), "request-body-added", Level::Breaking);
    let bare = changed(|s| {
        let created = s.pointer_mut(&format!("{OPERATION}/responses/201")).unwrap();
        created.as_object_mut().unwrap().remove("content");
    });
    // The types the body reaches become response types (open, lenient):
    // the fail-closed check reports those too, as it should.
    let all = rules(&bare, &shipped());
    assert!(
        all.iter()
            .any(|c| c.0 == "response-body-added" && c.1 == Level::Compatible),
        "{all:#?}"
    );
    let all = rules(&shipped(), &bare);
    assert!(
        all.iter()
            .any(|c| c.0 == "response-body-removed" && c.1 == Level::Breaking),
        "{all:#?}"
    );
}

#[test]
fn media_types_added_and_removed() {
    let with_form = changed_beyond_the_generator(|s| {
        let content = s
            .pointer_mut(&format!("{OPERATION}/requestBody/content"))
            .unwrap();
        content["application/x-www-form-urlencoded"] = content["application/json"].clone();
    });
    only(
        &shipped(),
        &with_form,
        "request-media-type-added",
        Level::Compatible,
    );
    // Compatible on the wire; but the generator takes one media type, so
    // the operation can no longer be generated, and the report says so.
    let message = only(
        &shipped(),
        &with_form,
        "operation-not-generatable",
        Level::Breaking,
    );
    assert_eq!(
        message,
        "the generator cannot generate this operation any more: its request body has 2 media \
         types; the generator takes one (the crate cannot be regenerated until the overlay settles it)"
    );
    // A new operation the generator cannot generate is no new method.
    let with_upload = changed_beyond_the_generator(|s| {
        s["paths"]["/v1/recordings"] = json!({"post": {
            "operationId": "upload_recording",
            "description": "d",
            "requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}},
            "responses": {"204": {"description": "stored"}}
        }});
    });
    let message = only(
        &shipped(),
        &with_upload,
        "operation-not-generatable",
        Level::Breaking,
    );
    assert!(
        message.starts_with("the generator cannot generate this new operation: its request body's content type multipart/form-data"),
        "{message}"
    );
    let with_xml = changed(|s| {
        let content = s
            .pointer_mut(&format!("{OPERATION}/responses/201/content"))
            .unwrap();
        content["application/xml"] = content["application/json"].clone();
    });
    only(
        &shipped(),
        &with_xml,
        "response-media-type-added",
        Level::Compatible,
    );
    only(
        &with_xml,
        &shipped(),
        "response-media-type-removed",
        Level::Breaking,
    );
}

#[test]
fn parameters() {
    let with_region = |required: bool| {
        changed(move |s| {
            s.pointer_mut(OPERATION).unwrap()["parameters"] = json!([{"name": "region", "in": "query",
                "required": required, "description": "d", "schema": {"type": "string"}}]);
        })
    };
    only(
        &shipped(),
        &with_region(false),
        "new-optional-request-parameter",
        Level::Compatible,
    );
    only(
        &with_region(false),
        &shipped(),
        "request-parameter-removed",
        Level::Breaking,
    );
    only(
        &with_region(false),
        &with_region(true),
        "request-parameter-became-required",
        Level::Breaking,
    );
}

#[test]
fn property_types_change() {
    let note = |kind: &str| {
        changed(|s| s.pointer_mut(REQUEST).unwrap()["note"] = json!({"type": kind, "description": "d"}))
    };
    only(
        &note("string"),
        &note("integer"),
        "request-property-type-changed",
        Level::Breaking,
    );
    let transcript = changed(|s| {
        s.pointer_mut(CALL).unwrap()["transcript"] = json!({"type": "integer", "description": "d"})
    });
    only(
        &shipped(),
        &transcript,
        "response-property-type-changed",
        Level::Breaking,
    );
    // The correction `cargo xtask drift` proposes for a number seen where
    // the spec has a string: a widening, and a breaking change in Rust.
    let widened = changed(|s| {
        s["components"]["schemas"]["PhoneNumber"]["properties"]["sipPhoneNumber"] =
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}]});
    });
    let all = rules(&shipped(), &widened);
    let widening: Vec<_> = all
        .iter()
        .filter(|c| c.0 == "response-property-type-changed")
        .collect();
    assert!(!widening.is_empty(), "{all:#?}");
    assert!(widening.iter().all(|c| c.1 == Level::Breaking));
    assert!(
        widening[0].3.contains("from string to one of string | integer")
            && widening[0].3.contains("`String` becomes an enum of the members"),
        "{all:#?}"
    );
}

/// Seen between two releases of GitHub's description: `integer` gained
/// `format: int64`, which was reported as a breaking change from `i64` to
/// `i64`. The same Rust type is no change to code; another Rust type is.
#[test]
fn a_format_that_keeps_the_rust_type_is_docs_only() {
    let note = |schema: serde_json::Value| changed(|s| s.pointer_mut(REQUEST).unwrap()["note"] = schema);
    for (was, is) in [
        (
            json!({"type": "integer"}),
            json!({"type": "integer", "format": "int64"}),
        ),
        (
            json!({"type": "string"}),
            json!({"type": "string", "format": "uri"}),
        ),
        (
            json!({"type": "number", "format": "double"}),
            json!({"type": "number"}),
        ),
    ] {
        only(&note(was), &note(is), "property-format-changed", Level::Docs);
    }
    let all = rules(
        &note(json!({"type": "integer"})),
        &note(json!({"type": "integer", "format": "int64"})),
    );
    assert!(all[0].3.contains("its Rust type stays `i64`"), "{all:#?}");
    for (was, is) in [
        (
            json!({"type": "integer"}),
            json!({"type": "integer", "format": "int32"}),
        ),
        (
            json!({"type": "string"}),
            json!({"type": "string", "format": "date-time"}),
        ),
        (
            json!({"type": "number"}),
            json!({"type": "number", "format": "float"}),
        ),
    ] {
        only(
            &note(was),
            &note(is),
            "request-property-type-changed",
            Level::Breaking,
        );
    }
}

#[test]
fn nullability() {
    let note = |nullable: bool| {
        changed(move |s| {
            s.pointer_mut(REQUEST).unwrap()["note"] =
                json!({"type": "string", "nullable": nullable, "description": "d"})
        })
    };
    only(
        &note(true),
        &note(false),
        "request-property-became-not-nullable",
        Level::Breaking,
    );
    let transcript = changed(|s| s.pointer_mut(CALL).unwrap()["transcript"]["nullable"] = json!(true));
    only(
        &shipped(),
        &transcript,
        "response-property-nullability-changed",
        Level::Docs,
    );
    let required_id = |nullable: bool| {
        changed(move |s| {
            let call = s.pointer_mut("/components/schemas/Call").unwrap();
            call["required"] = json!(["callId"]);
            call["properties"]["callId"]["nullable"] = json!(nullable);
        })
    };
    only(
        &required_id(false),
        &required_id(true),
        "response-property-became-nullable",
        Level::Breaking,
    );
    only(
        &required_id(true),
        &required_id(false),
        "response-property-became-not-nullable",
        Level::Breaking,
    );
}

#[test]
fn response_enum_value_removed() {
    let new = changed(|s| {
        let values = s.pointer_mut("/components/schemas/CallType/enum").unwrap();
        values.as_array_mut().unwrap().retain(|v| v != "chat");
    });
    let message = only(&shipped(), &new, "response-enum-value-removed", Level::Breaking);
    assert!(message.contains("\"chat\""), "{message}");
}

#[test]
fn enums_appear_and_go() {
    let note = |schema: Value| changed(|s| s.pointer_mut(REQUEST).unwrap()["note"] = schema);
    let plain = note(json!({"type": "string", "description": "d"}));
    let listed = note(json!({"type": "string", "enum": ["a", "b"], "description": "d"}));
    let all = rules(&plain, &listed);
    assert!(
        all.iter()
            .any(|c| c.0 == "property-became-enum" && c.1 == Level::Breaking),
        "{all:#?}"
    );
    let all = rules(&listed, &plain);
    assert!(
        all.iter()
            .any(|c| c.0 == "property-no-longer-enum" && c.1 == Level::Breaking),
        "{all:#?}"
    );
}

#[test]
fn patterns() {
    let note = |pattern: Option<&str>| {
        changed(move |s| {
            let mut schema = json!({"type": "string", "description": "d"});
            if let Some(p) = pattern {
                schema["pattern"] = json!(p);
            }
            s.pointer_mut(REQUEST).unwrap()["note"] = schema;
        })
    };
    let all = rules(&note(None), &note(Some("^a")));
    assert!(
        all.iter()
            .any(|c| c.0 == "request-property-pattern-added" && c.1 == Level::Breaking),
        "{all:#?}"
    );
    let all = rules(&note(Some("^a")), &note(Some("^b")));
    assert!(
        all.iter()
            .any(|c| c.0 == "request-property-pattern-changed" && c.1 == Level::Warning),
        "{all:#?}"
    );
    let all = rules(&note(Some("^a")), &note(None));
    assert!(
        all.iter()
            .any(|c| c.0 == "request-property-pattern-removed" && c.1 == Level::Compatible),
        "{all:#?}"
    );
}

#[test]
fn string_and_object_limits() {
    let cases: [(&str, &str, Value, Value, &str); 6] = [
        (
            "note",
            "string",
            json!({"maxLength": 10}),
            json!({"maxLength": 5}),
            "request-property-max-length",
        ),
        (
            "note",
            "string",
            json!({"minLength": 1}),
            json!({"minLength": 2}),
            "request-property-min-length",
        ),
        (
            "count",
            "integer",
            json!({"maximum": 10}),
            json!({"maximum": 5}),
            "request-property-maximum",
        ),
        (
            "count",
            "integer",
            json!({"minimum": 1}),
            json!({"minimum": 2}),
            "request-property-minimum",
        ),
        (
            "extra",
            "object",
            json!({"maxProperties": 9}),
            json!({"maxProperties": 3}),
            "request-property-max-properties",
        ),
        (
            "extra",
            "object",
            json!({"minProperties": 1}),
            json!({"minProperties": 2}),
            "request-property-min-properties",
        ),
    ];
    for (field, kind, looser, tighter, rule) in cases {
        let with = |limits: &Value| {
            let mut schema = json!({"type": kind, "description": "d"});
            if kind == "object" {
                schema["additionalProperties"] = json!({"type": "string"});
            }
            for (k, v) in limits.as_object().unwrap() {
                schema[k] = v.clone();
            }
            changed(|s| s.pointer_mut(REQUEST).unwrap()[field] = schema)
        };
        let all = rules(&with(&looser), &with(&tighter));
        assert!(
            all.iter().any(|c| c.0 == rule && c.1 == Level::Breaking),
            "{rule} tightened: {all:#?}"
        );
        let all = rules(&with(&tighter), &with(&looser));
        assert!(
            all.iter().any(|c| c.0 == rule && c.1 == Level::Compatible),
            "{rule} loosened: {all:#?}"
        );
    }
}

#[test]
fn properties_come_and_go() {
    let without_agent = changed(|s| {
        s.pointer_mut(REQUEST)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("agentId");
    });
    only(
        &shipped(),
        &without_agent,
        "request-property-removed",
        Level::Breaking,
    );
    only(
        &without_agent,
        &shipped(),
        "new-optional-request-property",
        Level::Compatible,
    );
    let required = |names: Value| {
        changed(move |s| s.pointer_mut("/components/schemas/CreateCallRequest").unwrap()["required"] = names)
    };
    let agent_required = required(json!(["fromPhoneNumber", "toPhoneNumber", "agentId"]));
    only(
        &shipped(),
        &agent_required,
        "request-property-became-required",
        Level::Breaking,
    );
    let to_optional = required(json!(["fromPhoneNumber"]));
    only(
        &shipped(),
        &to_optional,
        "request-property-became-optional",
        Level::Breaking,
    );
    let with_reason = |required: bool| {
        changed(move |s| {
            let request = s.pointer_mut("/components/schemas/CreateCallRequest").unwrap();
            request["properties"]["reason"] = json!({"type": "string", "description": "d"});
            if required {
                request["required"].as_array_mut().unwrap().push(json!("reason"));
            }
        })
    };
    only(
        &shipped(),
        &with_reason(true),
        "new-required-request-property",
        Level::Breaking,
    );
    let id_required =
        changed(|s| s.pointer_mut("/components/schemas/Call").unwrap()["required"] = json!(["callId"]));
    only(
        &shipped(),
        &id_required,
        "response-property-became-required",
        Level::Breaking,
    );
    only(
        &id_required,
        &shipped(),
        "response-property-became-optional",
        Level::Breaking,
    );
    let with_score =
        changed(|s| s.pointer_mut(CALL).unwrap()["score"] = json!({"type": "number", "description": "d"}));
    only(
        &shipped(),
        &with_score,
        "response-property-added",
        Level::Compatible,
    );
    only(
        &with_score,
        &shipped(),
        "response-property-removed",
        Level::Breaking,
    );
}

#[test]
fn types_at_places_come_and_go() {
    let with_sentiment = changed(|s| {
        s.pointer_mut(CALL).unwrap()["sentiment"] =
            json!({"type": "string", "enum": ["positive", "negative"], "description": "d"});
    });
    let all = rules(&shipped(), &with_sentiment);
    assert!(
        all.iter()
            .any(|c| c.0 == "type-added" && c.1 == Level::Compatible && c.3 == "new type `CallSentiment`"),
        "{all:#?}"
    );
    let all = rules(&with_sentiment, &shipped());
    assert!(
        all.iter().any(|c| c.0 == "type-removed"
            && c.1 == Level::Breaking
            && c.3.starts_with("type `CallSentiment` removed")),
        "{all:#?}"
    );
}

#[test]
fn security_schemes() {
    let with_bearer = changed(|s| {
        s["components"]["securitySchemes"]["Bearer"] =
            json!({"type": "http", "scheme": "bearer", "description": "d"});
    });
    only(
        &shipped(),
        &with_bearer,
        "security-scheme-added",
        Level::Compatible,
    );
    only(
        &with_bearer,
        &shipped(),
        "security-scheme-removed",
        Level::Breaking,
    );
    let open = changed(|s| s.pointer_mut(OPERATION).unwrap()["security"] = json!([]));
    only(
        &shipped(),
        &open,
        "security-requirements-changed",
        Level::Breaking,
    );
}

#[test]
fn request_enum_values_removed() {
    let old = with_request_enum(json!(["low", "high", "urgent"]));
    let new = with_request_enum(json!(["low", "high"]));
    let message = only(&old, &new, "request-enum-value-removed", Level::Breaking);
    assert!(message.contains("\"urgent\""), "{message}");
}

/// A second operation that returns the same `Call` (FIXTURE), on both sides.
fn with_get_call(s: &mut Value) {
    let created = s
        .pointer("/paths/~1v1~1calls/post/responses/201")
        .unwrap()
        .clone();
    s["paths"]["/v1/calls/{callId}"] = json!({"get": {
        "operationId": "getCall",
        "parameters": [{"name": "callId", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": created}
    }});
}

/// A change in a schema several operations share is reported once, with
/// the other operations it reaches (JSON `alsoAt`, markdown "and at N more
/// operations", every one listed with --verbose).
#[test]
fn a_shared_schema_change_carries_its_reach() {
    let old = changed(with_get_call);
    let new = changed(|s| {
        with_get_call(s);
        s.pointer_mut(CALL).unwrap()["sentiment"] = json!({"type": "string", "description": "d"});
    });
    let report = diff(&old, &new);
    let added: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.rule == "response-property-added")
        .collect();
    assert_eq!(added.len(), 1, "{:#?}", report.changes);
    assert!(added[0].location.ends_with(".sentiment"), "{}", added[0].location);
    let own = if added[0].location.starts_with("GET") {
        "POST /v1/calls"
    } else {
        "GET /v1/calls/{callId}"
    };
    assert_eq!(added[0].also_at, [own]);
    let json: Value = serde_json::from_str(&report.json()).unwrap();
    assert!(json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["alsoAt"] == json!([own])));
    assert!(report.markdown().contains("(and at 1 more operation)"));
    assert!(report.markdown_with(true).contains(&format!("  - also `{own}`")));
}

/// An operation the generator cannot generate as written (two success
/// body schemas) is named and left out; the rest of the surface is still
/// compared, so the check stays closed for everything else.
#[test]
fn the_surface_check_leaves_out_only_what_cannot_be_generated() {
    let with_two_bodies = |s: &mut Value| {
        with_get_call(s);
        let op = s
            .pointer_mut("/paths/~1v1~1calls~1{callId}/get/responses")
            .unwrap();
        op["202"] = json!({"description": "queued", "content": {"application/json": {"schema": {"type": "object", "properties": {"queued": {"type": "boolean"}}}}}});
    };
    let old = taken(&with_two_bodies);
    let new = taken(&|s| {
        with_two_bodies(s);
        s.pointer_mut(CALL).unwrap()["sentiment"] = json!({"type": "string", "description": "d"});
    });
    let report = diff(&old, &new);
    assert_eq!(
        report.surface_not_compared, None,
        "{:#?}",
        report.surface_not_compared
    );
    assert_eq!(report.surface_left_out.len(), 1, "{:#?}", report.surface_left_out);
    assert!(report.surface_left_out[0].starts_with("GET /v1/calls/{callId}: its success responses have 2"));
    every_surface_change_explained(&report);
    assert!(report.markdown().contains("compared without 1 operation(s)"));
}

/// Seen on GitHub's description: `GET /search/issues` sorts by
/// `reactions-+1` or `reactions--1`, which typify cannot name apart as Rust
/// variants (it stops the whole generation). The operation is left out,
/// found before generating, and the rest is compared.
#[test]
fn an_enum_the_generator_cannot_name_leaves_only_its_operation_out() {
    let with_search = |s: &mut Value| {
        s["paths"]["/v1/search"] = json!({"get": {
            "operationId": "search_calls",
            "description": "d",
            "parameters": [{"name": "sort", "in": "query", "schema": {
                "type": "string", "enum": ["created", "reactions-+1", "reactions--1"]
            }}],
            "responses": {"204": {"description": "none"}}
        }});
    };
    let old = taken(&with_search);
    let new = taken(&|s| {
        with_search(s);
        s.pointer_mut(CALL).unwrap()["sentiment"] = json!({"type": "string", "description": "d"});
    });
    let report = diff(&old, &new);
    assert_eq!(
        report.surface_left_out,
        [
            "GET /v1/search: the generator cannot name the values of one of its enums apart \
          (reactions-+1, reactions--1)"
        ],
        "{report:#?}"
    );
    every_surface_change_explained(&report);
    assert!(
        report.changes.iter().any(|c| c.rule == "response-property-added"),
        "{report:#?}"
    );
}

/// Seen on GitHub's description (21.0.0 → 22.0.0): a rule's reviewer
/// (`repository-rule-params-reviewer`, with its type enum) was in no
/// response and became part of one. The generator makes the enum open and
/// the object lenient: the fail-closed surface check found both, no rule
/// named them. Back the other way, both lose what they gained.
#[test]
fn where_a_type_is_used_changes_how_it_is_generated() {
    let with_reviewer = |in_a_response: bool| {
        changed(|s| {
            let schemas = &mut s["components"]["schemas"];
            schemas["ReviewerType"] = json!({"type": "string", "enum": ["Team", "User"], "description": "d"});
            schemas["Reviewer"] = json!({"type": "object", "properties": {
                "type": {"$ref": "#/components/schemas/ReviewerType"},
                "id": {"type": "integer"}
            }});
            if in_a_response {
                s.pointer_mut(CALL).unwrap()["reviewer"] = json!({"$ref": "#/components/schemas/Reviewer"});
            }
        })
    };
    let (unused, used) = (with_reviewer(false), with_reviewer(true));
    let report = diff(&unused, &used);
    every_surface_change_explained(&report);
    let forms: Vec<(Level, &str, &str)> = report
        .changes
        .iter()
        .filter(|c| c.rule == "type-form-changed")
        .map(|c| (c.level, c.location.as_str(), c.message.as_str()))
        .collect();
    assert_eq!(
        forms,
        [
            (
                Level::Breaking,
                "POST /v1/calls",
                "a response now carries `ReviewerType`: generated open, `ReviewerType::Unknown` added (a \
                 `match` without a wildcard stops compiling)"
            ),
            (
                Level::Warning,
                "POST /v1/calls",
                "only responses use `Reviewer` now: it keeps the fields the spec does not know (`.extra`) \
                 and reads a mistyped optional field as absent"
            ),
        ],
        "{report:#?}"
    );
    let back = diff(&used, &unused);
    every_surface_change_explained(&back);
    let levels: Vec<(Level, &str)> = back
        .changes
        .iter()
        .filter(|c| c.rule == "type-form-changed")
        .map(|c| (c.level, c.message.split(':').next().unwrap()))
        .collect();
    assert_eq!(
        levels,
        [
            (Level::Breaking, "`Reviewer` is no longer only in responses"),
            (Level::Breaking, "no response carries `ReviewerType` any more"),
        ],
        "{back:#?}"
    );
}

/// Seen on GitHub's description: a new nullable object component
/// (`nullable-issue-reference`, titled "Issue Reference") is generated as
/// `newtype NullableIssueReference(Option<IssueReference>)`; the struct
/// inside, named after the title, is part of the same change, not an
/// unclassified one. The same for a nullable object removed (its
/// `…Inner` struct goes with it).
#[test]
fn the_struct_inside_a_nullable_object_goes_with_its_change() {
    let with_reference = |title: Option<&str>| {
        changed(|s| {
            let mut schema = json!({
                "type": "object", "nullable": true,
                "properties": {"number": {"type": "integer"}, "title": {"type": "string"}}
            });
            if let Some(title) = title {
                schema["title"] = json!(title);
            }
            s["components"]["schemas"]["NullableIssueReference"] = schema;
            s.pointer_mut(CALL).unwrap()["blockedBy"] =
                json!({"$ref": "#/components/schemas/NullableIssueReference"});
        })
    };
    for title in [Some("Issue Reference"), None] {
        let new = with_reference(title);
        for (old, new) in [(&shipped(), &new), (&new, &shipped())] {
            let report = diff(old, new);
            every_surface_change_explained(&report);
        }
    }
}

/// Seen on GitHub's description: `pull-request-webhook` is `allOf` of
/// `pull-request` and a part of its own, which the generator merges into
/// one struct. `pull-request` gained a field, found where an operation
/// first reaches it; the webhook's struct gained it too, and that is the
/// same change.
#[test]
fn a_field_added_to_an_all_of_member_is_the_composites_too() {
    let with_member_fields = |fields: Value| {
        changed(|s| {
            let schemas = &mut s["components"]["schemas"];
            schemas["Stacked"] = json!({"type": "object", "properties": fields});
            schemas["StackedWebhook"] = json!({"allOf": [
                {"$ref": "#/components/schemas/Stacked"},
                {"type": "object", "properties": {"sender": {"type": "string"}}}
            ]});
            s.pointer_mut(CALL).unwrap()["stacked"] = json!({"$ref": "#/components/schemas/Stacked"});
            // Required, as an `allOf` member is: the member is compared once,
            // where the operation reaches it first.
            s["components"]["schemas"]["Call"]["required"] = json!(["stacked"]);
        })
    };
    let old = with_member_fields(json!({"id": {"type": "integer"}}));
    let new = with_member_fields(json!({"id": {"type": "integer"}, "stack": {"type": "string"}}));
    let report = diff(&old, &new);
    every_surface_change_explained(&report);
    let added: Vec<&str> = report
        .changes
        .iter()
        .filter(|c| c.rule == "response-property-added")
        .map(|c| c.location.as_str())
        .collect();
    assert_eq!(
        added,
        ["POST /v1/calls response 201.stacked.stack"],
        "{report:#?}"
    );
}

/// FIXTURE: `shipped()` changed by `f`, taken in without the check that
/// refuses a spec this crate cannot be generated from.
fn taken(f: &dyn Fn(&mut Value)) -> Value {
    let mut v = shipped();
    f(&mut v);
    sigmamind_codegen::intake::run(&v, None, &support::book(), true)
        .unwrap()
        .document
}

/// The report names a rule for every moved line of the generated surface.
fn every_surface_change_explained(report: &xtask::diff::Report) {
    let unclassified: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.rule == "unclassified-surface-change")
        .collect();
    assert!(unclassified.is_empty(), "{unclassified:#?}");
    assert!(report.surface_not_compared.is_none(), "{report:#?}");
}
