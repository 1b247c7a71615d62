//! Proof that the generated types, the client's requests and the spec agree.
//! Every part walks the spec itself, so new examples, fields and rules are
//! covered without editing these tests (new *types* must join the registry,
//! and a test says so).

mod examples;
mod registry;
mod requests;
mod responses;
mod schema_agreement;
mod spec;
