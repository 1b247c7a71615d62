//! Component name -> generated Rust type, for tests that must handle any type.

use schemars::r#gen::SchemaGenerator;
use schemars::schema::Schema;
use serde_json::Value;
use sigmamind::types;

macro_rules! registry {
    ($($ty:ident),* $(,)?) => {
        /// Every type the registry knows.
        pub const NAMES: &[&str] = &[$(stringify!($ty)),*];

        /// Parses `value` as the named type and serialises it back.
        pub fn roundtrip(name: &str, value: &Value) -> Result<Value, String> {
            match name {
                $(stringify!($ty) => {
                    let parsed: types::$ty = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
                    serde_json::to_value(&parsed).map_err(|e| e.to_string())
                })*
                other => panic!("`{other}` is not in tests/conformance/registry.rs: add it"),
            }
        }

        /// The JSON Schema schemars derives for the named type.
        pub fn schema(name: &str, generator: &mut SchemaGenerator) -> Schema {
            match name {
                $(stringify!($ty) => generator.subschema_for::<types::$ty>(),)*
                other => panic!("`{other}` is not in tests/conformance/registry.rs: add it"),
            }
        }
    };
}

registry!(
    Agent,
    AgentId,
    Call,
    CallStatus,
    CallType,
    Campaign,
    CreateCallRequest,
    E164PhoneNumber,
    LocalServerErrorBody,
    PhoneNumber,
    RuleViolation,
    TerminationReason,
);

#[test]
fn every_component_of_the_spec_is_registered() {
    let components: Vec<&str> = crate::spec::SPEC["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut names = NAMES.to_vec();
    names.sort();
    assert_eq!(
        names, components,
        "the registry must list exactly the spec's component schemas"
    );
}
