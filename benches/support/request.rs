//! What both sides of the client benches do: the SDK's side and plain
//! reqwest's must do the same work for their costs to compare.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, ACCEPT, USER_AGENT};
use sigmamind::types::{Call, CreateCallRequest};

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

/// The plain side's client: reqwest's defaults and the SDK's default
/// timeout (30 s, for the whole exchange), as a careful client sets it.
pub fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// `create_call` with reqwest and serde alone, on [`plain_client`], as a
/// careful hand-written client does it: the request the SDK sends, byte for
/// byte on the wire (the same JSON and the same headers: key, `accept`,
/// `api-version`, `user-agent`), and the answer decoded into `types::Call`.
/// It takes the request by value and drops it, as the SDK's builder does:
/// a caller placing different calls builds a new one each time.
pub async fn plain_create_call(
    http: &reqwest::Client,
    url: &str,
    key: &HeaderValue,
    body: CreateCallRequest,
) -> Call {
    let response = http
        .post(url)
        .header(HeaderName::from_static("x-api-key"), key.clone())
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header(
            HeaderName::from_static("api-version"),
            HeaderValue::from_static("0.1.0"),
        )
        .header(
            USER_AGENT,
            HeaderValue::from_static(sigmamind::client::SDK_USER_AGENT),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    drop(body);
    assert_eq!(response.status().as_u16(), 201);
    response.json::<Call>().await.unwrap()
}
