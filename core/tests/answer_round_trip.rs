//! A check answer the engine wrote reads back with the types that wrote it,
//! and writes again to the same bytes: hosts read answers with core's types.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use entitle_core::api::evaluate;
use entitle_core::{CheckAnswer, Envelope};
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../tests/conformance/fixtures/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A check of the conformance fixtures' license on the Basic tier (1000 API
/// calls a month, hard) at 2026-06-01T12:00:00Z, with `used` calls counted.
fn check(ask: Value, used: u64) -> String {
    let mut license = fixture("license");
    license["tier"] = json!("basic");
    let mut request = json!({
        "op": "check",
        "bundle": fixture("bundle"),
        "license": license,
        "usage": {"metrics": {"api_calls": {"used": used}}},
        "now": "2026-06-01T12:00:00Z",
    });
    for (field, value) in ask.as_object().unwrap() {
        request[field] = value.clone();
    }
    evaluate(request.to_string().as_bytes())
}

/// Reads `text` as a check answer and checks that writing it again gives
/// the same bytes.
fn read_back(text: &str) -> CheckAnswer {
    let envelope: Envelope<'static, CheckAnswer> = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_string(&envelope).unwrap(), text);
    envelope.result().cloned().unwrap()
}

fn text<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

#[test]
fn an_allow_reads_back() {
    let answer = read_back(&check(json!({"feature": "exports"}), 0));
    assert_eq!(text(&answer.decision), "allow");
    assert_eq!(answer.feature.as_str(), "exports");
    assert_eq!(answer.http_status, 200);
    assert_eq!(
        text(&answer.decided_by),
        json!([{"kind": "tier", "id": "basic"}])
    );
    assert!(answer.record.is_none());
}

#[test]
fn a_deny_with_its_quota_reads_back() {
    let answer = read_back(&check(json!({"metric": "api_calls", "amount": 1}), 1000));
    assert_eq!(text(&answer.decision), "deny");
    assert_eq!(text(&answer.reason), "quota_exceeded");
    assert_eq!(answer.http_status, 402);
    assert_eq!(answer.remaining, Some(0));
    let quota = answer.quota.unwrap();
    assert_eq!(
        (quota.used, quota.requested, quota.limit),
        (1000, 1, Some(1000))
    );
    // Monthly periods start on the anchor date's day, the 15th, in UTC.
    assert_eq!(quota.period.start.to_string(), "2026-05-15T00:00:00Z");
    assert_eq!(quota.period.end.to_string(), "2026-06-15T00:00:00Z");
    assert!(answer.record.is_none());
}

#[test]
fn a_record_reads_back() {
    let answer = read_back(&check(json!({"metric": "api_calls", "amount": 1}), 999));
    assert_eq!(text(&answer.decision), "allow");
    assert_eq!(text(&answer.reason), "within_quota");
    assert_eq!(answer.remaining, Some(0));
    let record = answer.record.unwrap();
    assert_eq!(record.metric.as_str(), "api_calls");
    assert_eq!(record.used, 1000);
    assert_eq!(record.period.start.to_string(), "2026-05-15T00:00:00Z");
    assert_eq!(record.soft_exceeded_at, None);
}

#[test]
fn an_instant_outside_what_the_engine_writes_is_not_read() {
    let answer = check(json!({"metric": "api_calls", "amount": 1}), 999);
    let forged = answer.replace("2026-06-15T00:00:00Z", "+10000-06-15T00:00:00Z");
    assert_ne!(forged, answer);
    assert!(serde_json::from_str::<Envelope<'static, CheckAnswer>>(&forged).is_err());
    let forged = answer.replace("2026-06-15T00:00:00Z", "9999-12-31T23:00:00-02:00");
    assert!(serde_json::from_str::<Envelope<'static, CheckAnswer>>(&forged).is_err());
}
