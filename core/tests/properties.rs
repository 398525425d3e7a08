//! Invariants of the rules, checked on generated documents through the one
//! JSON entry: more usage never makes an answer more permissive, and an
//! exception outside its window never grants anything.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use entitle_core::api::evaluate;
use proptest::prelude::*;
use serde_json::{json, Value};

fn bundle(limit: u64, soft: Option<(u64, u32)>) -> Value {
    let enforcement = match soft {
        None => json!({"mode": "hard"}),
        Some((units, hours)) => {
            json!({"mode": "soft", "grace_allowance": {"units": units}, "grace_hours": hours})
        }
    };
    json!({
        "bundle": "prop", "version": "1", "currency": "EUR", "billing_period": "month",
        "features": {"calls": {"kind": "metered", "unit": "call"}, "beta": {"kind": "boolean"}},
        "tiers": {"basic": {"rank": 1, "price": "10.00", "features": ["calls"],
            "quotas": {"calls": {"limit": limit, "period": "month", "enforcement": enforcement}}}},
        "charges": {"calls": {"model": "per_unit", "unit_price": "0.01"}},
        "expiry": {"renewal_grace_days": 7, "expiring_soon_days": 30, "after_grace": {"access": "revoke"}}
    })
}

fn license(exceptions: Value) -> Value {
    json!({
        "license": "lic", "customer": "cus", "tier": "basic", "seats": 1,
        "term": {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"},
        "status": "active", "time_zone": "Europe/Berlin", "anchor_date": "2026-01-01",
        "exceptions": exceptions
    })
}

/// Permissiveness order: allow < allow_in_grace < deny.
fn rank(answer: &Value) -> u8 {
    match answer["result"]["decision"].as_str() {
        Some("allow") => 0,
        Some("allow_in_grace") => 1,
        Some("deny") => 2,
        other => panic!("no decision: {other:?} in {answer}"),
    }
}

fn check(
    bundle: &Value,
    license: &Value,
    used: u64,
    crossed: &str,
    amount: u64,
    now: &str,
) -> Value {
    let request = json!({
        "op": "check", "bundle": bundle, "license": license, "now": now,
        "usage": {"metrics": {"calls": {"used": used, "soft_exceeded_at": crossed}}},
        "metric": "calls", "amount": amount
    });
    serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap()
}

/// An instant in 2026, from an offset in minutes.
fn instant(minutes: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
    (base + chrono::TimeDelta::minutes(minutes))
        .to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

const YEAR_MINUTES: i64 = 365 * 24 * 60;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn more_usage_is_never_more_permissive(
        limit in 1u64..10_000,
        soft in proptest::option::of((1u64..5_000, 1u32..400)),
        used in 0u64..20_000,
        more in 0u64..20_000,
        amount in 0u64..2_000,
        extra_amount in 0u64..2_000,
        crossed in 0..YEAR_MINUTES,
        now in 0..YEAR_MINUTES,
    ) {
        let b = bundle(limit, soft);
        let l = license(json!([]));
        let (crossed, now) = (instant(crossed.min(now)), instant(now));
        let base = check(&b, &l, used, &crossed, amount, &now);
        let more_used = check(&b, &l, used + more, &crossed, amount, &now);
        let more_asked = check(&b, &l, used, &crossed, amount + extra_amount, &now);
        prop_assert!(rank(&more_used) >= rank(&base), "{base}\n{more_used}");
        prop_assert!(rank(&more_asked) >= rank(&base), "{base}\n{more_asked}");
        // Under the same decision, remaining units never grow with usage. (A
        // refused request leaves its units unconsumed, so across decisions
        // `remaining` counts before versus after the request.)
        if rank(&base) == rank(&more_used) {
            if let (Some(a), Some(b)) = (base["result"]["remaining"].as_u64(), more_used["result"]["remaining"].as_u64()) {
                prop_assert!(b <= a, "{base}\n{more_used}");
            }
        }
    }

    #[test]
    fn an_exception_outside_its_window_grants_nothing(
        start in 0..YEAR_MINUTES,
        length in 1..(60 * 24 * 90i64),
        revoke_after in proptest::option::of(0..(60 * 24 * 90i64)),
        now in 0..YEAR_MINUTES,
        increment in 1u64..1_000,
        used in 0u64..2_000,
    ) {
        let exception = json!({
            "id": "exc", "starts_at": instant(start), "expires_at": instant(start + length),
            "revoked_at": revoke_after.map(|r| instant(start + r)),
            "approver": "a", "reason": "r",
            "grants": {"features": ["beta"], "quota_increments": {"calls": increment}}
        });
        let b = bundle(1_000, None);
        let l = license(json!([exception]));
        let in_window = now >= start
            && now < start + length
            && revoke_after.is_none_or(|r| now < start + r);
        let now = instant(now);
        let request = json!({"op": "check", "bundle": b, "license": l, "now": now, "feature": "beta"});
        let answer: Value = serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap();
        let decision = answer["result"]["decision"].as_str().unwrap();
        prop_assert_eq!(decision == "allow", in_window, "{}", answer);
        if !in_window {
            let reason = answer["result"]["reason"].as_str().unwrap();
            prop_assert!(["exception_expired", "exception_not_started", "exception_revoked"].contains(&reason), "{}", reason);
        }
        // The quota increment applies exactly inside the window.
        let quota = check(&b, &l, used, &now, 0, &now);
        let limit = quota["result"]["quota"]["limit"].as_u64().unwrap();
        prop_assert_eq!(limit, if in_window { 1_000 + increment } else { 1_000 });
    }
}
