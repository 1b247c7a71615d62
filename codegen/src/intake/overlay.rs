//! Our decisions about the vendor's document, as an OpenAPI Overlay 1.0
//! (`openapi/overlay.yaml`), applied with the `roas-overlay` crate, one
//! action at a time, so that what each did is known.
//!
//! Overlay 1.0 has no conditional actions, so ours say what they are with
//! an extension on the action:
//! - a **correction** (the default) changes what the vendor wrote. One that
//!   matches nothing is *stale*: the vendor's document moved under it. It is
//!   reported ([`OverlayOutcome::stale`]); `update-spec` refuses until the
//!   maintainer removes or retargets it, and comparing an older document
//!   simply does without it.
//! - a **gap-filling** action (`x-sigmamind-fills-gap: true`) documents what
//!   the vendor leaves out. It adds only the keys the target does not have:
//!   where the vendor has content, the vendor's wins. When the vendor has
//!   them all, ours steps aside ([`OverlayOutcome::filled_by_vendor`]), and
//!   the names it pinned go with it ([`FilledGap::places`]).

use enumset::EnumSet;
use roas_overlay::apply::{Apply, ApplyOptions};
use roas_overlay::common::apply::{compile_path, locate};
use roas_overlay::v1_0::Overlay;
use roas_overlay::validation::{Validate, ValidationOptions};
use serde_json::{Map, Value};

/// The action extension that marks a gap-filling action.
pub const FILLS_GAP: &str = "x-sigmamind-fills-gap";

/// What applying the overlay found, besides the document it changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverlayOutcome {
    /// Corrections that matched nothing.
    pub stale: Vec<StaleAction>,
    /// Gap-filling content the vendor's document now has of its own.
    pub filled_by_vendor: Vec<FilledGap>,
}

/// A correction that matched nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleAction {
    /// Its number in the overlay, from 1.
    pub number: usize,
    /// Its description.
    pub description: String,
    /// Its target.
    pub target: String,
}

/// Keys of a gap-filling action that the vendor's document has itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledGap {
    /// The action's number in the overlay, from 1.
    pub number: usize,
    /// Its description.
    pub description: String,
    /// Its target.
    pub target: String,
    /// The keys the vendor documents there now (`400`, `401`).
    pub keys: Vec<String>,
    /// The API places whose content (and names) came from what stepped
    /// aside (`POST /v1/calls 400`): their recorded names no longer hold.
    pub places: Vec<String>,
}

/// Applies `overlay` (an Overlay 1.0 document as JSON) to `document`.
/// Errors only when the overlay itself is invalid, or an action would act
/// on a value it cannot (a primitive, a mix of kinds).
pub fn apply(document: &mut Value, overlay: &Value) -> Result<OverlayOutcome, String> {
    let parsed: Overlay = serde_path_to_error::deserialize(overlay)
        .map_err(|e| format!("not an Overlay 1.0 document at `{}`: {}", e.path(), e.inner()))?;
    parsed
        .validate(EnumSet::<ValidationOptions>::empty())
        .map_err(|e| format!("invalid overlay: {e}"))?;
    let mut outcome = OverlayOutcome::default();
    for (index, action) in parsed.actions.iter().enumerate() {
        let number = index + 1;
        let description = action.description.clone().unwrap_or_default();
        let fills_gap = action
            .extensions
            .as_ref()
            .and_then(|x| x.get(FILLS_GAP))
            .is_some_and(|v| v == &Value::Bool(true));
        let mut this = action.clone();
        if fills_gap {
            match gap_only(document, &this.target, this.update.as_ref())
                .map_err(|e| format!("overlay action {number} ({description}): {e}"))?
            {
                Gap::Open { update, vendor_keys } => {
                    this.update = Some(update);
                    if !vendor_keys.is_empty() {
                        outcome.filled_by_vendor.push(filled(
                            number,
                            &description,
                            &this.target,
                            vendor_keys,
                        ));
                    }
                }
                Gap::Closed { vendor_keys } => {
                    outcome
                        .filled_by_vendor
                        .push(filled(number, &description, &this.target, vendor_keys));
                    continue;
                }
                Gap::NoTarget => {
                    outcome.stale.push(StaleAction {
                        number,
                        description,
                        target: this.target.clone(),
                    });
                    continue;
                }
            }
        }
        let single = Overlay {
            actions: vec![this],
            ..parsed.clone()
        };
        let report = single
            .apply(document, EnumSet::only(ApplyOptions::ErrorOnMixedKindMatch))
            .map_err(|e| format!("overlay action {number} ({description}): {e}"))?;
        if report.actions.iter().all(|a| a.matched == 0) {
            outcome.stale.push(StaleAction {
                number,
                description,
                target: action.target.clone(),
            });
        }
    }
    Ok(outcome)
}

fn filled(number: usize, description: &str, target: &str, vendor_keys: Vec<(String, String)>) -> FilledGap {
    let mut keys: Vec<String> = vendor_keys.iter().map(|(_, key)| key.clone()).collect();
    keys.dedup();
    FilledGap {
        number,
        description: description.to_owned(),
        target: target.to_owned(),
        keys,
        places: vendor_keys
            .iter()
            .filter_map(|(pointer, key)| place_of(&format!("{pointer}/{}", escape(key))))
            .collect(),
    }
}

/// What a gap-filling action may still add.
enum Gap {
    /// Add `update`; the vendor has `vendor_keys` (pointer, key) of its own.
    Open {
        update: Value,
        vendor_keys: Vec<(String, String)>,
    },
    /// The vendor has every key itself.
    Closed { vendor_keys: Vec<(String, String)> },
    /// The target matches nothing.
    NoTarget,
}

/// The keys of `update` that no node `target` selects has already.
fn gap_only(document: &Value, target: &str, update: Option<&Value>) -> Result<Gap, String> {
    let Some(Value::Object(update)) = update else {
        return Err("a gap-filling action needs an object `update`".into());
    };
    let pointers = locate(document, &compile_path(target)?);
    if pointers.is_empty() {
        return Ok(Gap::NoTarget);
    }
    if pointers.len() > 1 {
        return Err(format!(
            "a gap-filling action must select one node (`{target}` selects {})",
            pointers.len()
        ));
    }
    let node = document.pointer(&pointers[0]).and_then(Value::as_object);
    let mut open = Map::new();
    let mut vendor_keys = Vec::new();
    for (key, value) in update {
        if node.is_some_and(|n| n.contains_key(key)) {
            vendor_keys.push((pointers[0].clone(), key.clone()));
        } else {
            open.insert(key.clone(), value.clone());
        }
    }
    Ok(if open.is_empty() {
        Gap::Closed { vendor_keys }
    } else {
        Gap::Open {
            update: Value::Object(open),
            vendor_keys,
        }
    })
}

/// The API place (as the name book writes it) of a response or request
/// body's pointer: `/paths/~1v1~1calls/post/responses/400` is
/// `POST /v1/calls 400`. `None` for other places.
fn place_of(pointer: &str) -> Option<String> {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    match tokens.as_slice() {
        [paths, path, method, responses, code] if paths == "paths" && responses == "responses" => {
            Some(format!("{} {path} {code}", method.to_uppercase()))
        }
        [paths, path, method, body] if paths == "paths" && body == "requestBody" => {
            Some(format!("{} {path} body", method.to_uppercase()))
        }
        _ => None,
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
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
        let outcome = apply(
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
        assert_eq!(outcome, OverlayOutcome::default());
    }

    #[test]
    fn a_correction_that_matches_nothing_is_stale_and_the_rest_applies() {
        let mut doc = json!({"paths": {"/a": {"get": {}}}});
        let outcome = apply(
            &mut doc,
            &overlay(json!([
                {"target": "$.paths['/gone'].get", "description": "pin create_call", "update": {"x-rust-name": "x"}},
                {"target": "$.paths['/a'].get", "update": {"summary": "kept"}}
            ])),
        )
        .unwrap();
        assert_eq!(
            outcome.stale,
            [StaleAction {
                number: 1,
                description: "pin create_call".into(),
                target: "$.paths['/gone'].get".into()
            }]
        );
        assert_eq!(doc["paths"]["/a"]["get"]["summary"], "kept");
    }

    #[test]
    fn a_gap_filling_action_adds_only_what_the_vendor_lacks() {
        let ours = json!([{
            "target": "$.paths['/a'].post.responses",
            "description": "errors the vendor does not document",
            FILLS_GAP: true,
            "update": {"400": {"description": "ours"}, "401": {"description": "ours"}}
        }]);
        // The vendor documents 400 now: ours fills 401 only.
        let mut doc =
            json!({"paths": {"/a": {"post": {"responses": {"201": {}, "400": {"description": "theirs"}}}}}});
        let outcome = apply(&mut doc, &overlay(ours.clone())).unwrap();
        assert_eq!(
            doc["paths"]["/a"]["post"]["responses"]["400"]["description"],
            "theirs"
        );
        assert_eq!(
            doc["paths"]["/a"]["post"]["responses"]["401"]["description"],
            "ours"
        );
        assert_eq!(outcome.filled_by_vendor[0].keys, ["400"]);
        assert_eq!(outcome.filled_by_vendor[0].places, ["POST /a 400"]);
        assert!(outcome.stale.is_empty());
        // It documents both: ours steps aside, not stale.
        let mut doc = json!({"paths": {"/a": {"post": {"responses": {"400": {"description": "t"}, "401": {"description": "t"}}}}}});
        let before = doc.clone();
        let outcome = apply(&mut doc, &overlay(ours)).unwrap();
        assert_eq!(doc, before);
        assert_eq!(outcome.filled_by_vendor[0].keys, ["400", "401"]);
        assert!(outcome.stale.is_empty());
    }
}
