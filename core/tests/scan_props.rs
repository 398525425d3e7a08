//! Properties of `scan`: every evidence path resolves to the very record
//! the finding quotes, and raising a detector's threshold never adds a
//! finding.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use entitle_core::api::evaluate;
use proptest::prelude::*;
use serde_json::{json, Value};

fn bundle(factor: &str, percent: u32, min_days: u32, grace: u32) -> Value {
    let mut b: Value = serde_json::from_str(include_str!(
        "../../tests/conformance/fixtures/support_bundle.json"
    ))
    .unwrap();
    b["compliance"] = json!({
        "spike": {"window_days": 3, "factor": factor, "severity": "normal", "queue": "overage_dispute"},
        "over_deployment": {"threshold_percent": percent, "severity": "normal", "queue": "overage_dispute"},
        "undeclared": {"min_days_seen": min_days, "severity": "normal", "queue": "undisclosed_deployment"},
        "after_termination": {"grace_days": grace, "severity": "high", "queue": "audit_request"},
        "seat_prices": {"pro": "12.50"}
    });
    b
}

fn license(id: &str, seats: u64, end: &str) -> Value {
    json!({"license": id, "customer": "cus-1", "tier": "pro", "seats": seats,
           "term": {"start": "2026-01-01T00:00:00Z", "end": end}, "status": "active",
           "time_zone": "UTC", "anchor_date": "2026-01-01"})
}

/// A scan request from generated facts: per installation (license index,
/// first day, days seen, declared); per license a usage series; seats.
fn request(
    bundle: Value,
    seats: &[u64],
    installs: &[(usize, u32, u32, bool)],
    usage: &[Vec<u64>],
) -> Value {
    let ids = ["lic-a", "lic-b", "lic-c"];
    let ends = [
        "2027-01-01T00:00:00Z",
        "2026-11-10T00:00:00Z",
        "2027-01-01T00:00:00Z",
    ];
    let licenses: Vec<Value> = seats
        .iter()
        .enumerate()
        .map(|(i, s)| license(ids[i], *s, ends[i]))
        .collect();
    let day = |d: u32| format!("2026-11-{:02}T00:00:00Z", d + 1);
    let mut deployments = Vec::new();
    let installations: Vec<Value> = installs
        .iter()
        .enumerate()
        .map(|(n, (l, first, span, declared))| {
            let lic = ids[l % seats.len()];
            if *declared {
                deployments.push(json!({"installation": format!("i-{n}"), "license": lic}));
            }
            json!({"id": format!("i-{n}"), "license": lic, "first_seen": day(*first),
                   "last_seen": day((first + span).min(19))})
        })
        .collect();
    let series: Vec<Value> = usage
        .iter()
        .zip(ids)
        .take(seats.len())
        .map(|(values, lic)| {
            let points: Vec<Value> = values
                .iter()
                .enumerate()
                .map(|(d, v)| json!({"date": format!("2026-11-{:02}", d + 10), "value": v}))
                .collect();
            json!({"license": lic, "metric": "api_calls", "points": points})
        })
        .collect();
    json!({"op": "scan", "bundle": bundle, "licenses": licenses, "deployments": deployments,
           "telemetry": {"installations": installations, "usage": series},
           "events": [{"type": "suspension", "license": "lic-a", "at": "2026-11-05T00:00:00Z",
                       "until": "2026-11-08T00:00:00Z"}],
           "now": "2026-11-20T12:00:00Z"})
}

fn resolve<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut at = root;
    let rest = path.strip_prefix('$')?;
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        let mut pieces = part.split('[');
        let key = pieces.next()?;
        if !key.is_empty() {
            at = at.get(key)?;
        }
        for index in pieces {
            at = at.get(index.strip_suffix(']')?.parse::<usize>().ok()?)?;
        }
    }
    Some(at)
}

fn answer(request: &Value) -> Value {
    let text = evaluate(request.to_string().as_bytes());
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["outcome"], "ok", "{text}");
    answer
}

fn keys(answer: &Value) -> BTreeSet<(String, String, String)> {
    answer["result"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (s("detector"), s("license"), s("subject"))
        })
        .collect()
}

/// Seats per license; per installation its license index, first day, days
/// seen and whether it is declared; per license a usage series.
type Facts = (Vec<u64>, Vec<(usize, u32, u32, bool)>, Vec<Vec<u64>>);

fn facts() -> impl Strategy<Value = Facts> {
    (
        prop::collection::vec(1u64..4, 1..=3),
        prop::collection::vec((0usize..3, 0u32..15, 0u32..8, any::<bool>()), 0..10),
        prop::collection::vec(prop::collection::vec(0u64..50, 0..8), 3),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn evidence_paths_resolve_to_their_records((seats, installs, usage) in facts()) {
        let request = request(bundle("2", 10, 1, 1), &seats, &installs, &usage);
        let answer = answer(&request);
        for finding in answer["result"]["findings"].as_array().unwrap() {
            for evidence in finding["evidence"].as_array().unwrap() {
                let path = evidence["path"].as_str().unwrap();
                let found = resolve(&request, path);
                prop_assert_eq!(found, Some(&evidence["record"]), "{}", path);
            }
        }
    }

    #[test]
    fn raising_a_threshold_never_adds_findings(
        (seats, installs, usage) in facts(),
        which in 0usize..4,
        raise in 1u32..40,
    ) {
        let low = bundle("2", 10, 1, 1);
        let high = match which {
            0 => bundle(&format!("2.{raise:02}"), 10, 1, 1),
            1 => bundle("2", 10 + raise * 5, 1, 1),
            2 => bundle("2", 10, 1 + raise / 4, 1),
            _ => bundle("2", 10, 1, 1 + raise / 4),
        };
        let before = keys(&answer(&request(low, &seats, &installs, &usage)));
        let after = keys(&answer(&request(high, &seats, &installs, &usage)));
        prop_assert!(after.is_subset(&before), "{:?} not within {:?}", after, before);
    }
}
