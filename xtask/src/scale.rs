//! Synthetic specs of a chosen size, to show how generation cost grows with
//! the vendor's API (`cargo xtask bench-scale`).

use std::path::Path;

use serde_json::{json, Map, Value};

/// A valid OpenAPI 3.0.3 spec with `operations` operations: alternately a
/// `POST` with a request body and a `GET` with a path parameter, each with
/// its own response type; ten shared response enums.
pub fn synthetic_spec(operations: usize) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for e in 0..10 {
        schemas.insert(
            format!("State{e}"),
            json!({"type": "string", "description": "A state.", "enum": ["new", "active", "done", format!("custom_{e}")]}),
        );
    }
    for i in 0..operations {
        schemas.insert(
            format!("Resource{i}"),
            json!({
                "type": "object",
                "description": "A resource.",
                "properties": {
                    "id": {"type": "string", "description": "Id."},
                    "name": {"type": "string", "description": "Name."},
                    "count": {"type": "integer", "format": "int32", "description": "Count."},
                    "createdAt": {"type": "string", "format": "date-time", "description": "Created."},
                    "active": {"type": "boolean", "description": "Active."},
                    "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags."},
                    "state": {"$ref": format!("#/components/schemas/State{}", i % 10)},
                    "note": {"type": "string", "nullable": true, "description": "Note."}
                }
            }),
        );
        let response = json!({"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/Resource{i}")}}}}});
        if i % 2 == 0 {
            schemas.insert(
                format!("CreateResource{i}"),
                json!({
                    "type": "object",
                    "description": "Input.",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 64, "description": "Name."},
                        "count": {"type": "integer", "format": "int32", "description": "Count."}
                    }
                }),
            );
            paths.insert(
                format!("/v1/resources{i}"),
                json!({"post": {
                    "operationId": format!("create_resource{i}"),
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/CreateResource{i}")}}}},
                    "responses": response
                }}),
            );
        } else {
            paths.insert(
                format!("/v1/resources{i}/{{id}}"),
                json!({"get": {
                    "operationId": format!("get_resource{i}"),
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "responses": response
                }}),
            );
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Synthetic", "version": "1.0.0"},
        "servers": [{"url": "https://example.invalid"}],
        "paths": paths,
        "components": {"schemas": schemas}
    })
}

/// A crate holding `source` (standalone generated code) with the runtime
/// dependencies the generated code names, pinned by this workspace's lock.
pub fn write_crate(dir: &Path, source: &str) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("Cargo.toml"),
        r#"[package]
name = "synthetic"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
progenitor-client = "0.15.1"
reqwest = { version = "0.13", default-features = false, features = ["json", "rustls"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
chrono = { version = "0.4", default-features = false, features = ["serde", "std", "clock"] }
schemars = { version = "0.8", features = ["chrono"] }
regress = "0.10"

[workspace]
"#,
    )
    .map_err(|e| e.to_string())?;
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("src/lib.rs"),
        format!("#![allow(clippy::all, missing_docs)]\n{source}"),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn synthetic_specs_are_valid_and_generate() {
        for n in [1, 7] {
            let spec =
                sigmamind_codegen::Spec::from_value("synthetic.json", super::synthetic_spec(n)).unwrap();
            let source =
                sigmamind_codegen::generate(&spec, &sigmamind_codegen::Options::standalone()).unwrap();
            assert_eq!(
                source.matches("pub fn create_resource").count()
                    + source.matches("pub fn get_resource").count(),
                n
            );
        }
    }
}
