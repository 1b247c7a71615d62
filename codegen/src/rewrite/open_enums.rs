//! The open enums, put into the generated `types` module where typify's
//! replacements point.

use syn::Item;

use super::{module_mut, RewriteError};
use crate::open_enum;
use crate::transform::OpenEnum;

/// Puts the open enums into the generated `types` module, where typify's
/// replacements point.
pub fn add_open_enums(file: &mut syn::File, enums: &[OpenEnum]) -> Result<(), RewriteError> {
    if enums.is_empty() {
        return Ok(());
    }
    let mut tokens = open_enum::unknown_value();
    tokens.extend(open_enum::parse_error());
    for e in enums {
        tokens.extend(open_enum::generate(e));
    }
    let extra: syn::File =
        syn::parse2(tokens).map_err(|e| format!("open enums: the template is not valid Rust: {e}"))?;
    let items = module_mut(file, "types", "open enums")?;
    // After the `error` module and before the types, in spec order.
    let at = items
        .iter()
        .position(|item| matches!(item, Item::Struct(_) | Item::Enum(_)))
        .unwrap_or(items.len());
    items.splice(at..at, extra.items);
    Ok(())
}
