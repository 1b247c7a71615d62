//! Open enums: the known values as variants, plus `Unknown` holding whatever a
//! newer server sent, serialised back unchanged. `Unknown` wraps
//! `UnknownValue`, which only this crate can construct, so user code cannot
//! put an undefined value into a request by accident.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::json_schema::string_schema;
use crate::transform::OpenEnum;

/// Rust variant name for a wire value, as typify names a closed enum's
/// (so open and closed enums name a value alike): `+1` and `-1` are
/// `plus1` and `minus1`; otherwise what is not an identifier character
/// separates words, in upper camel case, with an `X` before what cannot
/// start an identifier (`2fa` is `X2fa`, `*` is `X`); `self` is `Self_`.
/// (Held to typify's own output by a test.)
pub fn variant_name(value: &str) -> String {
    let name = match value {
        "+1" => "plus1".to_owned(),
        "-1" => "minus1".to_owned(),
        _ => value
            .replace('\'', "")
            .replace(|c: char| !unicode_ident::is_xid_continue(c), "-")
            .to_upper_camel_case(),
    };
    let name = match name.chars().next() {
        Some(c) if unicode_ident::is_xid_start(c) => name,
        _ => format!("X{name}"),
    };
    match name.as_str() {
        "Self" => "Self_".to_owned(),
        _ => name,
    }
}

/// The variant names of an enum's values, as typify names them: each by
/// [`variant_name`]; when two collide, each again with every character
/// that is `_` or no identifier character written `X`. Values that still
/// collide are an error in typify's words (`Failed to make unique variant
/// names for [a,b]`), which the change report reads.
pub fn variant_names(values: &[String]) -> Result<Vec<String>, String> {
    let unique =
        |names: &[String]| names.iter().collect::<std::collections::BTreeSet<_>>().len() == names.len();
    let names: Vec<String> = values.iter().map(|v| variant_name(v)).collect();
    if unique(&names) {
        return Ok(names);
    }
    let names: Vec<String> = values
        .iter()
        .map(|v| variant_name(&v.replace(|c: char| c == '_' || !unicode_ident::is_xid_continue(c), "X")))
        .collect();
    if unique(&names) {
        return Ok(names);
    }
    let colliding: Vec<&str> = values
        .iter()
        .zip(&names)
        .filter(|(_, name)| names.iter().filter(|n| n == name).count() > 1)
        .map(|(value, _)| value.as_str())
        .collect();
    Err(format!(
        "Failed to make unique variant names for [{}]",
        colliding.join(",")
    ))
}

/// The shared holder of unrecognised values.
pub fn unknown_value() -> TokenStream {
    quote! {
        /// A value the spec this crate was generated from does not list, as the
        /// server sent it. Only this crate creates these, so a request can never
        /// carry an undefined enum value by accident.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct UnknownValue(::std::string::String);

        impl UnknownValue {
            /// The raw value as received.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for UnknownValue {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    }
}

/// Error from parsing a string that is not one of an enum's known values.
pub fn parse_error() -> TokenStream {
    quote! {
        /// A string that is not one of the values an enum's schema lists.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct UnknownVariantError {
            /// The enum's type name.
            pub type_name: &'static str,
            /// The rejected value.
            pub value: ::std::string::String,
            /// The values the spec allows.
            pub expected: &'static [&'static str],
        }

        impl ::std::fmt::Display for UnknownVariantError {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(
                    f,
                    "`{}` is not a known {} (expected one of: {})",
                    self.value,
                    self.type_name,
                    self.expected.join(", ")
                )
            }
        }

        impl ::std::error::Error for UnknownVariantError {}
    }
}

/// The enum, its conversions, serde and schemars impls. For values
/// [`variant_names`] can name apart (the open-enums rewrite checks).
pub fn generate(e: &OpenEnum) -> TokenStream {
    let mut tokens = enum_type(e);
    tokens.extend(impls(e));
    tokens
}

fn ident_and_variants(e: &OpenEnum) -> (syn::Ident, Vec<syn::Ident>) {
    // The open-enums rewrite refuses values `variant_names` cannot name.
    let names =
        variant_names(&e.values).unwrap_or_else(|_| e.values.iter().map(|v| variant_name(v)).collect());
    let variants = names.iter().map(|name| format_ident!("{name}")).collect();
    (format_ident!("{}", e.name), variants)
}

/// The enum alone, without its impls (what the surface listing reads).
pub(crate) fn enum_type(e: &OpenEnum) -> TokenStream {
    let (ident, variants) = ident_and_variants(e);
    let doc = e.description.clone().unwrap_or_default();
    let variant_docs = e.values.iter().map(|v| format!("`{v}`"));
    quote! {
        #[doc = #doc]
        ///
        /// Open for forward compatibility: a value added to the API after this
        /// crate was generated parses as `Unknown` and serialises back unchanged.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #ident {
            #(
                #[doc = #variant_docs]
                #variants,
            )*
            /// A value this version of the crate does not know, kept as received.
            Unknown(UnknownValue),
        }
    }
}

/// The enum's conversions, serde and schemars impls.
fn impls(e: &OpenEnum) -> TokenStream {
    let (ident, variants) = ident_and_variants(e);
    let type_name = &e.name;
    let doc = e.description.clone().unwrap_or_default();
    let values = &e.values;
    let schema = string_schema(
        &ident,
        type_name,
        &doc,
        quote!(enum_values: Some(vec![#( ::serde_json::Value::from(#values) ),*]),),
    );
    quote! {
        impl #ident {
            /// The values the spec lists, in its order.
            pub const KNOWN_VALUES: &'static [&'static str] = &[#(#values),*];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value the spec lists.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }

            fn from_wire(value: ::std::string::String) -> Self {
                match value.as_str() {
                    #( #values => Self::#variants, )*
                    _ => Self::Unknown(UnknownValue(value)),
                }
            }
        }

        impl ::std::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Parses one of the values the spec lists; anything else is an error,
        /// so text from users or config cannot become an undefined value.
        impl ::std::str::FromStr for #ident {
            type Err = UnknownVariantError;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                match value {
                    #( #values => Ok(Self::#variants), )*
                    _ => Err(UnknownVariantError {
                        type_name: #type_name,
                        value: value.to_owned(),
                        expected: Self::KNOWN_VALUES,
                    }),
                }
            }
        }

        impl ::std::convert::TryFrom<&str> for #ident {
            type Error = UnknownVariantError;
            fn try_from(value: &str) -> ::std::result::Result<Self, UnknownVariantError> {
                value.parse()
            }
        }

        impl ::serde::Serialize for #ident {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// Known values are matched without allocating; others are kept.
        impl<'de> ::serde::Deserialize<'de> for #ident {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct Visitor;
                impl<'de> ::serde::de::Visitor<'de> for Visitor {
                    type Value = #ident;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: ::serde::de::Error>(self, value: &str) -> ::std::result::Result<#ident, E> {
                        Ok(match value {
                            #( #values => #ident::#variants, )*
                            _ => #ident::Unknown(UnknownValue(value.to_owned())),
                        })
                    }
                    fn visit_string<E: ::serde::de::Error>(self, value: ::std::string::String) -> ::std::result::Result<#ident, E> {
                        Ok(#ident::from_wire(value))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        #schema
    }
}
