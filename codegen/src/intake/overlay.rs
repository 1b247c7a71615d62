//! Our corrections to the vendor's document, as an OpenAPI Overlay 1.0
//! (`openapi/overlay.yaml`), applied with the `roas-overlay` crate.
//!
//! An action whose target matches nothing fails the intake: after a vendor
//! update, a correction that silently stopped applying would be a decision
//! of ours quietly lost.

use enumset::EnumSet;
use roas_overlay::apply::{Apply, ApplyOptions};
use roas_overlay::v1_0::Overlay;
use roas_overlay::validation::{Validate, ValidationOptions};
use serde_json::Value;

/// Applies `overlay` (an Overlay 1.0 document as JSON) to `document`.
pub fn apply(document: &mut Value, overlay: &Value) -> Result<(), String> {
    let parsed: Overlay = serde_path_to_error::deserialize(overlay)
        .map_err(|e| format!("not an Overlay 1.0 document at `{}`: {}", e.path(), e.inner()))?;
    parsed
        .validate(EnumSet::<ValidationOptions>::empty())
        .map_err(|e| format!("invalid overlay: {e}"))?;
    parsed
        .apply(
            document,
            ApplyOptions::ErrorOnZeroMatch | ApplyOptions::ErrorOnMixedKindMatch,
        )
        .map_err(|e| {
            let description = parsed
                .actions
                .get(e.action_index)
                .and_then(|a| a.description.as_deref())
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            format!("overlay action {}{description}: {e}", e.action_index + 1)
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overlay(actions: Value) -> Value {
        json!({"overlay": "1.0.0", "info": {"title": "ours", "version": "1"}, "actions": actions})
    }

    #[test]
    fn updates_merge_and_removes_remove() {
        let mut doc = json!({"paths": {"/a": {"get": {"summary": "s"}, "trace": {"summary": "t"}}}});
        apply(
            &mut doc,
            &overlay(json!([
                {"target": "$.paths['/a'].get", "update": {"description": "added"}},
                {"target": "$.paths['/a'].trace", "remove": true}
            ])),
        )
        .unwrap();
        assert_eq!(
            doc,
            json!({"paths": {"/a": {"get": {"summary": "s", "description": "added"}}}})
        );
    }

    #[test]
    fn an_action_that_matches_nothing_fails_loudly() {
        let mut doc = json!({"paths": {}});
        let err = apply(
            &mut doc,
            &overlay(json!([{"target": "$.paths['/gone'].get", "description": "pin create_call", "update": {"x-rust-name": "x"}}])),
        )
        .unwrap_err();
        assert!(err.starts_with("overlay action 1 (pin create_call):"), "{err}");
        assert_eq!(doc, json!({"paths": {}}), "nothing applied");
    }
}
