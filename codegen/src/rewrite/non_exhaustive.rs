//! Structs that can grow: a field the vendor adds is not a breaking change.

use syn::{parse_quote, Item};

use super::{module_mut, RewriteError};

/// Marks every generated struct with named fields `#[non_exhaustive]`, so
/// that a field the vendor adds is not a breaking change: outside the crate
/// they are built with their builders (`Call::builder()`) and matched with
/// `..`, never written as struct literals. Fails when the types module has
/// no such struct: every spec this crate generates from has objects.
pub fn make_structs_non_exhaustive(file: &mut syn::File) -> Result<(), RewriteError> {
    let items = module_mut(file, "types", "non-exhaustive structs")?;
    let mut marked = 0;
    for item in items.iter_mut() {
        if let Item::Struct(s) = item {
            if matches!(s.fields, syn::Fields::Named(_)) {
                if !s.attrs.iter().any(|a| a.path().is_ident("non_exhaustive")) {
                    s.attrs.push(parse_quote!(#[non_exhaustive]));
                }
                marked += 1;
            }
        }
    }
    if marked == 0 {
        return Err("non-exhaustive structs: `mod types` has no struct with named fields".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_struct_to_mark_fails() {
        let mut file: syn::File = parse_quote! { pub mod types { pub struct Id(String); } };
        let err = make_structs_non_exhaustive(&mut file).unwrap_err();
        assert!(err.contains("no struct with named fields"), "{err}");
    }
}
