//! A dialer built on `sigmamind` the way a user's crate would be: requests
//! through the builders, matching on the open enums, our types embedded in
//! its own.

use serde::{Deserialize, Serialize};
use sigmamind::types::{AgentId, Call, CallStatus, CreateCallRequest, TerminationReason};

/// A campaign row, stored with the call the API returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CallRecord {
    /// Our customer id.
    pub customer: String,
    /// The call, exactly as received.
    pub call: Call,
    /// What we concluded.
    pub outcome: Outcome,
}

/// What a finished call means for the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Outcome {
    Pending,
    Reached,
    RetryLater,
    GiveUp,
    NeedsReview,
}

/// Builds the request for one customer; bad numbers never leave this function.
pub fn request(
    from: &str,
    to: &str,
    agent: &str,
    customer_name: &str,
) -> Result<CreateCallRequest, sigmamind::Error> {
    let builder = CreateCallRequest::builder()
        .from_phone_number(from)
        .to_phone_number(to)
        .agent_id(agent.parse::<AgentId>()?)
        .dynamic_variables(serde_json::Map::from_iter([(
            "customer_name".to_owned(),
            customer_name.into(),
        )]));
    // The builder's error names the field and the rule.
    Ok(CreateCallRequest::try_from(builder)?)
}

/// Decides what to do next. The enums are `#[non_exhaustive]` and open, so
/// a value added by the vendor later lands in the catch-all arms.
pub fn outcome(call: &Call) -> Outcome {
    match (&call.status, &call.termination_reason) {
        (Some(CallStatus::Scheduled | CallStatus::InProgress), _) => Outcome::Pending,
        (_, Some(TerminationReason::UserEndedCall | TerminationReason::AgentEndedCall)) => Outcome::Reached,
        (_, Some(TerminationReason::DialBusy | TerminationReason::DialNoAnswer)) => Outcome::RetryLater,
        (_, Some(TerminationReason::DialInvalidDestination)) => Outcome::GiveUp,
        (Some(CallStatus::Unknown(_)), _) | (_, Some(TerminationReason::Unknown(_))) => Outcome::NeedsReview,
        _ => Outcome::NeedsReview,
    }
}

/// Places the call and records it.
pub async fn dial(
    client: &sigmamind::Client,
    customer: &str,
    request: CreateCallRequest,
) -> Result<CallRecord, sigmamind::Error> {
    let call = client.create_call().body(request).send().await?.into_inner();
    Ok(CallRecord {
        customer: customer.to_owned(),
        outcome: outcome(&call),
        call,
    })
}

/// A call as our tests and fixtures make one. Generated structs are
/// `#[non_exhaustive]`, so a field the vendor adds breaks none of this: they
/// are built through their builders, never as struct literals, and matched
/// with `..`.
pub fn fixture_call(status: CallStatus) -> Result<Call, sigmamind::Error> {
    Ok(Call::try_from(
        Call::builder().call_id("call_fixture".to_owned()).status(status),
    )?)
}

/// The call's id, if it ended normally.
pub fn ended_call_id(call: &Call) -> Option<&str> {
    match call {
        Call {
            status: Some(CallStatus::Ended),
            call_id: Some(id),
            ..
        } => Some(id),
        _ => None,
    }
}
