//! `impl JsonSchema` templates for the types the generator writes itself
//! (open enums, constrained strings), whose derived schema would say less
//! than the spec does.

use proc_macro2::TokenStream;
use quote::quote;

/// `impl JsonSchema` for a string type with a description and one more
/// `SchemaObject` field (`fields`: its enum values, or its string rules).
pub fn string_schema(ident: &syn::Ident, name: &str, description: &str, fields: TokenStream) -> TokenStream {
    quote! {
        impl ::schemars::JsonSchema for #ident {
            fn schema_name() -> ::std::string::String {
                #name.to_owned()
            }

            fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                ::schemars::schema::SchemaObject {
                    metadata: Some(Box::new(::schemars::schema::Metadata {
                        description: Some(#description.to_owned()),
                        ..Default::default()
                    })),
                    instance_type: Some(::schemars::schema::InstanceType::String.into()),
                    #fields
                    ..Default::default()
                }
                .into()
            }
        }
    }
}
