//! The compact check is the projection of the JSON check: random bundles
//! (quota periods, expiry policies, issue times), random licenses (tiers,
//! statuses, add-ons, terms, zones, anchors, issue times, offline windows,
//! up to three exceptions that start, expire and are revoked), random
//! usage (counts around the limits, crossings, periods of the count) and
//! random instants, decided both ways and compared field by field; and
//! the full answer expanded from the compact one compared with the JSON
//! entry's, byte for byte.
//!
//! CI runs `ENTITLE_COMPACT_CASES` cases (default 3000); the long run is
//! `ENTITLE_COMPACT_CASES=1000000 cargo test --release -p entitle-core --test compact_props`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::cell::RefCell;
use std::collections::HashMap;

use entitle_core::{
    CheckAnswer, CheckKind, CompactAnswer, CompactAsk, Envelope, LoadedBundle, Timestamp,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

fn example(name: &str) -> Value {
    let path = format!("{}/../examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An instant from seconds after 2025-01-01, with nanoseconds sometimes.
fn instant(seconds: i64, nanos: u32) -> String {
    let t = Timestamp::from_parts(1_735_689_600 + seconds, nanos).unwrap();
    t.to_string()
}

const FOUR_YEARS: i64 = 4 * 366 * 86_400;

#[derive(Debug, Clone)]
struct Docs {
    bundle: (usize, usize, Option<i64>),
    tier: usize,
    status: usize,
    addons: (bool, bool),
    term: (i64, i64),
    zone: usize,
    anchor_day: u32,
    issued_at: Option<i64>,
    offline: Option<(i64, i64)>,
    exceptions: Vec<(i64, i64, Option<i64>, usize, u64, u32)>,
}

#[derive(Debug, Clone)]
struct Ask {
    feature: usize,
    consume: bool,
    amount: u64,
    used: u64,
    crossed: Option<i64>,
    period_start: usize,
    now: (i64, u32),
    /// 0: `now` as drawn; 1 and 2: the start or the end of the period
    /// containing it; 3 and 4: the term's end or an exception's expiry.
    now_at: usize,
}

fn docs() -> impl Strategy<Value = Docs> {
    (
        (0usize..4, 0usize..3, proptest::option::of(0i64..FOUR_YEARS)),
        (0usize..3, 0usize..4, any::<(bool, bool)>()),
        (0i64..FOUR_YEARS, 3_600i64..(2 * 366 * 86_400)),
        (0usize..6, 1u32..32),
        (
            proptest::option::weighted(0.2, 0i64..FOUR_YEARS),
            proptest::option::weighted(0.2, (0i64..FOUR_YEARS, 1i64..FOUR_YEARS)),
        ),
        proptest::collection::vec(
            (
                0i64..FOUR_YEARS,
                1i64..(90 * 86_400),
                proptest::option::weighted(0.3, 0i64..FOUR_YEARS),
                0usize..4,
                0u64..300_000,
                0u32..200,
            ),
            0..4,
        ),
    )
        .prop_map(
            |(
                bundle,
                (tier, status, addons),
                term,
                (zone, anchor_day),
                (issued_at, offline),
                exceptions,
            )| Docs {
                bundle,
                tier,
                status,
                addons,
                term,
                zone,
                anchor_day,
                issued_at,
                offline,
                exceptions,
            },
        )
}

fn ask() -> impl Strategy<Value = Ask> {
    (
        (
            0usize..5,
            any::<bool>(),
            prop_oneof![0u64..5, 0u64..300_000, Just(u64::MAX)],
        ),
        (
            prop_oneof![0u64..20, 0u64..1_400_000, Just(u64::MAX)],
            proptest::option::weighted(0.3, 0i64..FOUR_YEARS),
        ),
        (
            0usize..3,
            0i64..FOUR_YEARS,
            prop_oneof![Just(0u32), 0u32..1_000_000_000],
        ),
        prop_oneof![3 => Just(0usize), 1 => 1usize..5],
    )
        .prop_map(
            |((feature, consume, amount), (used, crossed), (period_start, now, nanos), now_at)| {
                Ask {
                    now_at,
                    feature,
                    consume,
                    amount,
                    used,
                    crossed,
                    period_start,
                    now: (now, nanos),
                }
            },
        )
}

/// A bundle variant: the quota period, the expiry policy, the issue time.
type BundleKey = (usize, usize, Option<i64>);

fn bundle(variant: BundleKey) -> Value {
    let mut bundle = example("bundle");
    let period = ["day", "month", "year", "term"][variant.0];
    for tier in ["starter", "team", "enterprise"] {
        bundle["tiers"][tier]["quotas"]["api_calls"]["period"] = json!(period);
    }
    bundle["expiry"]["after_grace"] = [
        json!({"access": "revoke"}),
        json!({"access": "restrict", "features": ["audit_log", "api_calls"]}),
        json!({"access": "keep"}),
    ][variant.1]
        .clone();
    if let Some(issued) = variant.2 {
        bundle["issued_at"] = json!(instant(issued, 0));
    }
    bundle
}

fn license(d: &Docs) -> Value {
    let mut license = example("license");
    let tier = ["starter", "team", "enterprise"][d.tier];
    license["tier"] = json!(tier);
    license["status"] = json!(["active", "active", "suspended", "terminated"][d.status]);
    let mut addons = Vec::new();
    if d.addons.0 && tier != "enterprise" {
        addons.push("extra_calls");
    }
    if d.addons.1 && tier == "team" {
        addons.push("sso_pack");
    }
    license["addons"] = json!(addons);
    license["term"] =
        json!({"start": instant(d.term.0, 0), "end": instant(d.term.0 + d.term.1, 0)});
    license["time_zone"] = json!(
        [
            "Europe/London",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "America/Santiago",
            "UTC"
        ][d.zone]
    );
    license["anchor_date"] = json!(format!("2026-01-{:02}", d.anchor_day.min(31)));
    if let Some(issued) = d.issued_at {
        license["issued_at"] = json!(instant(issued, 0));
    }
    if let Some((from, length)) = d.offline {
        license["offline"] =
            json!({"not_before": instant(from, 0), "not_after": instant(from + length, 0)});
    }
    let exceptions: Vec<Value> = d
        .exceptions
        .iter()
        .enumerate()
        .map(|(i, (start, length, revoked, grants, extra, hours))| {
            let grants = match grants {
                0 => json!({"features": ["priority_support"]}),
                1 => json!({"quota_increments": {"api_calls": extra}}),
                2 => json!({"grace_hours": {"api_calls": hours}}),
                _ => json!({"features": ["sso", "audit_log"], "quota_increments": {"storage_gb": extra % 50}}),
            };
            let mut e = json!({
                "id": format!("exc_{i}"), "grants": grants,
                "starts_at": instant(*start, 0), "expires_at": instant(start + length, 0),
                "approver": "a", "reason": "r"
            });
            if let Some(revoked) = revoked {
                e["revoked_at"] = json!(instant(*revoked, 0));
            }
            e
        })
        .collect();
    license["exceptions"] = json!(exceptions);
    license
}

/// One case decided both ways; `Err` describes a disagreement.
fn decide(loaded: &mut LoadedBundle, d: &Docs, a: &Ask) -> Result<bool, String> {
    let license = license(d);
    let loaded_answer = loaded.load_license(license.to_string().as_bytes());
    if loaded_answer.contains(r#""outcome":"error""#) {
        return Ok(false);
    }
    let name = [
        "api_calls",
        "storage_gb",
        "sso",
        "audit_log",
        "priority_support",
    ][a.feature];
    let consume = a.consume && a.feature < 2;
    let kind = if consume {
        CheckKind::Consume
    } else {
        CheckKind::Feature
    };
    let compiled = loaded
        .compile("lic_7Q2M9", name, kind)
        .map_err(|e| format!("compile: {e}"))?;
    let mut now = Timestamp::parse(&instant(a.now.0, a.now.1)).unwrap();
    let metered = a.feature < 2;
    // Instants exactly on a boundary, where off-by-one mistakes show.
    let probe = CompactAsk {
        amount: 0,
        used: 0,
        soft_exceeded_at: None,
        period_start: None,
        now,
    };
    let period = compiled.check(&probe).ok().and_then(|c| c.quota);
    let boundary = match a.now_at {
        1 => period.map(|q| q.period_start),
        2 => period.map(|q| q.period_end),
        3 => Timestamp::parse(&instant(d.term.0 + d.term.1, 0)),
        4 => d
            .exceptions
            .first()
            .and_then(|(start, length, ..)| Timestamp::parse(&instant(start + length, 0))),
        _ => None,
    };
    now = boundary.unwrap_or(now);
    let soft_exceeded_at = a.crossed.map(|c| Timestamp::parse(&instant(c, 0)).unwrap());
    let mut ask = CompactAsk {
        now,
        amount: if consume { a.amount } else { 0 },
        used: if metered { a.used } else { 0 },
        soft_exceeded_at: if metered { soft_exceeded_at } else { None },
        period_start: None,
    };
    if metered && a.period_start > 0 {
        // The current period's start (as a record gives it), or another instant.
        ask.period_start = match a.period_start {
            1 => compiled
                .check(&CompactAsk {
                    used: 0,
                    soft_exceeded_at: None,
                    ..ask
                })
                .ok()
                .and_then(|c| c.quota.map(|q| q.period_start)),
            _ => Some(Timestamp::parse(&instant(a.now.0 / 2, 0)).unwrap()),
        };
    }
    let mut request = json!({"op": "check", "license": "lic_7Q2M9", "now": now.to_string()});
    if consume {
        request["metric"] = json!(name);
        request["amount"] = json!(ask.amount);
    } else {
        request["feature"] = json!(name);
    }
    if metered {
        let mut counted = json!({"used": ask.used});
        if let Some(at) = ask.soft_exceeded_at {
            counted["soft_exceeded_at"] = json!(at.to_string());
        }
        if let Some(at) = ask.period_start {
            counted["period_start"] = json!(at.to_string());
        }
        request["usage"] = json!({"metrics": {name: counted}});
    }
    let json = loaded.evaluate(request.to_string().as_bytes());
    let envelope: Envelope<'_, CheckAnswer> = serde_json::from_str(&json).unwrap();
    match (envelope.result(), compiled.check(&ask)) {
        (Some(answer), Ok(compact)) => {
            let projected = CompactAnswer::project(answer, compiled.bases())
                .ok_or_else(|| format!("no projection of {answer:?}"))?;
            if projected != compact {
                return Err(format!(
                    "{request}\n compact   {compact:?}\n projected {projected:?}"
                ));
            }
            // The full answer written from the compact one is the JSON
            // entry's, byte for byte.
            let expanded = loaded.expansion().check(&compiled, &ask).ok();
            if expanded.as_ref().map(|(c, _)| c) != Some(&compact) {
                return Err(format!(
                    "{request}\n compact {compact:?}\n in full {expanded:?}"
                ));
            }
            let expanded = expanded.map(|(_, envelope)| envelope);
            if expanded.as_deref() == Some(json.as_str()) {
                Ok(true)
            } else {
                Err(format!(
                    "{request}\n expanded {expanded:?}\n JSON     {json}"
                ))
            }
        }
        (None, Err(_)) => Ok(false),
        (Some(answer), Err(refusal)) => {
            Err(format!("{request}\n refused {refusal:?}, JSON {answer:?}"))
        }
        (None, Ok(compact)) => Err(format!("{request}\n answered {compact:?}, JSON {json}")),
    }
}

#[test]
fn the_compact_check_is_the_projection_of_the_json_check() {
    let cases: u32 = std::env::var("ENTITLE_COMPACT_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let bundles: RefCell<HashMap<BundleKey, LoadedBundle>> = RefCell::new(HashMap::new());
    let answered = RefCell::new((0u64, 0u64));
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(docs(), ask()), |(d, a)| {
        let mut bundles = bundles.borrow_mut();
        // A bundle issued at a random instant would make each bundle new: keep
        // a few issue times so that loads are reused.
        let key = (
            d.bundle.0,
            d.bundle.1,
            d.bundle.2.map(|t| t % 4 * (FOUR_YEARS / 4)),
        );
        let loaded = bundles
            .entry(key)
            .or_insert_with(|| LoadedBundle::load(bundle(key).to_string().as_bytes()).unwrap());
        let outcome = decide(loaded, &d, &a).map_err(TestCaseError::fail)?;
        let mut counts = answered.borrow_mut();
        counts.0 += 1;
        counts.1 += u64::from(outcome);
        Ok(())
    });
    let (ran, answered) = *answered.borrow();
    println!(
        "compact_props: {ran} cases, {answered} answered by both paths, the rest refused by both"
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    // Most generated checks are answered, not refused: the comparison bites.
    assert!(answered * 2 > ran, "{answered} of {ran} answered");
}
