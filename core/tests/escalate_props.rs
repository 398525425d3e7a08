//! Properties of `escalate` over random, valid case histories: a later
//! `now` never un-breaches a clock or lowers the level, and events after an
//! instant never rewrite what the clocks did before it.

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
const PHASES: [&str; 4] = ["investigation", "validation", "decision", "communication"];
const SEVERITIES: [&str; 4] = ["critical", "high", "normal", "low"];

fn opened() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-13T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Turns random steps into a valid history: each step waits `gap` minutes
/// and tries an event the case's state allows, skipping the others.
fn history(steps: &[(u32, u8, u8)], severities: bool) -> (Vec<Value>, DateTime<Utc>) {
    let mut t = opened();
    let mut events = Vec::new();
    let (mut waiting, mut resolved, mut phase) = (false, false, 0usize);
    for &(gap, kind, pick) in steps {
        t += TimeDelta::minutes(i64::from(gap));
        let at = stamp(t);
        let event = match kind % 12 {
            0 => Some(json!({"type": "agent_reply", "at": at})),
            1 => {
                waiting = false;
                Some(json!({"type": "customer_reply", "at": at}))
            }
            2 if !waiting && !resolved => {
                waiting = true;
                Some(json!({"type": "waiting_on_customer", "at": at}))
            }
            3 if waiting && !resolved => {
                waiting = false;
                Some(json!({"type": "resumed", "at": at}))
            }
            4 if !resolved && phase + 1 < PHASES.len() => {
                phase += 1;
                Some(json!({"type": "phase_entered", "at": at, "phase": PHASES[phase]}))
            }
            5 => Some(
                json!({"type": "evidence_received", "at": at, "evidence": "activation_records"}),
            ),
            6 => Some(json!({"type": "risk_signal", "at": at, "signal": "legal_threat"})),
            7 if !resolved => Some(json!({
                "type": "escalated", "at": at, "by": "support_lead", "level": 1 + u32::from(pick % 3)
            })),
            8 if !resolved && severities => Some(json!({
                "type": "override", "at": at, "by": "director",
                "severity": SEVERITIES[usize::from(pick % 4)]
            })),
            8 if !resolved => Some(json!({
                "type": "override", "at": at, "by": "director", "owner": "support_manager"
            })),
            9 if !resolved => {
                let until = stamp(t + TimeDelta::minutes(30 + 30 * i64::from(pick)));
                Some(
                    json!({"type": "escalation_paused", "at": at, "by": "director", "until": until}),
                )
            }
            10 if !resolved => {
                resolved = true;
                waiting = false;
                Some(json!({"type": "resolved", "at": at}))
            }
            11 if resolved => {
                resolved = false;
                phase = 0;
                Some(json!({"type": "reopened", "at": at}))
            }
            _ => None,
        };
        events.extend(event);
    }
    (events, t)
}

fn escalate(events: &[Value], now: DateTime<Utc>, tier: &str, seats: u32) -> Value {
    let mut license: Value = serde_json::from_str(LICENSE).unwrap();
    license["tier"] = json!(tier);
    let request = json!({
        "op": "escalate",
        "bundle": serde_json::from_str::<Value>(BUNDLE).unwrap(),
        "license": license,
        "now": stamp(now),
        "case": {
            "case": "case-prop",
            "category": "entitlement_mismatch",
            "opened_at": stamp(opened()),
            "bundle_version": "1.0.0",
            "customer_time_zone": "America/St_Johns",
            "impact": {"seats_affected": seats},
            "evidence": ["license_key"],
            "events": events,
        }
    });
    let answer: Value = serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap();
    assert_eq!(answer["outcome"], "ok", "{answer}");
    answer["result"].clone()
}

fn steps() -> impl Strategy<Value = Vec<(u32, u8, u8)>> {
    prop::collection::vec((0_u32..2_000, any::<u8>(), any::<u8>()), 0..25)
}

fn tiers() -> impl Strategy<Value = (&'static str, u32)> {
    (
        prop::sample::select(vec!["basic", "pro", "enterprise"]),
        prop::sample::select(vec![0_u32, 5, 60]),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The same events seen later: a breached clock stays breached at the
    /// same instant, an at-risk one stays at risk, the level never drops,
    /// and `ever_breached` never clears.
    #[test]
    fn a_later_now_never_unbreaches(steps in steps(), later in 0_i64..20_000, (tier, seats) in tiers()) {
        let (events, last) = history(&steps, true);
        let early = escalate(&events, last, tier, seats);
        let late = escalate(&events, last + TimeDelta::minutes(later), tier, seats);
        for (a, b) in early["clocks"].as_array().unwrap().iter().zip(late["clocks"].as_array().unwrap()) {
            prop_assert_eq!(&a["clock"], &b["clock"]);
            if a["breached"] == true {
                prop_assert_eq!(&b["breached"], &true, "{} un-breached", a["clock"]);
                prop_assert_eq!(&a["due_at"], &b["due_at"]);
            }
            if a["at_risk"] == true {
                prop_assert_eq!(&b["at_risk"], &true);
            }
            if a["breached_this_cycle"] == true {
                prop_assert_eq!(&b["breached_this_cycle"], &true);
            }
            prop_assert!(b["breaches"].as_u64() >= a["breaches"].as_u64());
        }
        prop_assert!(late["escalation"]["level"].as_u64() >= early["escalation"]["level"].as_u64());
        if early["ever_breached"] == true {
            prop_assert_eq!(&late["ever_breached"], &true);
        }
        // Nothing changes before the instant the answer said to look again.
        if let Some(next) = early["next_evaluation_at"].as_str() {
            let next = DateTime::parse_from_rfc3339(next).unwrap().with_timezone(&Utc);
            prop_assert!(next > last);
        }
    }

    /// What the clocks did before an instant does not depend on events
    /// after it (without severity overrides, which re-target the cycle).
    #[test]
    fn later_events_never_rewrite_the_past(steps in steps(), cut in 0_usize..25, (tier, seats) in tiers()) {
        let (events, last) = history(&steps, false);
        let cut = cut.min(events.len());
        let t1 = match cut {
            0 => opened(),
            n => DateTime::parse_from_rfc3339(events[n - 1]["at"].as_str().unwrap()).unwrap().with_timezone(&Utc),
        };
        let before: Vec<Value> = events.iter().filter(|e| {
            DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap().with_timezone(&Utc) <= t1
        }).cloned().collect();
        let early = escalate(&before, t1, tier, seats);
        let late = escalate(&events, last, tier, seats);
        if early["cycle"]["number"] == late["cycle"]["number"] {
            let t1 = stamp(t1);
            let past = |clock: &Value| -> Vec<Value> {
                clock["changes"].as_array().unwrap().iter()
                    .filter(|c| c["at"].as_str().unwrap() < t1.as_str()).cloned().collect()
            };
            for (a, b) in early["clocks"].as_array().unwrap().iter().zip(late["clocks"].as_array().unwrap()) {
                prop_assert_eq!(past(a), past(b), "clock {}", a["clock"]);
            }
            let changes = |v: &Value| -> Vec<Value> {
                v["escalation"]["changes"].as_array().unwrap().iter()
                    .filter(|c| c["at"].as_str().unwrap() < t1.as_str()).cloned().collect()
            };
            prop_assert_eq!(changes(&early), changes(&late));
        }
    }
}

/// Any sequence of events, in any order and state: every answer is an
/// envelope, and every error names a path inside the case.
fn arbitrary(steps: &[(i32, u8, u8)]) -> Vec<Value> {
    steps
        .iter()
        .map(|&(offset, kind, pick)| {
            let at = stamp(opened() + TimeDelta::minutes(i64::from(offset)));
            let until =
                stamp(opened() + TimeDelta::minutes(i64::from(offset) + i64::from(pick) - 100));
            let role = ["director", "support_lead", "nobody"][usize::from(pick % 3)];
            let phase = ["investigation", "decision", "nowhere"][usize::from(pick % 3)];
            let evidence = ["usage_export", "gossip"][usize::from(pick % 2)];
            let severity = ["critical", "urgent"][usize::from(pick % 2)];
            match kind % 13 {
                0 => json!({"type": "agent_reply", "at": at}),
                1 => json!({"type": "customer_reply", "at": at}),
                2 => json!({"type": "waiting_on_customer", "at": at}),
                3 => json!({"type": "resumed", "at": at}),
                4 => json!({"type": "phase_entered", "at": at, "phase": phase}),
                5 => json!({"type": "evidence_received", "at": at, "evidence": evidence}),
                6 => json!({"type": "risk_signal", "at": at, "signal": "legal_threat"}),
                7 => json!({"type": "escalated", "at": at, "by": role, "level": pick % 5}),
                8 => json!({"type": "override", "at": at, "by": role, "severity": severity}),
                9 => json!({"type": "escalation_paused", "at": at, "by": role, "until": until}),
                10 => json!({"type": "resolved", "at": at}),
                11 => json!({"type": "reopened", "at": at}),
                _ => json!({"type": "teleported", "at": at}),
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_history_gets_an_answer_or_errors_with_paths(
        steps in prop::collection::vec((-600_i32..6_000, any::<u8>(), any::<u8>()), 0..20),
        now in 0_i64..8_000,
    ) {
        let request = json!({
            "op": "escalate",
            "bundle": serde_json::from_str::<Value>(BUNDLE).unwrap(),
            "license": serde_json::from_str::<Value>(LICENSE).unwrap(),
            "now": stamp(opened() + TimeDelta::minutes(now)),
            "case": {
                "case": "case-any", "category": "entitlement_mismatch",
                "opened_at": stamp(opened()), "bundle_version": "1.0.0",
                "customer_time_zone": "Europe/London", "events": arbitrary(&steps),
            }
        });
        let answer: Value = serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap();
        match answer["outcome"].as_str() {
            Some("ok") => prop_assert!(answer["result"]["clocks"].is_array()),
            Some("error") => {
                for error in answer["errors"].as_array().unwrap() {
                    let path = error["path"].as_str().unwrap();
                    prop_assert!(path.starts_with("$.case"), "{error}");
                    prop_assert!(!error["help"].as_str().unwrap().is_empty());
                }
            }
            other => prop_assert!(false, "no outcome: {other:?}"),
        }
    }
}
