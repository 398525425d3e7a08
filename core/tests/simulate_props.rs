//! Properties of `simulate`: the timeline's decisions agree with a hard
//! quota counted independently here, and replaying a shorter window gives
//! the prefix of a longer one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::{DateTime, TimeDelta, Utc};
use entitle_core::api::evaluate;
use proptest::prelude::*;
use serde_json::{json, Value};

const BUNDLE: &str = include_str!("../../tests/conformance/fixtures/support_bundle.json");
const LICENSE: &str = include_str!("../../tests/conformance/fixtures/license.json");
/// Pro's storage quota: a hard 100 GB per license year (from Jan 15).
const LIMIT: u64 = 100;

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-16T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn simulate(events: &[(i64, u64)], until: DateTime<Utc>, extra: &[Value]) -> Vec<Value> {
    let mut list: Vec<Value> = events
        .iter()
        .map(|&(minute, amount)| {
            json!({"type": "usage", "at": stamp(start() + TimeDelta::minutes(minute)),
                   "metric": "storage_gb", "amount": amount})
        })
        .collect();
    list.extend_from_slice(extra);
    let request = json!({
        "op": "simulate",
        "bundle": serde_json::from_str::<Value>(BUNDLE).unwrap(),
        "license": serde_json::from_str::<Value>(LICENSE).unwrap(),
        "scenario": {"scenario": "p", "from": stamp(start()), "until": stamp(until),
                     "watch": {"metrics": ["storage_gb"], "features": ["audit_log"]},
                     "events": list}
    });
    let answer: Value = serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap();
    assert_eq!(answer["outcome"], "ok", "{answer}");
    answer["result"]["timeline"].as_array().unwrap().clone()
}

/// Increasing minutes from the start, each with an amount.
fn usage() -> impl Strategy<Value = Vec<(i64, u64)>> {
    prop::collection::vec((1_i64..3_000, 1_u64..30), 0..20).prop_map(|steps| {
        let mut minute = 0;
        steps
            .into_iter()
            .map(|(gap, amount)| {
                minute += gap;
                (minute, amount)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A hard quota counted by hand: an event is counted when it fits, and
    /// one more unit is allowed exactly while the count is under the limit.
    #[test]
    fn decisions_follow_a_hard_quota_counted_by_hand(events in usage(), probes in prop::collection::vec(0_i64..60_000, 1..8)) {
        let until = start() + TimeDelta::minutes(60_001);
        let timeline = simulate(&events, until, &[]);
        for probe in probes {
            let t = stamp(start() + TimeDelta::minutes(probe));
            let mut used = 0;
            let mut refused = Vec::new();
            for &(minute, amount) in events.iter().filter(|(m, _)| *m <= probe) {
                if used + amount <= LIMIT {
                    used += amount;
                } else {
                    refused.push(stamp(start() + TimeDelta::minutes(minute)));
                }
            }
            let last = timeline
                .iter()
                .filter(|e| e["kind"] == "decision" && e["subject"]["metric"] == "storage_gb")
                .rfind(|e| e["at"].as_str().unwrap() <= t.as_str())
                .unwrap();
            let expected = if used < LIMIT { "allow" } else { "deny" };
            prop_assert_eq!(&last["decision"], expected, "at {} with {} used", t, used);
            let listed: Vec<String> = timeline
                .iter()
                .filter(|e| e["kind"] == "usage_refused")
                .map(|e| e["at"].as_str().unwrap().to_string())
                .filter(|at| at.as_str() <= t.as_str())
                .collect();
            prop_assert_eq!(listed, refused);
        }
    }

    /// The window's end never changes what happened before it.
    #[test]
    fn a_shorter_window_is_a_prefix(events in usage(), cut in 1_i64..60_000, suspend in prop::option::of(1_i64..60_000)) {
        // The contract event comes after every usage event, so the
        // request lists events in time order.
        if let Some(m) = suspend {
            prop_assume!(events.iter().all(|(u, _)| *u < m));
        }
        let contract = |before: i64| -> Vec<Value> {
            suspend
                .filter(|m| *m < before)
                .map(|m| json!({"type": "contract", "at": stamp(start() + TimeDelta::minutes(m)), "status": "suspended"}))
                .into_iter()
                .collect()
        };
        let split = |before: i64| -> (Vec<(i64, u64)>, Vec<Value>) {
            (events.iter().copied().filter(|(m, _)| *m < before).collect(), contract(before))
        };
        let long_until = start() + TimeDelta::minutes(60_001);
        let (usage_all, contract_all) = split(60_001);
        let long = simulate(&usage_all, long_until, &contract_all);
        let short_until = start() + TimeDelta::minutes(cut);
        let (usage_short, contract_short) = split(cut);
        let short = simulate(&usage_short, short_until, &contract_short);
        let edge = stamp(short_until);
        let prefix: Vec<Value> = long.into_iter().filter(|e| e["at"].as_str().unwrap() < edge.as_str()).collect();
        prop_assert_eq!(short, prefix);
    }
}
