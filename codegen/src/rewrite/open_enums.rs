//! The open enums, put into the generated `types` module where typify's
//! replacements point.

use syn::Item;

use super::{module_mut, RewriteError};
use crate::open_enum;
use crate::transform::OpenEnum;

/// Puts the open enums into the generated `types` module, where typify's
/// replacements point.
pub fn add_open_enums(file: &mut syn::File, enums: &[OpenEnum]) -> Result<(), RewriteError> {
    open_enums(file, enums, crate::Scope::Crate)
}

/// [`add_open_enums`] in `scope`: for the surface listing, the enums
/// without their impls (it reads none).
pub(crate) fn open_enums(
    file: &mut syn::File,
    enums: &[OpenEnum],
    scope: crate::Scope,
) -> Result<(), RewriteError> {
    if enums.is_empty() {
        return Ok(());
    }
    for e in enums {
        open_enum::variant_names(&e.values)
            .map_err(|problem| format!("open enums: `{}`: {problem}", e.name))?;
    }
    let mut tokens = open_enum::unknown_value();
    tokens.extend(open_enum::parse_error());
    for e in enums {
        tokens.extend(match scope {
            crate::Scope::Crate => open_enum::generate(e),
            crate::Scope::Surface => open_enum::enum_type(e),
        });
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
