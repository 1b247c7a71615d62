//! How the local server answers one request that has been read completely,
//! in steps:
//!
//! 1. **route**: the operation at the method and path (`404`; `405` with
//!    `Allow`; `OPTIONS` answered with `Allow`);
//! 2. **faults** that replace everything ([`Fault::before_checks`]:
//!    `429`, an injected status, a dropped connection);
//! 3. **key**: `401` without the right `X-API-Key`;
//! 4. **path parameters**, checked against their schemas (`404`: a path that
//!    cannot name a resource names none);
//! 5. **body**: `415` for another media type, `400` for bad JSON, `422`
//!    with each broken rule;
//! 6. **processing**: the operation's behaviour, or the spec's own answer
//!    (unless a fault answers instead); then the standing variations
//!    (another success status, mistyped fields) and the faults that alter a
//!    processed answer ([`Fault::after_processing`]).
//!
//! Every error body is the one the spec documents for its status ([`super::errors`]).

use http::StatusCode;
use serde_json::Value;

use super::answer::Answer;
use super::behaviours::{self, Incoming};
use super::errors::{self, Problem};
use super::faults::Fault;
use super::routes::{Route, RouteMiss};
use super::state::{RecordedRequest, ServerState};
use super::synthesize::documented_answer;
use super::validate::{validate_in, validate_parameter, Violation};

impl ServerState {
    /// Answers `request` (see the [module docs](self)); `fault` is the one
    /// this request drew.
    pub(crate) fn respond(&self, request: &RecordedRequest, fault: Option<Fault>) -> Answer {
        let spec = &*self.spec;
        let path = request.path.split('?').next().unwrap_or(&request.path);
        let route = match Route::find(spec, &request.method, &request.path) {
            Ok(route) => route,
            Err(miss) => return self.miss(miss, request, path),
        };
        let error = |status: StatusCode, message: &str, violations: &[Violation]| {
            let problem = Problem {
                status,
                message,
                violations,
                path,
            };
            Answer::json(status, errors::body(spec, Some(&route), &problem))
        };
        if let Some(answer) = fault.as_ref().and_then(|f| f.before_checks(spec, &route, path)) {
            return answer;
        }
        if request.header(sigmamind::client::API_KEY_HEADER) != Some(self.api_key.as_str()) {
            return error(
                StatusCode::UNAUTHORIZED,
                "missing or invalid X-API-Key header",
                &[],
            );
        }
        let broken: Vec<Violation> = route
            .path_parameters(spec)
            .into_iter()
            .filter_map(|(parameter, raw)| validate_parameter(spec, parameter, raw).err())
            .flatten()
            .collect();
        if !broken.is_empty() {
            let message = joined(&broken);
            return error(StatusCode::NOT_FOUND, &message, &broken);
        }
        let body = match checked_body(spec, &route, request) {
            Ok(body) => body,
            Err((status, message, violations)) => return error(status, &message, &violations),
        };
        let behaviour = behaviours::find(&route);
        let processed = match fault.as_ref().and_then(Fault::instead_of_processing) {
            Some(answer) => Ok(answer),
            None => match behaviour {
                Some(behaviour) => (behaviour.answer)(
                    self,
                    &Incoming {
                        route: &route,
                        body: &body,
                    },
                ),
                None => Ok(documented_answer(spec, &route)),
            },
        };
        let (mut status, mut answer) = match processed {
            Ok(answer) => answer,
            Err(refusal) => return error(refusal.status, &refusal.message, &[]),
        };
        if status.is_success() {
            status = self.success_status.unwrap_or(status);
            if let (true, Some(behaviour)) = (self.mistyped_fields, behaviour) {
                (behaviour.mistype)(&mut answer);
            }
        }
        match fault {
            Some(fault) => fault.after_processing(spec, &route, status, answer),
            None => Answer::json(status, answer),
        }
    }

    /// The answer to a request that matched no operation.
    fn miss(&self, miss: RouteMiss, request: &RecordedRequest, path: &str) -> Answer {
        let problem = |status, message: &str| {
            errors::body(
                &self.spec,
                None,
                &Problem {
                    status,
                    message,
                    violations: &[],
                    path,
                },
            )
        };
        match miss {
            RouteMiss::NoPath => {
                let message = format!("no operation {} {} in the spec", request.method, path);
                Answer::json(StatusCode::NOT_FOUND, problem(StatusCode::NOT_FOUND, &message))
            }
            RouteMiss::Options { allow } => Answer::Empty {
                status: StatusCode::NO_CONTENT,
                headers: vec![("allow", allow)],
            },
            RouteMiss::Method { allow } => {
                let message = format!("{} is not allowed here; allowed: {allow}", request.method);
                Answer::Json {
                    status: StatusCode::METHOD_NOT_ALLOWED,
                    body: problem(StatusCode::METHOD_NOT_ALLOWED, &message),
                    headers: vec![("allow", allow)],
                }
            }
        }
    }

    /// The error answer for a request that could not be read (`408`,
    /// `413`), for the operation at its path if there is one.
    pub(crate) fn unreadable(&self, request: &RecordedRequest, status: StatusCode, message: &str) -> Answer {
        let path = request.path.split('?').next().unwrap_or(&request.path);
        let route = Route::find(&self.spec, &request.method, &request.path).ok();
        let problem = Problem {
            status,
            message,
            violations: &[],
            path,
        };
        Answer::json(status, errors::body(&self.spec, route.as_ref(), &problem))
    }
}

fn joined(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The request body as JSON, checked against the operation's schema
/// (`Value::Null` for an operation that takes none), or the status,
/// message and broken rules of its refusal.
fn checked_body(
    spec: &Value,
    route: &Route<'_>,
    request: &RecordedRequest,
) -> Result<Value, (StatusCode, String, Vec<Violation>)> {
    let Some(schema) = route.body_schema() else {
        return Ok(Value::Null);
    };
    let content_type = request.header("content-type").unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != "application/json" && !(media.starts_with("application/") && media.ends_with("+json")) {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the body must be application/json, not `{content_type}`"),
            vec![],
        ));
    }
    let json: Value = serde_json::from_slice(&request.body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
            vec![],
        )
    })?;
    validate_in(spec, schema, &json)
        .map_err(|violations| (StatusCode::UNPROCESSABLE_ENTITY, joined(&violations), violations))?;
    Ok(json)
}
