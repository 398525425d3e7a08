//! Properties of `exception`: asking for more quota or putting more revenue
//! at risk never lowers the risk score, and the record the operation
//! produces, added to the license, is honoured by `check` exactly inside its
//! window and never outside it.

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

const BUNDLE: &str = include_str!("../../tests/conformance/fixtures/exception_bundle.json");
const LICENSE: &str = include_str!("../../tests/conformance/fixtures/license.json");

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn run(request: &Value) -> Value {
    serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap()
}

fn exception(license: &Value, request: Value, now: &str) -> Value {
    run(&json!({
        "op": "exception",
        "bundle": serde_json::from_str::<Value>(BUNDLE).unwrap(),
        "license": license,
        "now": now,
        "request": request,
    }))
}

fn request(seconds: i64, increment: u64, impact_cents: u64, features: bool) -> Value {
    let features: Vec<&str> = if features { vec!["beta_lab"] } else { vec![] };
    json!({
        "id": "exr-prop",
        "requester": "am",
        "use_case": "pilot",
        "features": features,
        "quota_increments": {"api_calls": increment},
        "starts_at": stamp(start()),
        "expires_at": stamp(start() + TimeDelta::seconds(seconds)),
        "expected_revenue_impact": format!("{}.{:02}", impact_cents / 100, impact_cents % 100),
    })
}

fn total(answer: &Value) -> u64 {
    assert_eq!(answer["outcome"], "ok", "{answer}");
    answer["result"]["risk"]["total"].as_u64().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn more_quota_or_revenue_at_risk_never_lowers_the_score(
        seconds in 3_600i64..=90 * 86_400,
        increment in 1u64..20_000,
        more in 0u64..20_000,
        cents in 0u64..100_000,
        more_cents in 0u64..100_000,
        features in any::<bool>(),
    ) {
        let license: Value = serde_json::from_str(LICENSE).unwrap();
        let now = "2026-02-01T00:00:00Z";
        let base = total(&exception(&license, request(seconds, increment, cents, features), now));
        let bigger = total(&exception(&license, request(seconds, increment + more, cents, features), now));
        let costlier = total(&exception(&license, request(seconds, increment, cents + more_cents, features), now));
        prop_assert!(bigger >= base, "increment {increment}+{more}: {bigger} < {base}");
        prop_assert!(costlier >= base, "impact {cents}+{more_cents}: {costlier} < {base}");
    }

    #[test]
    fn the_record_is_honoured_exactly_inside_its_window(
        seconds in 1i64..=90 * 86_400,
        probe in -2 * 86_400i64..=92 * 86_400,
    ) {
        let mut license: Value = serde_json::from_str(LICENSE).unwrap();
        let mut asked = request(seconds, 100, 0, true);
        // Whatever the score, approve with every role the policy names; a
        // role the band does not need would be refused, so ask first.
        let first = exception(&license, asked.clone(), "2026-02-01T00:00:00Z");
        let roles = first["result"]["approvals"]["required"].as_array().unwrap().clone();
        asked["approvals"] = roles
            .iter()
            .map(|r| json!({"role": r, "at": "2026-02-02T00:00:00Z"}))
            .collect();
        let answer = exception(&license, asked, "2026-02-03T00:00:00Z");
        prop_assert_eq!(&answer["result"]["state"], "approved");
        let record = answer["result"]["record"].clone();
        prop_assert!(record.is_object());
        license["exceptions"] = json!([record]);
        let at = start() + TimeDelta::seconds(probe);
        let check = run(&json!({
            "op": "check",
            "bundle": serde_json::from_str::<Value>(BUNDLE).unwrap(),
            "license": license,
            "now": stamp(at),
            "feature": "beta_lab",
        }));
        prop_assert_eq!(&check["outcome"], "ok", "{}", check);
        let inside = (0..seconds).contains(&probe);
        let allowed = check["result"]["decision"] == "allow";
        prop_assert_eq!(allowed, inside, "probe {} of {}: {}", probe, seconds, check);
    }
}
