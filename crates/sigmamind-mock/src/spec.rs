//! The spec a local server serves: the crate's own by default, or one
//! given at run time ([`MockOptions::spec`](super::MockOptions::spec)), so
//! that a vendor release can be served before the crate is regenerated.

use std::sync::{Arc, LazyLock};

use serde_json::Value;

/// The spec the crate was generated from, parsed once.
pub(crate) fn crate_spec() -> &'static Value {
    static SPEC: LazyLock<Value> =
        LazyLock::new(|| serde_json::from_str(sigmamind::SPEC_JSON).expect("build.rs wrote valid JSON"));
    &SPEC
}

/// A spec as a server holds it: shared by its connections.
pub(crate) type SharedSpec = Arc<Value>;

/// The crate's spec, shared.
pub(crate) fn default_spec() -> SharedSpec {
    static SHARED: LazyLock<SharedSpec> = LazyLock::new(|| Arc::new(crate_spec().clone()));
    SHARED.clone()
}

/// Resolves a local `#/...` reference in `spec`.
pub(crate) fn resolve<'a>(spec: &'a Value, reference: &str) -> Option<&'a Value> {
    spec.pointer(reference.strip_prefix('#')?)
}

/// A parameter, response or schema object, with `$ref`s followed.
pub(crate) fn deref<'a>(spec: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve(spec, r))
        {
            Some(target) => value = target,
            None => break,
        }
    }
    value
}

/// A schema with `$ref`s and one-member `allOf` wrappers followed, as far
/// as the schema that decides the type. (The local server cannot use the
/// generator's schema walker: that is a build dependency, not one of the
/// crate's.)
pub(crate) fn unwrap<'a>(spec: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..32 {
        if let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| resolve(spec, r))
        {
            schema = target;
            continue;
        }
        match schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            Some([only]) => schema = only,
            _ => break,
        }
    }
    schema
}
