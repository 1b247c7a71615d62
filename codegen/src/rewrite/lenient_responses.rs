//! One field cannot sink a response: a struct that keeps the fields the
//! spec does not know (its flattened `extra` map: every response-only
//! object) also keeps a documented field whose value does not fit its
//! documented type. That field reads as absent (`None`), and its raw value
//! goes into `extra` under its wire name, so the struct still serialises
//! back to what the server sent, and drift inspection reports it (a
//! documented name in `extra` is a mistyped field).
//!
//! Only optional fields can read as absent; a required field keeps its
//! strict decoding (its Rust type has no absence), and so does every struct
//! without `extra` (requests: what we send is checked, not relaxed).

use quote::{format_ident, quote};
use syn::{Item, Type};

use super::{drop_derive, module_mut, RewriteError};
use crate::attrs::{has_serde_flag, serde_keys, serde_value};

/// The `#[serde(...)]` field keys the generated `Deserialize` carries over.
const UNDERSTOOD_KEYS: [&str; 4] = ["rename", "skip_serializing_if", "default", "flatten"];

/// typify's mark of a required field that may be null (an `Option` that
/// must be present): the generated `Deserialize` decodes it as a required
/// field, strictly, which is what the mark asks for.
const PRESENT_BUT_NULLABLE: &str = "::std::option::Option::deserialize";

/// Replaces the derived `Deserialize` of every struct with a flattened
/// `extra` map by one that keeps mistyped optional fields in `extra` (see
/// the module docs). Fails on a field attribute it would not carry over.
pub fn make_responses_lenient(file: &mut syn::File) -> Result<(), RewriteError> {
    lenient(file, crate::Scope::Crate)
}

/// [`make_responses_lenient`] in `scope`: for the surface listing, which
/// reads no `Deserialize` impl, the same checks and derives dropped, the
/// impls not made (half a second a side of a large spec).
pub(crate) fn lenient(file: &mut syn::File, scope: crate::Scope) -> Result<(), RewriteError> {
    let items = module_mut(file, "types", "lenient responses")?;
    let mut impls = Vec::new();
    for item in items.iter_mut() {
        let Item::Struct(s) = item else { continue };
        let syn::Fields::Named(fields) = &s.fields else {
            continue;
        };
        let Some(extra) = fields.named.iter().find(|f| has_serde_flag(&f.attrs, "flatten")) else {
            continue;
        };
        let ident = s.ident.clone();
        let extra = extra.ident.clone().expect("named field");
        let mut plan = Vec::new();
        for field in fields
            .named
            .iter()
            .filter(|f| !has_serde_flag(&f.attrs, "flatten"))
        {
            let name = field.ident.clone().expect("named field");
            let present_but_nullable =
                serde_value(&field.attrs, "deserialize_with").as_deref() == Some(PRESENT_BUT_NULLABLE);
            if let Some(key) = serde_keys(&field.attrs)
                .into_iter()
                .filter(|k| !(present_but_nullable && k == "deserialize_with"))
                .find(|k| !UNDERSTOOD_KEYS.contains(&k.as_str()))
            {
                return Err(format!(
                    "lenient responses: field `{name}` of `{ident}` has `#[serde({key})]`, which the \
                     generated `Deserialize` does not carry over"
                ));
            }
            plan.push(FieldPlan {
                wire: serde_value(&field.attrs, "rename").unwrap_or_else(|| name.to_string()),
                // Required though nullable: it must be there (a missing
                // one fails), so it does not read as absent.
                optional: is_option(&field.ty) && !present_but_nullable,
                defaulted: has_serde_flag(&field.attrs, "default"),
                ty: field.ty.clone(),
                name,
            });
        }
        if !drop_derive(&mut s.attrs, "Deserialize") {
            return Err(format!(
                "lenient responses: `{ident}` keeps unknown fields but derives no `Deserialize` to replace"
            ));
        }
        if scope == crate::Scope::Crate {
            impls.push(deserialize_impl(&ident, &extra, &plan));
        }
    }
    if impls.is_empty() {
        return Ok(()); // no response-only objects in this spec
    }
    let helper = quote! {
        /// A response field's value as its documented type, or `None` when it
        /// does not fit (the caller keeps the raw value in `extra`).
        fn fits<T: ::serde::de::DeserializeOwned>(raw: &::serde_json::Value) -> ::std::option::Option<T> {
            T::deserialize(raw).ok()
        }
    };
    let block: syn::File = syn::parse2(quote!(#helper #(#impls)*))
        .map_err(|e| format!("lenient responses: the template is not valid Rust: {e}"))?;
    items.extend(block.items);
    Ok(())
}

struct FieldPlan {
    name: syn::Ident,
    wire: String,
    ty: Type,
    optional: bool,
    defaulted: bool,
}

fn is_option(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

fn deserialize_impl(
    ident: &syn::Ident,
    extra: &syn::Ident,
    fields: &[FieldPlan],
) -> proc_macro2::TokenStream {
    let slots: Vec<syn::Ident> = (0..fields.len()).map(|i| format_ident!("field_{i}")).collect();
    let expecting = format!("struct {ident}");
    let declare = fields.iter().zip(&slots).map(|(f, slot)| {
        let ty = &f.ty;
        quote!(let mut #slot: ::std::option::Option<#ty> = ::std::option::Option::None;)
    });
    let arms = fields.iter().zip(&slots).map(|(f, slot)| {
        let (wire, ty) = (&f.wire, &f.ty);
        if f.optional {
            quote! {
                #wire => {
                    let raw: ::serde_json::Value = map.next_value()?;
                    match fits::<#ty>(&raw) {
                        ::std::option::Option::Some(value) => #slot = ::std::option::Option::Some(value),
                        ::std::option::Option::None => {
                            #extra.insert(key, raw);
                        }
                    }
                }
            }
        } else {
            quote!(#wire => #slot = ::std::option::Option::Some(map.next_value()?),)
        }
    });
    let build = fields.iter().zip(&slots).map(|(f, slot)| {
        let (name, wire) = (&f.name, &f.wire);
        if f.optional || f.defaulted {
            quote!(#name: #slot.unwrap_or_default(),)
        } else {
            quote!(#name: #slot.ok_or_else(|| <A::Error as ::serde::de::Error>::missing_field(#wire))?,)
        }
    });
    quote! {
        /// Decodes leniently: an optional field whose value does not fit its
        /// type reads as `None` and its raw value is kept in `extra`.
        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: ::serde::Deserializer<'de>,
            {
                struct Visitor;
                impl<'de> ::serde::de::Visitor<'de> for Visitor {
                    type Value = #ident;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(#expecting)
                    }
                    fn visit_map<A>(self, mut map: A) -> ::std::result::Result<#ident, A::Error>
                    where
                        A: ::serde::de::MapAccess<'de>,
                    {
                        let mut #extra = ::serde_json::Map::new();
                        #(#declare)*
                        while let ::std::option::Option::Some(key) = map.next_key::<::std::string::String>()? {
                            match key.as_str() {
                                #(#arms)*
                                _ => {
                                    let raw: ::serde_json::Value = map.next_value()?;
                                    #extra.insert(key, raw);
                                }
                            }
                        }
                        ::std::result::Result::Ok(#ident {
                            #(#build)*
                            #extra,
                        })
                    }
                }
                deserializer.deserialize_map(Visitor)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn an_attribute_it_would_drop_fails_loudly() {
        let mut file: syn::File = parse_quote! {
            pub mod types {
                #[derive(::serde::Deserialize)]
                pub struct Call {
                    #[serde(rename = "callId", deserialize_with = "x")]
                    pub call_id: Option<String>,
                    #[serde(flatten)]
                    pub extra: ::serde_json::Map<String, ::serde_json::Value>,
                }
            }
        };
        let err = make_responses_lenient(&mut file).unwrap_err();
        assert!(
            err.contains("`call_id` of `Call` has `#[serde(deserialize_with)]`"),
            "{err}"
        );
    }

    /// typify marks a required, nullable field `deserialize_with =
    /// "::std::option::Option::deserialize"` (GitHub's `actor.gravatar_id`):
    /// decoded as a required field (present, strict: null is `None`), not
    /// refused and not relaxed into reading as absent.
    #[test]
    fn a_required_nullable_field_is_decoded_as_required() {
        let mut file: syn::File = parse_quote! {
            pub mod types {
                #[derive(::serde::Deserialize)]
                pub struct Actor {
                    #[serde(deserialize_with = "::std::option::Option::deserialize")]
                    pub gravatar_id: Option<String>,
                    #[serde(default, skip_serializing_if = "Option::is_none")]
                    pub login: Option<String>,
                    #[serde(flatten)]
                    pub extra: ::serde_json::Map<String, ::serde_json::Value>,
                }
            }
        };
        make_responses_lenient(&mut file).unwrap();
        let text = quote!(#file).to_string();
        // Strict and required: its own value, and a missing one is an error.
        assert!(
            text.contains(
                "\"gravatar_id\" => field_0 = :: std :: option :: Option :: Some (map . next_value () ?)"
            ),
            "{text}"
        );
        assert!(text.contains("missing_field (\"gravatar_id\")"), "{text}");
        // The optional field is still lenient.
        assert!(text.contains("fits :: < Option < String > >"), "{text}");
        // Another `deserialize_with` is still refused.
        let mut other: syn::File = parse_quote! {
            pub mod types {
                #[derive(::serde::Deserialize)]
                pub struct Actor {
                    #[serde(deserialize_with = "my::own")]
                    pub gravatar_id: Option<String>,
                    #[serde(flatten)]
                    pub extra: ::serde_json::Map<String, ::serde_json::Value>,
                }
            }
        };
        assert!(make_responses_lenient(&mut other).is_err());
    }

    #[test]
    fn a_struct_that_keeps_unknown_fields_loses_its_derived_deserialize() {
        let mut file: syn::File = parse_quote! {
            pub mod types {
                #[derive(::serde::Deserialize, Clone)]
                pub struct Call {
                    #[serde(rename = "callId")]
                    pub call_id: Option<String>,
                    #[serde(flatten)]
                    pub extra: ::serde_json::Map<String, ::serde_json::Value>,
                }
                #[derive(::serde::Deserialize)]
                pub struct Request { pub to: String }
            }
        };
        make_responses_lenient(&mut file).unwrap();
        let text = quote!(#file).to_string();
        assert!(text.contains("# [derive (Clone)] pub struct Call"), "{text}");
        assert!(
            text.contains("# [derive (:: serde :: Deserialize)] pub struct Request"),
            "{text}"
        );
        assert!(
            text.contains("impl < 'de > :: serde :: Deserialize < 'de > for Call"),
            "{text}"
        );
    }
}
