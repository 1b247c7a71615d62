//! Operations the local server has behaviour of its own for, keyed by
//! method and path template (not by name: a vendor release may rename an
//! operation, never move it). Every other operation of the spec is answered
//! as the spec documents it ([`super::synthesize`]). A behaviour sees the
//! matched route (its parameters) and the checked body, and the server's
//! state; the spec decides its statuses.

use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::routes::Route;
use super::state::ServerState;
use super::synthesize::success_status;
use sigmamind::types::{Agent, Call, CallStatus, CallType};

/// A request that passed the checks, as a behaviour sees it.
pub(crate) struct Incoming<'r, 'a> {
    /// The operation it matched, with its path parameters.
    pub route: &'r Route<'a>,
    /// The body, checked against the operation's schema (`null` without one).
    pub body: &'r Value,
}

/// A behaviour's refusal: the status and the message of the error body the
/// spec documents for it.
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

/// What a behaviour answers: a success status and body, or a refusal.
pub(crate) type Reply = Result<(StatusCode, Value), Refusal>;

/// One operation's behaviour.
pub(crate) struct Behaviour {
    /// The method and path template it answers (`POST`, `/v1/calls`).
    pub method: Method,
    pub template: &'static str,
    /// The answer.
    pub answer: fn(&ServerState, &Incoming<'_, '_>) -> Reply,
    /// The field types the vendor's other pages show for this operation's
    /// success body ([`MockOptions::mistyped_fields`](super::MockOptions::mistyped_fields)).
    pub mistype: fn(&mut Value),
}

/// Every behaviour. An operation the spec does not have is never reached.
pub(crate) static BEHAVIOURS: [Behaviour; 2] = [
    Behaviour {
        method: Method::POST,
        template: "/v1/calls",
        answer: create_call,
        mistype: mistype_call,
    },
    // Not in today's spec; a vendor release that documents it gets it.
    Behaviour {
        method: Method::GET,
        template: "/v1/calls/{callId}",
        answer: get_call,
        mistype: mistype_call,
    },
];

/// The behaviour of `route`, if the local server has one.
pub(crate) fn find(route: &Route<'_>) -> Option<&'static Behaviour> {
    BEHAVIOURS
        .iter()
        .find(|b| b.method == route.method && b.template == route.template)
}

/// The route's documented success status (`201` for a created call).
fn documented_success(route: &Route<'_>) -> StatusCode {
    route
        .success()
        .map_or(StatusCode::OK, |(code, _)| success_status(code))
}

/// `POST /v1/calls`: a freshly scheduled call, kept for look-ups.
fn create_call(state: &ServerState, incoming: &Incoming<'_, '_>) -> Reply {
    let call_id = state.next_call_id();
    let call = serde_json::to_value(scheduled_call(call_id.clone(), incoming.body)).expect("Call serialises");
    state.placed(&call_id, incoming.body, call.clone());
    Ok((documented_success(incoming.route), call))
}

/// `GET /v1/calls/{callId}`: the call `POST /v1/calls` created, or `404`.
fn get_call(state: &ServerState, incoming: &Incoming<'_, '_>) -> Reply {
    let id = incoming.route.param("callId").unwrap_or_default();
    match state.call(id) {
        Some(call) => Ok((documented_success(incoming.route), call)),
        None => Err(Refusal {
            status: StatusCode::NOT_FOUND,
            message: format!("no call `{id}`"),
        }),
    }
}

/// A freshly scheduled call, as the API describes one.
fn scheduled_call(id: String, request: &Value) -> Call {
    // Millisecond precision, like the vendor's timestamps.
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3);
    let agent = request.get("agentId").and_then(Value::as_str).map(|id| {
        Agent::try_from(Agent::builder().agent_id(id.to_owned())).expect("an agent id alone is an Agent")
    });
    let call = Call::builder()
        .call_id(id)
        .call_type(CallType::Outbound)
        .status(CallStatus::Scheduled)
        .created_at(now)
        .updated_at(now)
        .dynamic_variables(
            request
                .get("dynamicVariables")
                .and_then(Value::as_object)
                .cloned(),
        )
        .agent(agent);
    Call::try_from(call).expect("every field of a Call is optional")
}

/// A call as the vendor's other pages write one: `phoneNumber` as the
/// string `"Object"` (earlier pages), the campaign's caller number as a bare
/// number (List Phone Calls), `duration` as a string.
fn mistype_call(call: &mut Value) {
    let Value::Object(call) = call else { return };
    call.insert("phoneNumber".into(), json!("Object"));
    call.insert(
        "campaign".into(),
        json!({"phoneNumber": {"sipPhoneNumber": 14155552671u64}}),
    );
    call.insert("duration".into(), json!("120"));
}
