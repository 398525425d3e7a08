//! What the gateway answers and what it reads from it: the module's
//! envelopes read with the engine's own types ([`Envelope`],
//! [`CheckAnswer`], [`ErrorReport`]), and the few answers the gateway writes
//! itself (a feature's failure mode, a refusal of its own demands) in the
//! same envelope.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use entitle_core::{
    CheckAnswer, CompactAnswer, Decision, Envelope, ErrorKind, Meta, MeterRecord, Op, Reason,
    Success, Timestamp, REASONS,
};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Serialize;

use super::generation::{Generation, Mode};
use crate::error::HostError;

/// What an answer says, as the gateway reads it.
#[derive(Debug, Clone)]
pub enum Answer<T> {
    /// The module answered; read with the engine's types (shared, so a
    /// cached answer is handed out without copying it).
    Module(Arc<Envelope<'static, T>>),
    /// The module (or the meter) failed and the feature's failure mode
    /// decided; nothing is recorded.
    FailureMode {
        /// Allow (`open`) or deny (`closed`).
        decision: Decision,
        /// The host error code of the failure.
        failure: &'static str,
    },
    /// The gateway refused a request of its own accord, with this code.
    Refused(&'static str),
    /// The module answered a compact check: the decision and the headers,
    /// with the JSON envelope the module wrote from it, or without one for
    /// answers that send no body (forward-auth).
    Compact(CompactAnswer),
}

/// An answer: the envelope sent back and what the gateway read from it.
/// `T` is the module's result: a [`CheckAnswer`] for checks; the gateway
/// reads no further into other answers (a `status`).
#[derive(Debug, Clone)]
pub struct Decided<T = CheckAnswer> {
    /// The envelope, as the module wrote it (or the gateway, on a failure).
    pub envelope: Arc<str>,
    /// What it says.
    pub answer: Answer<T>,
    /// The HTTP status a refusal of the gateway's own demands (a reused
    /// idempotency key: 422); `None` leaves it to the endpoint.
    pub status: Option<u16>,
}

/// An answer whose result the gateway does not read (a `status`).
pub type Unread = Decided<IgnoredAny>;

impl<T: DeserializeOwned> Decided<T> {
    /// The module's answer, read with the engine's types; one that does not
    /// read is the module's failure.
    pub fn module(envelope: String) -> Result<Decided<T>, HostError> {
        let read = serde_json::from_str(&envelope).map_err(|e| HostError::BadResponse {
            detail: format!("an answer that does not read as the engine's envelope: {e}"),
        })?;
        Ok(Decided {
            envelope: envelope.into(),
            answer: Answer::Module(Arc::new(read)),
            status: None,
        })
    }
}

impl<T> Decided<T> {
    /// Whether the answer is a result (of the module or a failure mode),
    /// not errors.
    pub fn answered(&self) -> bool {
        match &self.answer {
            Answer::Module(envelope) => envelope.result().is_some(),
            Answer::FailureMode { .. } | Answer::Compact(_) => true,
            Answer::Refused(_) => false,
        }
    }

    /// The kind of the module's first error; `None` for a result or a
    /// refusal of the gateway's own.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match &self.answer {
            Answer::Module(envelope) => envelope.errors().first().map(|e| e.code.kind()),
            _ => None,
        }
    }

    /// The first error's code, of the module or the gateway's own; `none`
    /// for a result.
    pub fn reason_code(&self) -> Cow<'static, str> {
        match &self.answer {
            Answer::Module(envelope) => match &**envelope {
                Envelope::Error(failure) => failure
                    .errors
                    .first()
                    .map_or(Cow::Borrowed("none"), |e| Cow::Borrowed(e.code.as_str())),
                Envelope::Ok(_) => Cow::Borrowed("none"),
            },
            Answer::Refused(code) => Cow::Borrowed(code),
            Answer::FailureMode { failure, .. } => Cow::Borrowed(failure),
            Answer::Compact(_) => Cow::Borrowed("none"),
        }
    }

    /// The module's result (a check's, a seat's), if it decided.
    pub fn result(&self) -> Option<&T> {
        match &self.answer {
            Answer::Module(envelope) => envelope.result(),
            _ => None,
        }
    }

    /// The host error code when the module failed and the failure mode answered.
    pub fn failure(&self) -> Option<&'static str> {
        match &self.answer {
            Answer::FailureMode { failure, .. } => Some(failure),
            _ => None,
        }
    }
}

impl Decided<CheckAnswer> {
    /// A compact check's answer, sent without a body: its envelope is
    /// empty, so only the endpoints that send none (forward-auth) take it.
    pub fn compact(answer: CompactAnswer) -> Decided {
        Decided {
            envelope: Arc::from(""),
            answer: Answer::Compact(answer),
            status: None,
        }
    }

    /// A compact check's answer with the JSON envelope the module wrote
    /// for the same check: what any endpoint sends.
    pub fn compact_with(answer: CompactAnswer, envelope: String) -> Decided {
        Decided {
            envelope: Arc::from(envelope),
            answer: Answer::Compact(answer),
            status: None,
        }
    }

    /// Whether the answer may be kept in the decision cache for any
    /// endpoint: a result of the module, with its envelope.
    pub fn cacheable(&self) -> bool {
        match &self.answer {
            Answer::Module(envelope) => envelope.result().is_some(),
            Answer::Compact(_) => !self.envelope.is_empty(),
            Answer::FailureMode { .. } | Answer::Refused(_) => false,
        }
    }

    /// The decision, of the module or of the failure mode.
    pub fn decision(&self) -> Option<Decision> {
        match &self.answer {
            Answer::Module(envelope) => envelope.result().map(|check| check.decision),
            Answer::FailureMode { decision, .. } => Some(*decision),
            Answer::Compact(answer) => Some(answer.decision),
            Answer::Refused(_) => None,
        }
    }

    /// Units left before a deny, as the module answered.
    pub fn remaining(&self) -> Option<u64> {
        match &self.answer {
            Answer::Module(envelope) => envelope.result().and_then(|check| check.remaining),
            Answer::Compact(answer) => answer.remaining,
            _ => None,
        }
    }

    /// Until when the same inputs get the same answer, as the module answered.
    pub fn valid_until(&self) -> Option<Timestamp> {
        match &self.answer {
            Answer::Module(envelope) => envelope.result().and_then(|check| check.valid_until),
            Answer::Compact(answer) => answer.valid_until,
            _ => None,
        }
    }

    /// `allow`, `allow_in_grace`, `deny`, or `error`.
    pub fn outcome(&self) -> Cow<'static, str> {
        self.decision()
            .map_or(Cow::Borrowed("error"), decision_name)
    }

    /// The reason, or the first error's code.
    pub fn reason(&self) -> Cow<'static, str> {
        match &self.answer {
            Answer::Module(envelope) => match &**envelope {
                Envelope::Ok(success) => reason_name(success.result.reason),
                Envelope::Error(failure) => failure
                    .errors
                    .first()
                    .map_or(Cow::Borrowed("none"), |e| Cow::Borrowed(e.code.as_str())),
            },
            Answer::FailureMode { decision, .. } => Cow::Borrowed(failure_reason(*decision)),
            Answer::Compact(answer) => reason_name(answer.reason),
            Answer::Refused(code) => Cow::Borrowed(code),
        }
    }

    /// The status the answer asks a gateway to answer with: the check's
    /// `http_status`, or the failure mode's.
    pub fn http_status(&self) -> Option<u16> {
        match &self.answer {
            Answer::Module(envelope) => envelope.result().map(|check| check.http_status),
            Answer::FailureMode { decision, .. } => Some(failure_status(*decision)),
            Answer::Compact(answer) => Some(answer.http_status),
            Answer::Refused(_) => None,
        }
    }

    /// The count the answer asks to record.
    pub fn record(&self) -> Option<&MeterRecord> {
        self.result().and_then(|check| check.record.as_ref())
    }
}

/// A value's name as answers write it (`allow_in_grace`, `quota_exceeded`).
fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::from("none"),
    }
}

/// A decision's name as answers write it, written once.
pub(crate) fn decision_name(decision: Decision) -> Cow<'static, str> {
    const ALL: [Decision; 3] = [Decision::Allow, Decision::AllowInGrace, Decision::Deny];
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| ALL.iter().map(wire_name).collect());
    named(names, ALL.iter().position(|d| *d == decision))
}

/// A reason's name as answers write it, written once.
pub(crate) fn reason_name(reason: Reason) -> Cow<'static, str> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| REASONS.iter().map(wire_name).collect());
    named(names, REASONS.iter().position(|r| *r == reason))
}

fn named(names: &'static [String], at: Option<usize>) -> Cow<'static, str> {
    at.and_then(|i| names.get(i))
        .map_or(Cow::Borrowed("none"), |name| Cow::Borrowed(name.as_str()))
}

fn failure_reason(decision: Decision) -> &'static str {
    match decision {
        Decision::Deny => "failure_closed",
        Decision::Allow | Decision::AllowInGrace => "failure_open",
    }
}

fn failure_status(decision: Decision) -> u16 {
    match decision {
        Decision::Deny => 403,
        Decision::Allow | Decision::AllowInGrace => 200,
    }
}

/// The meta of the gateway's own answers: the module's engine and the
/// generation's bundle, as the module would write them.
fn meta(generation: &Generation) -> Meta<'_> {
    Meta {
        engine: Cow::Borrowed(&generation.engine_version),
        bundle: Some(Cow::Borrowed(&generation.bundle)),
    }
}

/// The result of a check the failure mode decided.
#[derive(Serialize)]
struct FailureResult<'a> {
    decision: Decision,
    reason: &'static str,
    reasons: [&'static str; 1],
    feature: Option<&'a str>,
    failure: &'static str,
    remaining: Option<u64>,
    valid_until: Option<Timestamp>,
    http_status: u16,
    record: Option<MeterRecord>,
}

/// The answer when the module (or the meter) failed on a check of
/// `feature`: the failure mode decides, and nothing is recorded.
pub fn failure_mode(generation: &Generation, feature: Option<&str>, error: &HostError) -> Decided {
    let decision = match generation.failure_mode(feature) {
        Mode::Open => Decision::Allow,
        Mode::Closed => Decision::Deny,
    };
    let reason = failure_reason(decision);
    let envelope: Envelope<'_, FailureResult<'_>> = Envelope::Ok(Success {
        op: Op::Check,
        result: FailureResult {
            decision,
            reason,
            reasons: [reason],
            feature,
            failure: error.code(),
            remaining: None,
            valid_until: None,
            http_status: failure_status(decision),
            record: None,
        },
        meta: meta(generation),
    });
    Decided {
        envelope: written(&envelope),
        answer: Answer::FailureMode {
            decision,
            failure: error.code(),
        },
        status: None,
    }
}

/// The answer to a consuming check the fleet's store could not count (it
/// is unreachable) and the feature's `on_store_failure` does not admit:
/// refused at once, 503, `X-Entitle-Failure: store_failed`, nothing
/// counted. Unlike a module failure, never allowed: an allowance the fleet
/// has not counted is only what `bounded_open` declares.
pub fn store_unreachable(generation: &Generation, metric: &str, error: &HostError) -> Decided {
    let envelope: Envelope<'_, FailureResult<'_>> = Envelope::Ok(Success {
        op: Op::Check,
        result: FailureResult {
            decision: Decision::Deny,
            reason: failure_reason(Decision::Deny),
            reasons: [failure_reason(Decision::Deny)],
            feature: Some(metric),
            failure: error.code(),
            remaining: None,
            valid_until: None,
            http_status: 503,
            record: None,
        },
        meta: meta(generation),
    });
    Decided {
        envelope: written(&envelope),
        answer: Answer::FailureMode {
            decision: Decision::Deny,
            failure: error.code(),
        },
        status: Some(503),
    }
}

/// An error envelope of the gateway's own, in the engine's shape. Its codes
/// are the gateway's (docs/gateway.md), not the engine's, so the engine's
/// [`entitle_core::Failure`] cannot hold them.
#[derive(Serialize)]
struct OwnFailure<'a> {
    outcome: &'static str,
    errors: [OwnError<'a>; 1],
    meta: Meta<'a>,
}

#[derive(Serialize)]
struct OwnError<'a> {
    code: &'static str,
    path: &'a str,
    message: &'a str,
    help: &'a str,
}

/// A refusal of the gateway's own: `code` at `path`.
pub fn host_error<T>(
    generation: &Generation,
    code: &'static str,
    path: &str,
    message: &str,
    help: &str,
) -> Decided<T> {
    let envelope = OwnFailure {
        outcome: "error",
        errors: [OwnError {
            code,
            path,
            message,
            help,
        }],
        meta: meta(generation),
    };
    Decided {
        envelope: written(&envelope),
        answer: Answer::Refused(code),
        status: None,
    }
}

/// An envelope of the gateway's own as JSON; it holds only text, numbers
/// and the engine's own types, which always serialize.
fn written<T: Serialize>(envelope: &T) -> Arc<str> {
    serde_json::to_string(envelope).unwrap_or_default().into()
}
