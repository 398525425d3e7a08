//! Properties of `seat`: over random seats bought, exceptions adding seats
//! (started, running, expired or revoked) and seats held, a seat is granted
//! exactly when the seats held stay under the seats bought plus those of
//! the exceptions in force (summed here on their own), `remaining` counts
//! what is left, and `valid_until` is never at or before `now` and never
//! past the next instant an exception's seats start or stop counting.

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

const BUNDLE: &str = include_str!("../../tests/conformance/fixtures/bundle.json");
const LICENSE: &str = include_str!("../../tests/conformance/fixtures/license.json");

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// An exception adding `seats` from `start` to `end` hours around `now`,
/// revoked at `revoked` hours when given.
#[derive(Debug, Clone)]
struct Extra {
    seats: u64,
    start: i64,
    end: i64,
    revoked: Option<i64>,
}

fn extra() -> impl Strategy<Value = Extra> {
    (
        1u64..5,
        -48i64..48,
        1i64..96,
        proptest::option::of(-48i64..48),
    )
        .prop_map(|(seats, start, length, revoked)| Extra {
            seats,
            start,
            end: start + length,
            revoked,
        })
}

fn at(hours: i64) -> DateTime<Utc> {
    now() + TimeDelta::hours(hours)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_seat_is_granted_exactly_under_the_limit(
        bought in 1u64..20,
        extras in proptest::collection::vec(extra(), 0..4),
        held in 0u64..30,
    ) {
        let mut license: Value = serde_json::from_str(LICENSE).unwrap();
        license["seats"] = json!(bought);
        license["exceptions"] = extras
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut x = json!({
                    "id": format!("exc-{i}"),
                    "grants": {"seats": e.seats},
                    "starts_at": stamp(at(e.start)),
                    "expires_at": stamp(at(e.end)),
                    "approver": "ops",
                    "reason": "a property",
                });
                if let Some(r) = e.revoked {
                    x["revoked_at"] = json!(stamp(at(r)));
                }
                x
            })
            .collect();
        let answer: Value = serde_json::from_str(&evaluate(
            json!({
                "op": "seat",
                "bundle": serde_json::from_str::<Value>(BUNDLE).unwrap(),
                "license": license,
                "usage": {"active_seats": held},
                "now": stamp(now()),
            })
            .to_string()
            .as_bytes(),
        ))
        .unwrap();
        prop_assert_eq!(&answer["outcome"], "ok", "{}", answer);
        let result = &answer["result"];
        // In force: started at or before now, not expired, not revoked.
        let in_force = |e: &Extra| {
            e.start <= 0 && e.end > 0 && e.revoked.is_none_or(|r| r > 0)
        };
        let limit = bought + extras.iter().filter(|e| in_force(e)).map(|e| e.seats).sum::<u64>();
        prop_assert_eq!(result["seats"]["limit"].as_u64(), Some(limit));
        let granted = held < limit;
        prop_assert_eq!(&result["decision"], if granted { "allow" } else { "deny" });
        prop_assert_eq!(&result["reason"], if granted { "seat_available" } else { "seats_exhausted" });
        let remaining = if granted { limit - held - 1 } else { limit.saturating_sub(held) };
        prop_assert_eq!(result["remaining"].as_u64(), Some(remaining));
        // The first instant after now at which an exception's seats start
        // or stop counting, or the term ends.
        let next = extras
            .iter()
            .flat_map(|e| [Some(e.start), Some(e.end), e.revoked])
            .flatten()
            .filter(|h| *h > 0)
            .map(at)
            .chain(std::iter::once(DateTime::parse_from_rfc3339("2027-01-15T00:00:00Z").unwrap().with_timezone(&Utc)))
            .min()
            .unwrap();
        let expected = stamp(next);
        prop_assert_eq!(result["valid_until"].as_str(), Some(expected.as_str()));
    }
}
