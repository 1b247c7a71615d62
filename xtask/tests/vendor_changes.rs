//! The change report and the overlay held to how vendors really change
//! their documents. Every pair here is a FIXTURE imitating a vendor
//! release (the vendor has published none of it), made from our own
//! transcription of the vendor's page.

mod support;

use serde_json::{json, Map, Value};
use support::{scratch, take_in, take_in_with, vendor};
use xtask::commands::diff::compare;
use xtask::diff::{Level, Report};
use xtask::workspace::{Workspace, EFFECTIVE, NAMES};

/// The document with every `$ref` replaced by what it names and no
/// operationId: as a docs platform that writes every schema inline exports it.
fn all_inline(document: &Value) -> Value {
    fn inline(value: &Value, components: &Map<String, Value>) -> Value {
        match value {
            Value::Object(map) => match map.get("$ref").and_then(Value::as_str) {
                Some(r) => inline(
                    &components[r.trim_start_matches("#/components/schemas/")],
                    components,
                ),
                None => Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), inline(v, components)))
                        .collect(),
                ),
            },
            Value::Array(items) => Value::Array(items.iter().map(|v| inline(v, components)).collect()),
            other => other.clone(),
        }
    }
    let components = document["components"]["schemas"].as_object().unwrap().clone();
    let mut doc = document.clone();
    doc["paths"] = inline(&doc["paths"], &components);
    doc["components"].as_object_mut().unwrap().remove("schemas");
    for item in doc["paths"].as_object_mut().unwrap().values_mut() {
        for op in item.as_object_mut().unwrap().values_mut() {
            op.as_object_mut().unwrap().remove("operationId");
        }
    }
    doc
}

fn with_status_values(document: &Value, values: Value) -> Value {
    let mut doc = document.clone();
    doc["components"]["schemas"]["CallStatus"]["enum"] = values;
    doc
}

/// (rule, level, location, message) of each change.
fn found(report: &Report) -> Vec<(&'static str, Level, String, String)> {
    report
        .changes
        .iter()
        .map(|c| (c.rule, c.level, c.location.clone(), c.message.clone()))
        .collect()
}

fn workspace() -> Workspace {
    Workspace::at(support::workspace_root())
}

/// Case 1: the newer document moves every inline schema into named
/// components (a platform change) and changes enum values inside one. The
/// report compares what sits at each place: the values are named at their
/// place, and no type is reported removed or added for having a component
/// name now.
#[test]
fn schemas_moved_into_components_are_compared_at_their_place() {
    let old = all_inline(&vendor());
    let new = with_status_values(
        &vendor(),
        json!(["scheduled", "in_progress", "ended", "voicemail", "error"]),
    );
    let report = compare(&workspace(), Some(&old), &new, true).unwrap().report;
    let all = found(&report);
    let at = "POST /v1/calls response 201.status";
    assert!(
        all.iter()
            .any(|c| c.0 == "response-enum-value-removed" && c.2 == at && c.3.ends_with("\"not_connected\"")),
        "{all:#?}"
    );
    assert!(
        all.iter()
            .any(|c| c.0 == "response-enum-value-added" && c.2 == at && c.3.ends_with("\"voicemail\"")),
        "{all:#?}"
    );
    for rule in [
        "component-removed",
        "component-added",
        "type-removed",
        "type-added",
        "unclassified-surface-change",
    ] {
        assert!(!all.iter().any(|c| c.0 == rule), "no `{rule}`: {all:#?}");
    }
    // Where the newer document shares one schema between two places, the
    // Rust type of one of them is renamed: said by place.
    assert!(
        all.iter().any(|c| c.0 == "type-renamed-at-place"
            && c.2 == "POST /v1/calls body.toPhoneNumber"
            && c.3
                .contains("is now `PostV1CallsBodyFromPhoneNumber` (was `PostV1CallsBodyToPhoneNumber`)")),
        "{all:#?}"
    );
}

/// Case 2: values respelled on the wire keep their Rust variant name; a
/// security scheme renamed with the same header is no change for the client.
#[test]
fn values_respelled_with_the_same_rust_name_are_said_in_those_words() {
    let mut old = vendor();
    let scheme = old["components"]["securitySchemes"]
        .as_object_mut()
        .unwrap()
        .remove("ApiKeyAuth")
        .unwrap();
    old["components"]["securitySchemes"]["apiKeyAuth"] = scheme;
    old["paths"]["/v1/calls"]["post"]["security"] = json!([{"apiKeyAuth": []}]);
    let new = with_status_values(
        &vendor(),
        json!(["scheduled", "in-progress", "ended", "not-connected", "error"]),
    );
    let report = compare(&workspace(), Some(&old), &new, false).unwrap().report;
    let all = found(&report);
    let respelled: Vec<_> = all.iter().filter(|c| c.0 == "enum-value-respelled").collect();
    assert_eq!(respelled.len(), 2, "{all:#?}");
    let in_progress = respelled.iter().find(|c| c.3.contains("in-progress")).unwrap();
    assert_eq!(in_progress.1, Level::Warning);
    assert_eq!(
        in_progress.3,
        "value respelled on the wire \"in_progress\" → \"in-progress\", same Rust variant `InProgress`: the code \
         compiles, and a response with the old spelling now parses as `Unknown(..)`"
    );
    assert!(!all
        .iter()
        .any(|c| c.0.ends_with("enum-value-removed") || c.0.ends_with("enum-value-added")));
    // The scheme: renamed, same header: nothing for the client.
    for rule in [
        "security-scheme-removed",
        "security-scheme-added",
        "security-requirements-changed",
    ] {
        assert!(!all.iter().any(|c| c.0 == rule), "no `{rule}`: {all:#?}");
    }
    let renamed: Vec<_> = all.iter().filter(|c| c.0 == "security-scheme-renamed").collect();
    assert_eq!(renamed.len(), 1, "{all:#?}");
    assert_eq!(renamed[0].1, Level::Compatible);
    assert!(!report.is_breaking(), "{}", report.markdown());

    // In a request enum, the same respelling breaks requests.
    let with_priority = |values: Value| {
        let mut doc = vendor();
        doc["components"]["schemas"]["CreateCallRequest"]["properties"]["priority"] =
            json!({"type": "string", "enum": values, "description": "Dialling priority."});
        doc
    };
    let report = compare(
        &workspace(),
        Some(&with_priority(json!(["low", "very_high"]))),
        &with_priority(json!(["low", "very-high"])),
        false,
    )
    .unwrap()
    .report;
    let all = found(&report);
    let respelled: Vec<_> = all.iter().filter(|c| c.0 == "enum-value-respelled").collect();
    assert_eq!(respelled.len(), 1, "{all:#?}");
    assert_eq!(respelled[0].1, Level::Breaking);
    assert!(
        respelled[0].3.contains("same Rust variant `VeryHigh`"),
        "{all:#?}"
    );
}

/// Case 3: an older vendor document our overlay was not written for (its
/// PhoneNumber lacks the field our note finds it by) compares all the same;
/// a newer one our correction no longer fits is a finding of the report,
/// and update-spec refuses it, saying how to decide.
#[test]
fn an_older_document_the_overlay_does_not_fit_compares_and_the_stale_correction_is_a_finding() {
    let without_sip_uri = |doc: &mut Value| {
        doc["components"]["schemas"]["PhoneNumber"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("terminationSipURI");
    };
    let mut older = vendor();
    without_sip_uri(&mut older);
    let report = compare(&workspace(), Some(&older), &vendor(), false)
        .expect("the overlay's action simply does not apply to OLD")
        .report;
    assert_eq!(report.stale_corrections().count(), 0, "{}", report.markdown());
    assert!(found(&report)
        .iter()
        .any(|c| c.0 == "response-property-added" && c.2.ends_with("phoneNumber.terminationSipURI")));

    let report = compare(&workspace(), None, &older, false).unwrap().report;
    let stale: Vec<_> = report.stale_corrections().collect();
    assert_eq!(stale.len(), 1, "{}", report.markdown());
    assert_eq!(stale[0].rule, "overlay-correction-stale");
    assert_eq!(stale[0].location, "openapi/overlay.yaml action 1");
    assert!(
        stale[0].message.starts_with("this correction no longer applies"),
        "{}",
        stale[0].message
    );
    assert!(stale[0]
        .message
        .contains("remove it from the overlay, or retarget it"));

    let ws = scratch("stale");
    let error = take_in_with(&ws, &older, true).unwrap_err();
    assert!(
        error.contains("no longer apply")
            && error.contains("remove each from openapi/overlay.yaml, or retarget it"),
        "{error}"
    );
    assert_eq!(
        ws.read(EFFECTIVE).unwrap(),
        std::fs::read_to_string(support::workspace_root().join(EFFECTIVE)).unwrap(),
        "nothing was written"
    );
    let _ = std::fs::remove_dir_all(&ws.root);
}

/// Case 4: a vendor release documents its own error bodies where our
/// overlay filled the gap: a named 400 and 401, an inline 429. The vendor's
/// types win, under the vendor's names; our note is gone from those
/// statuses; the others keep ours; the report speaks of the error-body
/// enum's variants; and the local server answers with the vendor's bodies.
#[test]
fn the_vendors_own_error_bodies_win_where_our_overlay_filled_a_gap() {
    let mut release = vendor();
    let schemas = release["components"]["schemas"].as_object_mut().unwrap();
    schemas.insert(
        "ValidationError".into(),
        json!({"type": "object", "description": "The request is invalid.", "required": ["message"], "properties": {
            "message": {"type": "string", "description": "What is wrong."},
            "fields": {"type": "array", "items": {"type": "string"}, "description": "The fields at fault."}
        }}),
    );
    schemas.insert(
        "Unauthorized".into(),
        json!({"type": "object", "description": "No valid API key.", "required": ["message"], "properties": {
            "message": {"type": "string", "description": "Why."}
        }}),
    );
    let responses = &mut release["paths"]["/v1/calls"]["post"]["responses"];
    responses["400"] = json!({"description": "Bad Request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationError"}}}});
    responses["401"] = json!({"description": "Unauthorized", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Unauthorized"}}}});
    responses["429"] = json!({"description": "Too Many Requests", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"retryAfter": {"type": "integer", "description": "Seconds."}}
    }}}});

    let ws = scratch("vendor-errors");
    let report = take_in_with(&ws, &release, true).expect("taken in with --allow-breaking");
    let all = found(&report);
    let variant = |status: &str| {
        all.iter()
            .find(|c| c.0 == "error-body-type-changed" && c.2 == format!("POST /v1/calls {status}"))
            .unwrap_or_else(|| panic!("{status}: {all:#?}"))
            .3
            .clone()
    };
    assert_eq!(
        variant("400"),
        "`CreateCallErrorBody::Status400` now holds `ValidationError` (was `LocalServerErrorBody`)"
    );
    assert_eq!(
        variant("401"),
        "`CreateCallErrorBody::Status401` now holds `Unauthorized` (was `LocalServerErrorBody`)"
    );
    assert_eq!(
        variant("429"),
        "`CreateCallErrorBody::Status429` now holds `CreateCallError429` (was `LocalServerErrorBody`)"
    );
    assert!(
        all.iter()
            .any(|c| c.0 == "overlay-gap-filled-by-vendor" && c.3.contains("400, 401, 429")),
        "{all:#?}"
    );
    for rule in [
        "schema-composition-changed",
        "unclassified-surface-change",
        "overlay-correction-stale",
    ] {
        assert!(!all.iter().any(|c| c.0 == rule), "no `{rule}`: {all:#?}");
    }

    let effective: Value = serde_json::from_str(&ws.read(EFFECTIVE).unwrap()).unwrap();
    let responses = &effective["paths"]["/v1/calls"]["post"]["responses"];
    assert_eq!(
        responses["400"]["description"], "Bad Request",
        "the vendor's words, not our note"
    );
    assert_eq!(
        responses["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ValidationError"
    );
    assert!(responses["413"]["description"]
        .as_str()
        .unwrap()
        .starts_with("Not documented by the vendor"));
    let book = ws.read(NAMES).unwrap();
    assert!(
        book.contains(r#""POST /v1/calls 400" = "ValidationError""#),
        "{book}"
    );
    assert!(
        book.contains(r#""POST /v1/calls 413" = "LocalServerErrorBody""#),
        "{book}"
    );

    // The local server answers as the release documents.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = sigmamind_mock::MockServer::start_with(
            sigmamind_mock::MockOptions::default()
                .spec(effective.clone())
                .api_key("k"),
        )
        .await;
        let post = |key: &'static str, body: Value| {
            reqwest::Client::new()
                .post(format!("{}/v1/calls", server.base_url()))
                .header("x-api-key", key)
                .json(&body)
                .send()
        };
        let unauthorized = post("wrong", json!({})).await.unwrap();
        assert_eq!(unauthorized.status().as_u16(), 401);
        assert_eq!(
            unauthorized.json::<Value>().await.unwrap(),
            json!({"message": "missing or invalid X-API-Key header"}),
            "Unauthorized, as the release documents it"
        );
        let invalid = post("k", json!({"fromPhoneNumber": "+1"})).await.unwrap();
        assert_eq!(invalid.status().as_u16(), 422, "422 stays ours");
        let body: Value = invalid.json().await.unwrap();
        assert_eq!(body["error"], "Unprocessable Entity");
    });
    let _ = std::fs::remove_dir_all(&ws.root);
}

#[test]
fn the_shipped_overlay_fits_the_shipped_document() {
    let report = take_in(&scratch("fits"), &vendor()).unwrap();
    assert_eq!(report.stale_corrections().count(), 0);
}
