//! Drift inspection: every generated type says what it carries that the
//! spec does not know (unknown enum values, unknown or mistyped fields).

use quote::quote;
use syn::Item;

use super::{module_mut, RewriteError};
use crate::attrs::{has_serde_flag, serde_value};
use crate::options::DriftInspection;

/// Implements the crate's drift inspection for every generated type: a
/// struct inspects its fields (by wire name) and reports its `extra` map
/// with its documented wire names (a documented name in `extra` is a
/// mistyped field, see [`super::lenient_responses`]; any other is unknown),
/// an open enum reports `Unknown`, anything else has nothing to report.
pub fn add_drift_inspection(file: &mut syn::File, drift: &DriftInspection) -> Result<(), RewriteError> {
    let items = module_mut(file, "types", "drift inspection")?;
    let (inspect, findings) = (&drift.trait_, &drift.findings);
    let mut impls = Vec::new();
    for item in items.iter() {
        let (ident, body) = match item {
            Item::Struct(s) => {
                let syn::Fields::Named(fields) = &s.fields else {
                    let ident = &s.ident;
                    impls.push(quote!(impl #inspect for #ident {}));
                    continue;
                };
                let wire_name = |field: &syn::Field| {
                    serde_value(&field.attrs, "rename")
                        .unwrap_or_else(|| field.ident.as_ref().expect("named field").to_string())
                };
                let documented: Vec<String> = fields
                    .named
                    .iter()
                    .filter(|f| !has_serde_flag(&f.attrs, "flatten"))
                    .map(wire_name)
                    .collect();
                let mut steps = Vec::new();
                for field in &fields.named {
                    let name = field.ident.as_ref().expect("named field");
                    if has_serde_flag(&field.attrs, "flatten") {
                        steps.push(quote!(found.fields(&self.#name, &[#(#documented),*]);));
                        continue;
                    }
                    let wire = wire_name(field);
                    steps.push(quote! {
                        found.enter(#wire);
                        #inspect::inspect(&self.#name, found);
                        found.leave();
                    });
                }
                (s.ident.clone(), quote!(#(#steps)*))
            }
            Item::Enum(e) => {
                let open = e
                    .variants
                    .iter()
                    .any(|v| v.ident == "Unknown" && matches!(v.fields, syn::Fields::Unnamed(_)));
                if !open {
                    let ident = &e.ident;
                    impls.push(quote!(impl #inspect for #ident {}));
                    continue;
                }
                (
                    e.ident.clone(),
                    quote! {
                        if let Self::Unknown(value) = self {
                            found.enum_value(value.as_str());
                        }
                    },
                )
            }
            _ => continue,
        };
        impls.push(quote! {
            impl #inspect for #ident {
                fn inspect(&self, found: &mut #findings) {
                    #body
                }
            }
        });
    }
    if impls.is_empty() {
        return Err("drift inspection: the types module has no types".into());
    }
    let block: syn::File = syn::parse2(quote!(#(#impls)*))
        .map_err(|e| format!("drift inspection: the template is not valid Rust: {e}"))?;
    items.extend(block.items);
    Ok(())
}
