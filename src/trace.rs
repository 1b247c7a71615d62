//! Tracing, in one place (feature `tracing`): one span per HTTP attempt,
//! `sigmamind.request`, with the operation id, method, attempt number,
//! status and latency, and one event per drift finding; never the key or
//! the body. It reads the crate's types; nothing but the transport calls it. Without the feature every
//! function here compiles to nothing, so the request path has no `cfg`s.

use std::future::Future;

/// The span of one HTTP attempt.
pub(crate) struct AttemptSpan {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    #[cfg(feature = "tracing")]
    started: std::time::Instant,
}

impl AttemptSpan {
    /// Opens the span of attempt number `attempt` of `operation_id`.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn start(operation_id: &'static str, method: &reqwest::Method, attempt: u32) -> Self {
        Self {
            #[cfg(feature = "tracing")]
            span: tracing::info_span!(
                "sigmamind.request",
                operation_id,
                method = %method,
                attempt,
                status = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
            ),
            #[cfg(feature = "tracing")]
            started: std::time::Instant::now(),
        }
    }

    /// Runs the attempt inside the span. Not an `async fn`: that would
    /// hold the attempt's future twice (as its argument and as what it
    /// awaits), and the request path moves every byte of it.
    pub(crate) fn instrument<F: Future>(&self, attempt: F) -> impl Future<Output = F::Output> {
        #[cfg(feature = "tracing")]
        {
            tracing::Instrument::instrument(attempt, self.span.clone())
        }
        #[cfg(not(feature = "tracing"))]
        {
            attempt
        }
    }

    /// Records how the attempt ended: the status, if one arrived, and the latency.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn finish(&self, status: Option<reqwest::StatusCode>) {
        #[cfg(feature = "tracing")]
        {
            if let Some(status) = status {
                self.span.record("status", status.as_u16());
            }
            self.span
                .record("latency_ms", self.started.elapsed().as_secs_f64() * 1000.0);
        }
    }
}

/// One thing a response carried that the spec does not know: an event on
/// target `sigmamind::drift` with the operation, the JSON path and the
/// unknown enum value or field name (and the field's JSON type), never any
/// other value of the response.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn drift(operation: &'static str, finding: &crate::drift::Finding) {
    #[cfg(feature = "tracing")]
    match finding.kind {
        crate::drift::DriftKind::EnumValue => tracing::warn!(
            target: "sigmamind::drift",
            operation,
            path = %finding.path,
            enum_value = %finding.value,
            "a response carried an enum value the spec does not list"
        ),
        crate::drift::DriftKind::Type => tracing::warn!(
            target: "sigmamind::drift",
            operation,
            path = %finding.path,
            field = %finding.value,
            json_type = finding.json_type.unwrap_or("?"),
            "a response carried a field whose value is not of its documented type (read as absent, kept raw)"
        ),
        crate::drift::DriftKind::Status => tracing::warn!(
            target: "sigmamind::drift",
            operation,
            status = %finding.value,
            "a response came with a success status the spec does not list (decoded as its success)"
        ),
        crate::drift::DriftKind::Field => tracing::warn!(
            target: "sigmamind::drift",
            operation,
            path = %finding.path,
            field = %finding.value,
            json_type = finding.json_type.unwrap_or("?"),
            "a response carried a field the spec does not describe"
        ),
    }
}
