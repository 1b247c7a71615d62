//! Rust SDK for the [SigmaMind](https://sigmamind.ai) voice-AI telephony API.
//!
//! The client and types are generated at build time from the vendor's OpenAPI
//! spec (`openapi/sigmamind.yaml`) with [progenitor]; this crate adds the
//! production layer around them: configuration, auth, one error type, retries
//! that never dial twice, and forward-compatible response types.
//!
//! [progenitor]: https://github.com/oxidecomputer/progenitor
//!
//! # Placing a call
//!
//! ```no_run
//! use sigmamind::types::{AgentId, CallStatus, CreateCallRequest};
//!
//! # async fn run() -> Result<(), sigmamind::Error> {
//! // Reads SIGMAMIND_API_KEY (and SIGMAMIND_BASE_URL, if set).
//! let client = sigmamind::Client::from_env()?;
//!
//! let call = client
//!     .create_call()
//!     .body(
//!         CreateCallRequest::builder()
//!             .from_phone_number("+14155552671")
//!             .to_phone_number("+14155552672")
//!             .agent_id("D5D0p7TUs66TTAEAx".parse::<AgentId>()?)
//!             .dynamic_variables(serde_json::Map::from_iter([
//!                 ("customer_name".to_owned(), "Michael".into()),
//!             ])),
//!     )
//!     .send()
//!     .await?
//!     .into_inner();
//!
//! match call.status {
//!     Some(CallStatus::Scheduled) => println!("call {:?} is queued", call.call_id),
//!     Some(other) => println!("call is {other}"), // includes values added later
//!     None => {}
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//! - [`types`] and [`builder`]: generated from the spec (never edited by hand).
//! - [`Client`]: generated; configured through [`Client::builder`].
//! - [`Error`]: every failure, from a bad phone number to an undecodable body.
//! - `mock` (feature `mock`): a local SigmaMind API for tests and demos.
#![warn(missing_docs)]

/// The progenitor output for `openapi/sigmamind.yaml`, written by `build.rs`.
#[allow(missing_docs, clippy::all, clippy::pedantic, unused_qualifications)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/sigmamind.rs"));
}

pub mod client;
pub mod error;
#[cfg(feature = "mock")]
pub mod mock;
pub mod retry;
mod transport;

pub use client::ClientBuilder;
pub use error::Error;
pub use generated::{builder, prelude, types, Client, ClientInfo, ResponseValue, DEFAULT_BASE_URL};
pub use retry::RetryPolicy;

/// The spec the crate was generated from, as JSON (for validators and the mock).
pub const SPEC_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/sigmamind.json"));
