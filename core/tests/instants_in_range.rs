//! Every instant an answer writes is one the engine reads back: for random
//! licenses whose term, `now`, issue time, offline window, exceptions and
//! usage lie near either end of years 0000 to 9999 (with renewal grace up to
//! a hundred years and time zones from UTC-11 to UTC+14), each operation's
//! answer, when it succeeds, holds only instants [`Timestamp::parse`] takes,
//! and when it fails, names the input with a path.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::{Datelike, Days, NaiveDate};
use entitle_core::api::evaluate;
use entitle_core::model::time::{Timestamp, FIRST_INSTANT, LAST_INSTANT};
use proptest::prelude::*;
use serde_json::{json, Value};

const BUNDLE: &str = include_str!("../../tests/conformance/fixtures/bundle.json");
const EXCEPTION_BUNDLE: &str =
    include_str!("../../tests/conformance/fixtures/exception_bundle.json");
const LICENSE: &str = include_str!("../../tests/conformance/fixtures/license.json");
const EXCEPTION_REQUEST: &str =
    include_str!("../../tests/conformance/fixtures/exception/request.json");

const DAY: i64 = 86_400;

const ZONES: [&str; 5] = [
    "UTC",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/New_York",
    "Europe/London",
];

fn doc(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The instant `back` seconds before the last one (`high`) or `back`
/// seconds after the first one.
fn edge(high: bool, back: i64) -> String {
    let unix = if high {
        LAST_INSTANT - back
    } else {
        FIRST_INSTANT + back
    };
    Timestamp::from_unix(unix).unwrap().to_string()
}

/// Seconds from an end of the range: mostly within days of it, sometimes
/// within a year or two.
fn near() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..(3 * DAY), 0i64..(45 * DAY), 0i64..(800 * DAY)]
}

/// Whether `text` is written as an instant: `[+-]YYYY…-MM-DDTHH:MM`.
fn looks_like_instant(text: &str) -> bool {
    let body = text.trim_start_matches(['+', '-']);
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    let rest = body.as_bytes().get(digits..).unwrap_or_default();
    digits >= 4
        && rest.len() >= 12
        && rest[0] == b'-'
        && rest[3] == b'-'
        && rest[6] == b'T'
        && rest[9] == b':'
}

fn instants(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) if looks_like_instant(s) => out.push((at.to_owned(), s.clone())),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                instants(v, &format!("{at}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                instants(v, &format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Checks one answer: every instant of a success reads back, every error
/// carries a path. Answers whether it succeeded.
fn in_range(request: &Value) -> Result<bool, TestCaseError> {
    let text = evaluate(request.to_string().as_bytes());
    let answer: Value = serde_json::from_str(&text).unwrap();
    match answer["outcome"].as_str() {
        Some("ok") => {
            let mut found = Vec::new();
            instants(&answer["result"], "$", &mut found);
            for (at, instant) in found {
                prop_assert!(
                    Timestamp::parse(&instant).is_some(),
                    "{} writes `{instant}` at {at}, which it does not read; request {request}",
                    request["op"]
                );
            }
        }
        Some("error") => {
            for error in answer["errors"].as_array().unwrap() {
                let path = error["path"].as_str().unwrap_or_default();
                prop_assert!(path.starts_with('$'), "{error} has no path");
            }
        }
        _ => prop_assert!(false, "no outcome: {answer}"),
    }
    Ok(answer["outcome"] == "ok")
}

#[derive(Debug, Clone)]
struct Far {
    high: bool,
    term: (i64, i64),
    now: i64,
    issued: Option<i64>,
    offline: Option<(i64, i64)>,
    exception: Option<(i64, i64)>,
    soft: (u64, Option<i64>),
    zone: usize,
    anchor: u64,
    grace_days: u32,
    soon_days: u32,
    suspended: bool,
}

fn far() -> impl Strategy<Value = Far> {
    (
        any::<bool>(),
        (near(), near()),
        near(),
        proptest::option::of(near()),
        proptest::option::of((near(), near())),
        proptest::option::of((near(), near())),
        (0u64..60, proptest::option::of(near())),
        0..ZONES.len(),
        0u64..366,
        prop_oneof![0u32..40, 0u32..=36_500],
        prop_oneof![0u32..40, 0u32..=36_500],
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |(
                high,
                term,
                now,
                issued,
                offline,
                exception,
                soft,
                zone,
                anchor,
                grace_days,
                soon_days,
                suspended,
            )| Far {
                high,
                term,
                now,
                issued,
                offline,
                exception,
                soft,
                zone,
                anchor,
                grace_days,
                soon_days,
                suspended,
            },
        )
}

/// Two instants near the edge, earlier first.
fn span(high: bool, (a, b): (i64, i64)) -> (String, String) {
    let (x, y) = (edge(high, a), edge(high, b));
    let (mut lo, hi) = if Timestamp::parse(&x) <= Timestamp::parse(&y) {
        (x, y)
    } else {
        (y, x)
    };
    if lo == hi {
        lo = edge(high, a.max(b) + 1);
    }
    (lo, hi)
}

impl Far {
    fn license(&self) -> Value {
        let mut license = doc(LICENSE);
        let (start, end) = span(self.high, self.term);
        license["term"] = json!({"start": start, "end": end});
        license["time_zone"] = json!(ZONES[self.zone]);
        let anchor = NaiveDate::from_ymd_opt(2024, 1, 1)
            .unwrap()
            .checked_add_days(Days::new(self.anchor))
            .unwrap();
        license["anchor_date"] = json!(format!("2024-{:02}-{:02}", anchor.month(), anchor.day()));
        if self.suspended {
            license["status"] = json!("suspended");
        }
        if let Some(issued) = self.issued {
            license["issued_at"] = json!(edge(self.high, issued));
        }
        if let Some(window) = self.offline {
            let (not_before, not_after) = span(self.high, window);
            license["offline"] = json!({"not_before": not_before, "not_after": not_after});
        }
        if let Some(window) = self.exception {
            let (starts_at, expires_at) = span(self.high, window);
            license["exceptions"] = json!([{
                "id": "exc-far",
                "grants": {"features": ["sso"], "grace_hours": {"exports": 72}},
                "starts_at": starts_at,
                "expires_at": expires_at,
                "approver": "dana.ops",
                "reason": "at the end of time"
            }]);
        }
        license
    }

    fn bundle(&self, text: &str) -> Value {
        let mut bundle = doc(text);
        bundle["expiry"]["renewal_grace_days"] = json!(self.grace_days);
        bundle["expiry"]["expiring_soon_days"] = json!(self.soon_days);
        bundle
    }

    fn usage(&self) -> Value {
        let (used, crossed) = self.soft;
        let mut exports = json!({"used": used});
        if let Some(crossed) = crossed {
            exports["soft_exceeded_at"] = json!(edge(self.high, crossed));
        }
        json!({"metrics": {"exports": exports}, "active_seats": 4})
    }

    fn requests(&self) -> Vec<Value> {
        let now = edge(self.high, self.now);
        let (bundle, license, usage) = (self.bundle(BUNDLE), self.license(), self.usage());
        let base = json!({"bundle": bundle, "license": license, "usage": usage, "now": now});
        let with = |extra: Value| {
            let mut request = base.clone();
            for (k, v) in extra.as_object().unwrap() {
                request[k] = v.clone();
            }
            request
        };
        let (starts_at, expires_at) = span(self.high, self.term);
        let mut exception = doc(EXCEPTION_REQUEST);
        exception["starts_at"] = json!(starts_at);
        exception["expires_at"] = json!(expires_at);
        exception["approvals"] = json!([{"role": "account_manager", "at": starts_at}]);
        vec![
            with(json!({"op": "check", "feature": "audit_log"})),
            with(json!({"op": "check", "feature": "sso"})),
            with(json!({"op": "check", "metric": "api_calls", "amount": 1})),
            with(json!({"op": "check", "metric": "exports", "amount": 3})),
            with(json!({"op": "status"})),
            with(json!({"op": "quote"})),
            with(json!({"op": "transition", "to": "enterprise"})),
            with(json!({"op": "transition", "to": "basic"})),
            json!({
                "op": "exception",
                "bundle": self.bundle(EXCEPTION_BUNDLE),
                "license": self.license(),
                "now": now,
                "request": exception,
            }),
        ]
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn every_instant_an_answer_writes_is_read_back(far in far()) {
        for request in far.requests() {
            in_range(&request)?;
        }
    }
}

/// The sample is not empty of successes: each operation answers many of
/// the generated requests at each end of the range.
#[test]
fn the_sample_reaches_every_operation_at_both_ends() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut ok = std::collections::BTreeMap::<(String, bool), u32>::new();
    for _ in 0..192 {
        let far = far().new_tree(&mut runner).unwrap().current();
        for request in far.requests() {
            let name = format!(
                "{} {}",
                request["op"],
                request
                    .get("metric")
                    .or(request.get("feature"))
                    .or(request.get("to"))
                    .unwrap_or(&Value::Null)
            );
            if in_range(&request).unwrap() {
                *ok.entry((name, far.high)).or_default() += 1;
            }
        }
    }
    println!("{ok:?}");
    assert_eq!(ok.len(), 18, "{ok:?}");
    assert!(ok.values().all(|n| *n >= 5), "{ok:?}");
}

/// The example of the defect: a perpetual license with a monthly quota on
/// 9999-12-20 once answered a period ending `+10000-01-15T00:00:00Z`.
#[test]
fn a_monthly_period_ending_in_10000_is_refused_at_now() {
    let mut license = doc(LICENSE);
    license["term"]["end"] = json!("9999-12-31T00:00:00Z");
    for op in ["status", "quote"] {
        let request = json!({
            "op": op, "bundle": doc(BUNDLE), "license": license,
            "usage": {"metrics": {}, "active_seats": 1}, "now": "9999-12-20T00:00:00Z",
        });
        let answer: Value =
            serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap();
        assert_eq!(answer["outcome"], "error", "{answer}");
        assert_eq!(answer["errors"][0]["code"], "out_of_range", "{answer}");
        assert_eq!(answer["errors"][0]["path"], "$.now", "{answer}");
    }
}
