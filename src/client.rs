//! Configuring the generated [`Client`]: API key, base URL, timeouts,
//! retries, user agent; the transport applies them to every request.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, USER_AGENT};

use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::{Client, ClientInfo};

/// Environment variable holding the API key.
pub const API_KEY_ENV: &str = "SIGMAMIND_API_KEY";
/// Environment variable that overrides the base URL.
pub const BASE_URL_ENV: &str = "SIGMAMIND_BASE_URL";
/// The header the API reads the key from (the spec's `ApiKeyAuth` scheme).
pub const API_KEY_HEADER: &str = "x-api-key";
/// [`API_KEY_HEADER`] as a header name, made once (inserting by `&str`
/// checks the name again for every request).
const API_KEY_HEADER_NAME: HeaderName = HeaderName::from_static(API_KEY_HEADER);
/// `User-Agent` sent with every request.
pub const SDK_USER_AGENT: &str = concat!("sigmamind-rust/", env!("CARGO_PKG_VERSION"));

/// An API key. Never shown: `Debug` prints `[redacted]`, and the header
/// value is marked sensitive (kept out of HTTP/2 header tables and debug
/// output).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(HeaderValue);

impl ApiKey {
    /// Wraps a key. Surrounding white space is trimmed; an empty key, or one
    /// with a character that is not printable ASCII (`!` to `~`: no spaces,
    /// control characters or anything beyond ASCII, which an HTTP header
    /// would carry as raw bytes), is refused. The error never echoes the key.
    pub fn new(key: impl Into<String>) -> Result<Self, Error> {
        let key = key.into();
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::config("the API key is empty"));
        }
        if let Some((at, _)) = key.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
            let position = key[..at].chars().count() + 1;
            return Err(Error::config(format!(
                "the API key's character {position} is not printable ASCII (`!` to `~`): \
                 a key is sent as an HTTP header; check it was copied whole and alone"
            )));
        }
        let mut value = HeaderValue::from_str(key).map_err(|_| {
            Error::config("the API key contains characters that cannot be sent in an HTTP header")
        })?;
        value.set_sensitive(true);
        Ok(Self(value))
    }

    fn header_value(&self) -> HeaderValue {
        // A cheap clone: the bytes are shared.
        self.0.clone()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What the generated [`Client`] carries besides its `reqwest::Client`:
/// the key and the policies the transport applies to every request.
#[derive(Clone)]
pub struct ClientState {
    pub(crate) api_key: ApiKey,
    pub(crate) user_agent: HeaderValue,
    pub(crate) retry: RetryPolicy,
    /// The most of a response body read (see [`ClientBuilder::max_response_body`]).
    pub(crate) max_response_body: usize,
    /// Shared by every clone of the client (and `with_retry_policy`).
    pub(crate) drift: std::sync::Arc<crate::drift::Recorder>,
    /// How to wait before a resend (`None`: sleep the policy's delay).
    pub(crate) retry_wait: Option<std::sync::Arc<dyn crate::retry::RetryWait>>,
    /// URLs already parsed, shared by the client's clones.
    pub(crate) endpoints: std::sync::Arc<Endpoints>,
}

/// The URL of each operation whose path has no parameters, parsed: the
/// same text for every call of a client, parsed once instead of on every
/// call (about 6,500 instructions for a loopback address, more for a
/// domain name, which is checked and mapped to ASCII each time). At most
/// one entry per such operation.
#[derive(Default)]
pub(crate) struct Endpoints(std::sync::RwLock<Vec<Endpoint>>);

impl Endpoints {
    /// How many operations' URLs are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// One operation's URL, as text and parsed.
struct Endpoint {
    operation_id: &'static str,
    text: String,
    parsed: reqwest::Url,
}

impl ClientState {
    /// `url` parsed, for the operation `operation_id` whose URL has the same
    /// text on every call: the first call parses it, later calls with the
    /// same text clone what it parsed. Other text (a `Client` made by hand
    /// with this state and another base URL) is parsed, and kept instead.
    pub(crate) fn endpoint(
        &self,
        operation_id: &'static str,
        url: String,
    ) -> Result<reqwest::Url, url::ParseError> {
        use std::sync::PoisonError;
        let known = self.endpoints.0.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(endpoint) = known
            .iter()
            .find(|e| e.operation_id == operation_id && e.text == url)
        {
            return Ok(endpoint.parsed.clone());
        }
        drop(known);
        let parsed = reqwest::Url::parse(&url)?;
        let mut known = self.endpoints.0.write().unwrap_or_else(PoisonError::into_inner);
        let entry = Endpoint {
            operation_id,
            text: url,
            parsed: parsed.clone(),
        };
        match known.iter_mut().find(|e| e.operation_id == operation_id) {
            Some(old) => *old = entry,
            None => known.push(entry),
        }
        Ok(parsed)
    }

    /// Adds the key and the user agent to a request's headers.
    pub(crate) fn authorise(&self, headers: &mut reqwest::header::HeaderMap) {
        headers.insert(API_KEY_HEADER_NAME, self.api_key.header_value());
        headers.insert(USER_AGENT, self.user_agent.clone());
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field("api_key", &self.api_key)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("max_response_body", &self.max_response_body)
            .field("retry_wait", &self.retry_wait.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// The most of a response body the client reads by default: 4 MiB. A call
/// record, transcript included, is a few kilobytes to a few hundred (an
/// hour of conversation is about 60 KB of text); four megabytes leave room
/// for ten times the longest while bounding what a misbehaving server or
/// proxy can make the client hold.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 4 << 20;

/// Builds a [`Client`]; see [`Client::builder`].
///
/// # Retries
/// `create_call` places a phone call, so by default a failed attempt is sent
/// again only when the request provably was not processed: the connection
/// failed before anything was sent, or the server answered `429` (its
/// `Retry-After` is honoured, capped). Timeouts, lost connections and `5xx`
/// are returned to you, because the call may have been placed. Opt in with
/// [`retry_non_idempotent`](Self::retry_non_idempotent) (per client) or
/// [`Client::with_retry_policy`] (for some calls). Full table:
/// [`crate::retry`].
#[derive(Default)]
pub struct ClientBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    http_client: Option<reqwest::ClientBuilder>,
    retry: RetryPolicy,
    max_response_body: Option<usize>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url.as_deref().map(redact_userinfo))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("http_client", &self.http_client.is_some())
            .field("retry", &self.retry)
            .field("max_response_body", &self.max_response_body)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API key, sent as `X-API-Key`. Required.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The API's base URL; defaults to [`crate::DEFAULT_BASE_URL`] (the spec's
    /// server). Must be `https`, except for loopback addresses.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Limit on each attempt, from sending until the body has arrived
    /// (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Limit on establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The most of a response body the client reads, in bytes (default
    /// [`DEFAULT_MAX_RESPONSE_BODY`], 4 MiB; at least 1 KiB). Past it the rest
    /// is not read and the connection is dropped: a body that never ends
    /// costs this much memory, not all of it. A success cut off this way is
    /// still a success ([`Fate::Processed`](crate::fate::Fate::Processed)):
    /// the error is [`Error::Undecodable`], whose
    /// [`call_id`](Error::call_id) comes from the part read.
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = Some(bytes.max(1024));
        self
    }

    /// Retries after the first attempt (default 2; 0 disables).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// Also retry timeouts, lost connections and `5xx` on `create_call`.
    /// This can place a call twice; off by default.
    pub fn retry_non_idempotent(mut self, enabled: bool) -> Self {
        self.retry.retry_non_idempotent = enabled;
        self
    }

    /// Replaces the whole retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// A product token put before `sigmamind-rust/<version>` in `User-Agent`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Start from your own `reqwest::ClientBuilder` (proxies, extra TLS
    /// roots, pools, a TLS backend). The key, user agent, timeouts and
    /// retries still apply, and so does the one setting safety needs:
    /// **redirects are never followed** (the builder's redirect policy is
    /// replaced). A redirect could carry the API key to another host, or
    /// send a call's request again; a `3xx` comes back as
    /// [`crate::Error::Redirect`] naming its `Location`
    /// ([`Error::location`](crate::Error::location)), fate `Unknown`.
    ///
    /// A builder rather than a built `reqwest::Client`: a built client's
    /// redirect policy cannot be changed, nor read.
    ///
    /// ```no_run
    /// # fn run(pem: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    /// let client = sigmamind::Client::builder()
    ///     .api_key("sk_...")
    ///     .http_client(reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(pem)?))
    ///     .build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub fn http_client(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http_client = Some(builder);
        self
    }

    /// Checks the configuration and builds the client. Sends nothing.
    pub fn build(self) -> Result<Client, Error> {
        let api_key = match self.api_key {
            Some(key) => ApiKey::new(key)?,
            None => {
                return Err(Error::config(format!(
                    "no API key: call .api_key(..) or set {API_KEY_ENV}"
                )))
            }
        };
        let base_url = match self.base_url {
            Some(url) => url,
            None if crate::DEFAULT_BASE_URL.is_empty() => {
                return Err(Error::config(
                    "the spec names no server: call .base_url(..) or set SIGMAMIND_BASE_URL",
                ))
            }
            None => crate::DEFAULT_BASE_URL.to_owned(),
        };
        let base_url = check_base_url(&base_url)?;
        let user_agent = match &self.user_agent {
            Some(product) => format!("{product} {SDK_USER_AGENT}"),
            None => SDK_USER_AGENT.to_owned(),
        };
        let user_agent = HeaderValue::from_str(&user_agent)
            .map_err(|_| Error::config("the user agent is not a valid header value"))?;
        let http = self
            .http_client
            .unwrap_or_default()
            .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)))
            // The client's, not each request's: reqwest applies it to every
            // request (each attempt) alike, and a per-request timeout costs
            // an allocation per request (`Request::timeout_mut`).
            .timeout(self.timeout.unwrap_or(Duration::from_secs(30)))
            // Never: see `http_client`.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?;
        let state = ClientState {
            api_key,
            user_agent,
            retry: self.retry,
            max_response_body: self.max_response_body.unwrap_or(DEFAULT_MAX_RESPONSE_BODY),
            drift: Default::default(),
            retry_wait: None,
            endpoints: Default::default(),
        };
        Ok(Client::new_with_client(&base_url, http, state))
    }
}

/// `text` with whatever stands between `//` and the last `@` before the host
/// replaced: a URL's user information (`user:password@`), even in a URL
/// too broken to parse. Errors, logs and journals show URLs through this.
pub fn redact_userinfo(text: &str) -> std::borrow::Cow<'_, str> {
    let Some(start) = text.find("//").map(|at| at + 2) else {
        return text.into();
    };
    let authority_end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |at| start + at);
    match text[start..authority_end].rfind('@') {
        Some(at) => format!("{}[redacted]@{}", &text[..start], &text[start + at + 1..]).into(),
        None => text.into(),
    }
}

/// Accepts `https` URLs, and `http` only for loopback hosts (local servers).
/// A URL with user information (`https://user:password@host`) is refused:
/// the API authenticates with the key, and a password in a URL would be
/// copied wherever the URL goes (errors, logs, journals).
fn check_base_url(url: &str) -> Result<String, Error> {
    let shown = redact_userinfo(url);
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::config(format!("base URL `{shown}` is not a URL: {e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::config(format!(
            "base URL `{shown}` carries a user name or password: remove them; the API key \
             (.api_key or SIGMAMIND_API_KEY) is how the API authenticates"
        )));
    }
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        scheme => {
            return Err(Error::config(format!(
                "base URL `{shown}` uses {scheme}: only https is allowed, except for loopback addresses"
            )))
        }
    }
    Ok(url.trim_end_matches('/').to_owned())
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client from `SIGMAMIND_API_KEY` and, if set, `SIGMAMIND_BASE_URL`.
    pub fn from_env() -> Result<Client, Error> {
        let mut builder = Client::builder();
        if let Ok(key) = std::env::var(API_KEY_ENV) {
            builder = builder.api_key(key);
        }
        if let Ok(url) = std::env::var(BASE_URL_ENV) {
            builder = builder.base_url(url);
        }
        builder.build()
    }

    /// The same client (sharing its connection pool) with another retry
    /// policy, for the calls made through it:
    ///
    /// ```no_run
    /// # async fn run(client: sigmamind::Client, req: sigmamind::types::CreateCallRequest) -> Result<(), sigmamind::Error> {
    /// let eager = client.with_retry_policy(sigmamind::RetryPolicy {
    ///     retry_non_idempotent: true, // I accept that this may dial twice
    ///     ..Default::default()
    /// });
    /// eager.create_call().body(req).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Client {
        let mut state = self.inner().clone();
        state.retry = policy;
        Client::new_with_client(self.baseurl(), self.client().clone(), state)
    }

    /// A clone of this client that waits before each resend as `wait` says
    /// (see [`RetryWait`](crate::retry::RetryWait)): a dialler's shared
    /// pause, a stop that ends the wait. The policy still decides whether
    /// and after how long; `wait` decides how the time passes.
    pub fn with_retry_wait(&self, wait: std::sync::Arc<dyn crate::retry::RetryWait>) -> Client {
        let mut state = self.inner().clone();
        state.retry_wait = Some(wait);
        Client::new_with_client(self.baseurl(), self.client().clone(), state)
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner().retry
    }

    /// What responses have carried so far that the spec does not know:
    /// enum values and fields, per operation and JSON path, with counts
    /// (see [`crate::drift`]). Shared by the client's clones.
    pub fn drift(&self) -> crate::DriftSummary {
        self.inner().drift.summary()
    }
}
