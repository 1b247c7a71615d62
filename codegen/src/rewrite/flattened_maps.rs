//! typify's builders demand a value for a struct's flattened map of
//! unknown fields; they start it empty instead.

use syn::{parse_quote, ImplItem, Item, Type};

use super::{module_mut, RewriteError};
use crate::attrs::has_serde_flag;

/// typify's builders require a value for a struct's flattened map of
/// unknown fields (`extra`); a response type built by hand has none, so the
/// builder starts it empty instead.
pub fn default_flattened_maps(file: &mut syn::File) -> Result<(), RewriteError> {
    let types = module_mut(file, "types", "empty unknown-field maps")?;
    let mut flattened: Vec<(String, String)> = Vec::new();
    for item in types.iter() {
        let Item::Struct(s) = item else { continue };
        for field in &s.fields {
            let flatten = has_serde_flag(&field.attrs, "flatten");
            if let (true, Some(ident)) = (flatten, &field.ident) {
                flattened.push((s.ident.to_string(), ident.to_string()));
            }
        }
    }
    if flattened.is_empty() {
        return Ok(());
    }
    let builders = types
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(m) if m.ident == "builder" => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .ok_or("empty unknown-field maps: typify's output has no `types::builder` module any more")?;
    for (name, field) in flattened {
        let done = builders.iter_mut().any(|item| {
            let Item::Impl(block) = item else { return false };
            let is_default = block
                .trait_
                .as_ref()
                .is_some_and(|(path, _)| path.segments.last().is_some_and(|s| s.ident == "Default"));
            let is_this = matches!(block.self_ty.as_ref(), Type::Path(p) if p.path.is_ident(name.as_str()));
            if !(is_default && is_this) {
                return false;
            }
            block.items.iter_mut().any(|member| {
                let ImplItem::Fn(f) = member else { return false };
                let Some(syn::Stmt::Expr(syn::Expr::Struct(init), None)) = f.block.stmts.last_mut() else {
                    return false;
                };
                init.fields.iter_mut().any(|fv| {
                    let hit = matches!(&fv.member, syn::Member::Named(m) if *m == field);
                    if hit {
                        fv.expr = parse_quote!(Ok(Default::default()));
                    }
                    hit
                })
            })
        });
        if !done {
            return Err(format!(
                "empty unknown-field maps: found no `{field}` in `impl Default for builder::{name}`"
            ));
        }
    }
    Ok(())
}
