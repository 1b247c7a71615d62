//! A compact listing of what the generated code offers: operations (method,
//! path, parameters, body, response) and types (fields with Rust types and
//! whether they are required, enum values, newtype rules). Snapshotted, so a
//! spec change reads like a changelog in review.

use std::collections::HashMap;
use std::fmt::Write;

use heck::ToUpperCamelCase;
use quote::ToTokens;
use serde_json::Value;
use syn::{Fields, ImplItem, Item, Type};

use crate::attrs::{has_serde_flag, serde_value};
use crate::spec::{deref, operations, Spec};

/// The surface of what [`crate::generate_file`] makes of `spec`, generating
/// only what [`render`] reads (the same text, in less than half the time
/// on a large spec).
pub fn listing(spec: &Spec, options: &crate::Options) -> Result<String, crate::SpecError> {
    let file = crate::generate_in(spec, options, crate::Scope::Surface)?;
    Ok(render(spec, &file))
}

/// Renders the surface of `file`, generated from `spec`.
pub fn render(spec: &Spec, file: &syn::File) -> String {
    let mut out = String::new();
    let info = &spec.document["info"];
    let _ = writeln!(
        out,
        "# {} {}",
        info["title"].as_str().unwrap_or("?"),
        info["version"].as_str().unwrap_or("?")
    );
    let _ = writeln!(out, "\n## Operations");
    let builder_lines = builder_lines(module(file, "builder"));
    for (path, method, operation) in operations(&spec.document) {
        let id = operation["operationId"].as_str().unwrap_or("?");
        let _ = writeln!(out, "\n{} {path}  ->  Client::{id}()", method.to_uppercase());
        if let Some(security) = operation.get("security").or(spec.document.get("security")) {
            let schemes: Vec<String> = security
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .flat_map(|s| s.keys().cloned())
                .collect();
            let _ = writeln!(out, "  security: {}", schemes.join(", "));
        }
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let p = deref(&spec.document, parameter).unwrap_or(parameter);
            let _ = writeln!(
                out,
                "  param {} in {}{}",
                p["name"].as_str().unwrap_or("?"),
                p["in"].as_str().unwrap_or("?"),
                if p["required"].as_bool() == Some(true) {
                    " (required)"
                } else {
                    ""
                }
            );
        }
        let builder = id.to_upper_camel_case();
        if let Some(lines) = builder_lines.get(builder.as_str()) {
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
        }
    }

    let _ = writeln!(out, "\n## Types");
    let types = module(file, "types");
    let rules = rules(types);
    for item in types {
        match item {
            Item::Struct(s) => {
                if let Fields::Unnamed(fields) = &s.fields {
                    let inner = fields
                        .unnamed
                        .iter()
                        .map(|f| type_name(&f.ty))
                        .collect::<Vec<_>>();
                    let _ = writeln!(out, "\nnewtype {}({})", s.ident, inner.join(", "));
                    for rule in rules.get(s.ident.to_string().as_str()).into_iter().flatten() {
                        let _ = writeln!(out, "  rule: {rule}");
                    }
                    continue;
                }
                let _ = writeln!(out, "\nstruct {}", s.ident);
                for field in &s.fields {
                    if has_serde_flag(&field.attrs, "flatten") {
                        let rust = field.ident.as_ref().map(ToString::to_string).unwrap_or_default();
                        let _ = writeln!(
                            out,
                            "  ..: fields the spec does not know, kept (.{rust}: {})",
                            type_name(&field.ty)
                        );
                        continue;
                    }
                    let rust = field.ident.as_ref().map(ToString::to_string).unwrap_or_default();
                    let wire = serde_value(&field.attrs, "rename").unwrap_or_else(|| rust.clone());
                    let ty = type_name(&field.ty);
                    let optional = ty.starts_with("Option<") || has_serde_flag(&field.attrs, "default");
                    let _ = writeln!(
                        out,
                        "  {wire}{}: {ty}{}",
                        if wire != rust {
                            format!(" (.{rust})")
                        } else {
                            String::new()
                        },
                        if optional { "" } else { "  [required]" }
                    );
                }
            }
            Item::Enum(e) => {
                let open = e
                    .variants
                    .iter()
                    .any(|v| v.ident == "Unknown" && !v.fields.is_empty());
                let _ = writeln!(
                    out,
                    "\nenum {}{}",
                    e.ident,
                    if open { " (open: unknown values kept)" } else { "" }
                );
                for v in &e.variants {
                    if open && v.ident == "Unknown" {
                        continue;
                    }
                    let wire = serde_value(&v.attrs, "rename")
                        .or_else(|| doc_value(&v.attrs))
                        .unwrap_or_else(|| v.ident.to_string());
                    let fields = if v.fields.is_empty() {
                        String::new()
                    } else {
                        clean(&v.fields.to_token_stream().to_string())
                    };
                    let _ = writeln!(out, "  {wire}{fields}  ({})", v.ident);
                }
            }
            _ => {}
        }
    }
    out
}

fn module<'a>(file: &'a syn::File, name: &str) -> &'a [Item] {
    file.items
        .iter()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items.as_slice()),
            _ => None,
        })
        .unwrap_or(&[])
}

/// Each builder's lines, by the builder's name: its fields (what the
/// operation takes) and its own `send()`, in the order the file has them.
/// Indexed once: a spec has hundreds of operations and builders.
fn builder_lines(builders: &[Item]) -> HashMap<String, Vec<String>> {
    let mut lines: HashMap<String, Vec<String>> = HashMap::new();
    for item in builders {
        match item {
            Item::Struct(s) => {
                let entry = lines.entry(s.ident.to_string()).or_default();
                for field in &s.fields {
                    let name = field.ident.as_ref().map(ToString::to_string).unwrap_or_default();
                    if name == "client" {
                        continue;
                    }
                    // Builder fields hold `Result<T, String>` until `send`.
                    let ty = type_name(&field.ty);
                    let ty = ty
                        .strip_prefix("Result<")
                        .and_then(|t| t.strip_suffix(", String>"))
                        .unwrap_or(&ty);
                    entry.push(format!("  .{name}(): {ty}"));
                }
            }
            // The builder's own impl (`CreateCall<'a>`), under its name
            // without generics: not another builder whose name starts
            // with this one's (`CreateCallAgain`).
            Item::Impl(block) => {
                let self_ty = type_name(&block.self_ty);
                let name = self_ty.split('<').next().unwrap_or_default().to_owned();
                for member in &block.items {
                    if let ImplItem::Fn(f) = member {
                        if f.sig.ident == "send" {
                            lines.entry(name.clone()).or_default().push(format!(
                                "  .send() -> {}",
                                clean(&f.sig.output.to_token_stream().to_string())
                                    .trim_start_matches("->")
                                    .trim()
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    lines
}

/// The rules typify enforces in each newtype's `FromStr`, by their error
/// text, by the newtype's name.
fn rules(types: &[Item]) -> HashMap<String, Vec<String>> {
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    for item in types {
        let Item::Impl(block) = item else { continue };
        let is_from_str = block
            .trait_
            .as_ref()
            .is_some_and(|(path, _)| path.segments.last().is_some_and(|s| s.ident == "FromStr"));
        if !is_from_str {
            continue;
        }
        let rules = found.entry(type_name(&block.self_ty)).or_default();
        collect_literals(block.to_token_stream(), rules);
    }
    found
}

fn collect_literals(tokens: proc_macro2::TokenStream, out: &mut Vec<String>) {
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Group(g) => collect_literals(g.stream(), out),
            proc_macro2::TokenTree::Literal(lit) => {
                if let Ok(s) = syn::parse_str::<syn::LitStr>(&lit.to_string()) {
                    let v = s.value();
                    if ["longer than", "shorter than", "doesn't match pattern"]
                        .iter()
                        .any(|p| v.starts_with(p))
                    {
                        out.push(v);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The wire value written as the first doc line "`value`" (open enums).
fn doc_value(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().filter(|a| a.path().is_ident("doc")).find_map(|a| {
        let syn::Meta::NameValue(nv) = &a.meta else {
            return None;
        };
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &nv.value
        else {
            return None;
        };
        let v = s.value();
        v.strip_prefix('`')?.strip_suffix('`').map(str::to_owned)
    })
}

fn type_name(ty: &Type) -> String {
    clean(&ty.to_token_stream().to_string())
}

/// Token text to the way a person writes the type.
fn clean(tokens: &str) -> String {
    let mut s = tokens
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&")
        .replace("( ", "(")
        .replace(" )", ")");
    for prefix in [
        "::std::string::",
        "::std::option::",
        "::std::vec::",
        "::std::collections::",
        "::std::result::",
        "::chrono::offset::",
        "::chrono::",
        "std::result::",
        "crate::types::",
    ] {
        s = s.replace(prefix, "");
    }
    s.replace("::serde_json::", "serde_json::")
}
