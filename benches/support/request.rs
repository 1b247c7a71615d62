//! The request both sides of the client benches send: the SDK's and plain
//! reqwest's must be the same JSON for their costs to compare.

use sigmamind::types::CreateCallRequest;

/// A call with two dynamic variables, as the vendor's example has.
pub fn request() -> CreateCallRequest {
    CreateCallRequest::try_from(
        CreateCallRequest::builder()
            .from_phone_number("+14155552671")
            .to_phone_number("+14155552672")
            .dynamic_variables(serde_json::Map::from_iter([
                ("customer_name".to_owned(), "Michael".into()),
                ("account_id".to_owned(), "ACC-001".into()),
            ])),
    )
    .unwrap()
}
