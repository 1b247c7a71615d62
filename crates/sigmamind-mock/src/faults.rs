//! Faults: the ways a local server can be told to misbehave, and every
//! decision about them, in one place: which fault a request gets (the
//! queue, then the standing rate limit), how long it delays the answer,
//! and what it does to the answer, before the request is checked, instead
//! of processing it, or after processing it. Statuses and bodies come from
//! the matched operation's own spec (its documented success status, its
//! documented error bodies), never from one operation's constants.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Value};

use super::answer::Answer;
use super::errors::{self, Problem};
use super::options::RateLimit;
use super::routes::Route;
use super::spec::unwrap;

/// A way for the next request to go wrong (see
/// [`MockServer::push_fault`](super::MockServer::push_fault)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer `429 Too Many Requests` with this `Retry-After` value; the
    /// request is not processed.
    TooManyRequests {
        /// The header value: seconds, or an HTTP date.
        retry_after: String,
    },
    /// Answer with this status (a `500`, say) and the error body the spec
    /// documents for it; the request is not processed.
    Status(u16),
    /// Read the request, then close the connection without answering; the
    /// request is not processed.
    DropConnection,
    /// Process the request, then answer its success status with a body that
    /// is not JSON.
    MalformedBody,
    /// Process the request, then answer its success status with a
    /// `Content-Length` longer than the body sent, and close the connection.
    TruncatedBody,
    /// Process the request, then answer with values the spec does not list
    /// for each enum field of the success body (the documented first value
    /// with `_v2` appended) and a field no spec describes (`fieldFromANewerServer`),
    /// as a newer server would.
    UnknownEnumValues,
    /// Process the request normally after this delay.
    Delay(Duration),
    /// Check the request as usual, then answer with this status and JSON
    /// body instead of processing it (what a newer server, or any server,
    /// might send).
    Json(u16, Value),
}

/// The field [`Fault::UnknownEnumValues`] adds: a name no vendor documents,
/// so that it is unknown to any spec the local server serves.
const NEWER_FIELD: &str = "fieldFromANewerServer";

/// The faults waiting for requests, and the standing rate limit.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    queue: Mutex<VecDeque<Fault>>,
    rate_limit: Option<RateLimit>,
    /// Requests that asked for a fault, for the rate limit's turn.
    asked: AtomicU64,
}

impl Faults {
    pub(crate) fn new(rate_limit: Option<RateLimit>) -> Self {
        Self {
            rate_limit,
            ..Self::default()
        }
    }

    /// Queues a fault for the next request without one.
    pub(crate) fn push(&self, fault: Fault) {
        self.queue.lock().unwrap().push_back(fault);
    }

    /// The fault of the request being answered: a queued one, else the
    /// standing rate limit's `429` when it is this request's turn.
    pub(crate) fn next(&self) -> Option<Fault> {
        if let Some(fault) = self.queue.lock().unwrap().pop_front() {
            return Some(fault);
        }
        let limit = self.rate_limit.as_ref()?;
        let n = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        n.is_multiple_of(limit.every).then(|| Fault::TooManyRequests {
            retry_after: limit.retry_after.clone(),
        })
    }
}

impl Fault {
    /// How much later than usual the answer comes.
    pub(crate) fn delay(&self) -> Duration {
        match self {
            Fault::Delay(extra) => *extra,
            _ => Duration::ZERO,
        }
    }

    /// The answer that replaces everything, once the request has matched an
    /// operation: nothing is checked or processed.
    pub(crate) fn before_checks(&self, spec: &Value, route: &Route<'_>, path: &str) -> Option<Answer> {
        let error = |status: StatusCode, message: &str| {
            let problem = Problem {
                status,
                message,
                violations: &[],
                path,
            };
            errors::body(spec, Some(route), &problem)
        };
        match self {
            Fault::TooManyRequests { retry_after } => Some(Answer::Json {
                status: StatusCode::TOO_MANY_REQUESTS,
                headers: vec![("retry-after", retry_after.clone())],
                body: error(StatusCode::TOO_MANY_REQUESTS, "too many requests"),
            }),
            Fault::Status(code) => {
                let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Some(Answer::json(
                    status,
                    error(status, "failure injected by the local server"),
                ))
            }
            Fault::DropConnection => Some(Answer::Drop),
            _ => None,
        }
    }

    /// The answer given instead of processing a request that passed the checks.
    pub(crate) fn instead_of_processing(&self) -> Option<(StatusCode, Value)> {
        match self {
            Fault::Json(status, body) => Some((
                StatusCode::from_u16(*status).unwrap_or(StatusCode::OK),
                body.clone(),
            )),
            _ => None,
        }
    }

    /// What the fault does to the answer of a processed request.
    pub(crate) fn after_processing(
        &self,
        spec: &Value,
        route: &Route<'_>,
        status: StatusCode,
        mut body: Value,
    ) -> Answer {
        match self {
            Fault::MalformedBody => Answer::Raw {
                status,
                content_type: "text/html",
                body: Bytes::from_static(b"<html>502 Bad Gateway</html>"),
            },
            Fault::TruncatedBody => Answer::Truncated {
                status,
                body: Bytes::from(serde_json::to_vec(&body).expect("JSON serialises")),
            },
            Fault::UnknownEnumValues => {
                if let Some(schema) = route
                    .success()
                    .and_then(|(_, response)| response.pointer("/content/application~1json/schema"))
                {
                    unknown_enum_values(spec, schema, &mut body);
                }
                if let Value::Object(map) = &mut body {
                    map.insert(NEWER_FIELD.into(), json!({ "score": 0.9 }));
                }
                Answer::json(status, body)
            }
            _ => Answer::json(status, body),
        }
    }
}

/// Every string-enum property the schema documents (at the top and in the
/// objects the body holds) gets a value the spec does not list.
fn unknown_enum_values(spec: &Value, schema: &Value, body: &mut Value) {
    let schema = unwrap(spec, schema);
    let Value::Object(map) = body else { return };
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let property = unwrap(spec, property);
        let first = property
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|values| values.first())
            .and_then(Value::as_str);
        match (first, map.get_mut(name)) {
            (Some(first), _) => {
                map.insert(name.clone(), json!(format!("{first}_v2")));
            }
            (None, Some(inner @ Value::Object(_))) => unknown_enum_values(spec, property, inner),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    /// FIXTURE: an operation whose success documents `201` and an enum.
    fn spec() -> Value {
        json!({"paths": {"/v1/things": {"post": {"operationId": "make_thing", "responses": {
            "201": {"description": "made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}
        }}}}, "components": {"schemas": {
            "Thing": {"type": "object", "properties": {
                "state": {"$ref": "#/components/schemas/State"},
                "inner": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["a", "b"]}}},
                "name": {"type": "string"}
            }},
            "State": {"type": "string", "enum": ["on", "off"]}
        }}})
    }

    #[test]
    fn unknown_enum_values_follow_the_operations_own_schema() {
        let spec = spec();
        let route = Route::find(&spec, &Method::POST, "/v1/things").unwrap();
        let body = json!({"name": "n", "inner": {"kind": "a"}});
        let Answer::Json { status, body, .. } =
            Fault::UnknownEnumValues.after_processing(&spec, &route, StatusCode::CREATED, body)
        else {
            panic!("JSON")
        };
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            body,
            json!({"name": "n", "state": "on_v2", "inner": {"kind": "a_v2"}, "fieldFromANewerServer": {"score": 0.9}})
        );
    }

    #[test]
    fn a_cut_or_malformed_answer_keeps_the_operations_status() {
        let spec = spec();
        let route = Route::find(&spec, &Method::POST, "/v1/things").unwrap();
        for fault in [Fault::MalformedBody, Fault::TruncatedBody] {
            let status = match fault.after_processing(&spec, &route, StatusCode::ACCEPTED, json!({})) {
                Answer::Raw { status, .. } | Answer::Truncated { status, .. } => status,
                _ => panic!("{fault:?}"),
            };
            assert_eq!(status, StatusCode::ACCEPTED, "{fault:?}");
        }
    }

    #[test]
    fn the_rate_limit_counts_requests_after_the_queue() {
        let faults = Faults::new(Some(RateLimit {
            every: 2,
            retry_after: "1".into(),
        }));
        faults.push(Fault::Status(500));
        assert_eq!(faults.next(), Some(Fault::Status(500)));
        assert_eq!(faults.next(), None);
        assert!(matches!(faults.next(), Some(Fault::TooManyRequests { .. })));
    }
}
