//! Properties of `status`'s plan advice: the cheapest plan is the least of
//! the options' plans, every plan said to cover really holds the usage,
//! the features and the seats, and more usage never makes a tier cover
//! that did not.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use entitle_core::api::evaluate;
use proptest::prelude::*;
use serde_json::{json, Value};

const METRICS: [&str; 3] = ["api_calls", "exports", "storage_gb"];
const TIERS: [&str; 3] = ["basic", "pro", "enterprise"];

/// The corpus bundle with Pro's price varied (so ties and cheaper higher
/// tiers occur) and a third add-on of varied price, tiers and increments.
fn bundle(pro_price: &str, extra: &AddonSpec) -> Value {
    let mut b: Value =
        serde_json::from_str(include_str!("../../tests/conformance/fixtures/bundle.json")).unwrap();
    b["tiers"]["pro"]["price"] = json!(pro_price);
    let tiers: Vec<&str> = TIERS
        .iter()
        .zip(extra.tiers)
        .filter(|(_, on)| *on)
        .map(|(t, _)| *t)
        .collect();
    let mut increments = serde_json::Map::new();
    if extra.calls > 0 {
        increments.insert("api_calls".into(), json!(extra.calls));
    }
    if extra.storage > 0 {
        increments.insert("storage_gb".into(), json!(extra.storage));
    }
    let mut addon = json!({"price": format!("{}.00", extra.price), "tiers": tiers, "quota_increments": increments});
    if extra.sso {
        addon["features"] = json!(["sso"]);
    }
    b["addons"]["bulk_pack"] = addon;
    b
}

#[derive(Debug, Clone)]
struct AddonSpec {
    price: u32,
    tiers: [bool; 3],
    calls: u64,
    storage: u64,
    sso: bool,
}

fn addon_spec() -> impl Strategy<Value = AddonSpec> {
    (
        1u32..300,
        any::<[bool; 3]>().prop_filter("fits a tier", |t| t.iter().any(|b| *b)),
        prop_oneof![Just(0u64), 1u64..20_000],
        prop_oneof![Just(0u64), 1u64..1_000],
        any::<bool>(),
    )
        .prop_map(|(price, tiers, calls, storage, sso)| AddonSpec {
            price,
            tiers,
            calls,
            storage,
            sso,
        })
}

/// A valid license: a tier, seats within its maximum, add-ons that fit it.
#[derive(Debug, Clone)]
struct Setup {
    tier: usize,
    seats: u64,
    addons: [bool; 3],
    active: u64,
    usage: [u64; 3],
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        0usize..3,
        1u64..40,
        any::<[bool; 3]>(),
        0u64..40,
        (0u64..20_000, 0u64..80, 0u64..1_500),
    )
        .prop_map(|(tier, seats, addons, active, (a, e, s))| Setup {
            tier,
            seats,
            addons,
            active,
            usage: [a, e, s],
        })
}

fn status(bundle: &Value, setup: &Setup, usage: [u64; 3]) -> Value {
    let tier = TIERS[setup.tier];
    let max = bundle["tiers"][tier]["max_seats"]
        .as_u64()
        .unwrap_or(u64::MAX);
    let addons: Vec<&str> = ["extra_calls", "sso_pack", "bulk_pack"]
        .iter()
        .zip(setup.addons)
        .filter(|(id, on)| {
            *on && bundle["addons"][**id]["tiers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == tier)
        })
        .map(|(id, _)| *id)
        .collect();
    let counts: BTreeMap<&str, u64> = METRICS.iter().copied().zip(usage).collect();
    let request = json!({
        "op": "status",
        "bundle": bundle,
        "license": {"license": "lic-1", "customer": "cus-1", "tier": tier, "addons": addons,
                    "seats": setup.seats.min(max),
                    "term": {"start": "2026-01-15T00:00:00Z", "end": "2027-01-15T00:00:00Z"},
                    "status": "active", "time_zone": "UTC", "anchor_date": "2026-01-15", "exceptions": []},
        "usage": {"metrics": {}, "active_seats": setup.active},
        "now": "2026-06-01T12:00:00Z",
        "what_if": {"usage": counts},
    });
    let answer: Value = serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap();
    assert_eq!(answer["outcome"], "ok", "{answer}");
    answer["result"].clone()
}

/// Checks a plan against the answer's own description of tiers and add-ons:
/// every metric used within the tier's limit plus the plan's increments,
/// every feature the current plan grants granted by the tier or an add-on,
/// and the seats within the tier's maximum.
fn assert_covers(result: &Value, option: &Value, plan: &Value) {
    let addons: Vec<&Value> = plan["addons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| {
            result["plans"]["addons"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["addon"] == *id)
                .unwrap()
        })
        .collect();
    for quota in result["quotas"].as_array().unwrap() {
        let used = quota["used"].as_u64().unwrap();
        if used == 0 {
            continue;
        }
        let metric = quota["metric"].as_str().unwrap();
        let own = option["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["metric"] == metric)
            .unwrap_or_else(|| panic!("{metric} used but {} sets no quota", option["tier"]));
        if let Some(limit) = own["limit"].as_u64() {
            let extra: u64 = addons
                .iter()
                .filter_map(|a| a["quota_increments"][metric].as_u64())
                .sum();
            assert!(
                used <= limit + extra,
                "{metric}: {used} over {limit} + {extra} on {plan}"
            );
        }
    }
    for feature in result["features"].as_array().unwrap() {
        let kept = feature["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "tier" || s["kind"] == "addon");
        if !kept {
            continue;
        }
        let id = &feature["feature"];
        let granted = option["features"].as_array().unwrap().contains(id)
            || addons
                .iter()
                .any(|a| a["features"].as_array().unwrap().contains(id));
        assert!(granted, "{id} not kept by {plan}");
    }
    let seats = result["license"]["seats"]["entitled"]
        .as_u64()
        .unwrap()
        .max(result["license"]["seats"]["active"].as_u64().unwrap());
    if let Some(max) = option["max_seats"].as_u64() {
        assert!(seats <= max, "{seats} seats on {plan}, max {max}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn cheapest_is_least_and_plans_cover(
        pro_price in prop::sample::select(vec!["10.00", "50.00", "65.00", "200.00"]),
        extra in addon_spec(),
        setup in setup(),
    ) {
        let bundle = bundle(pro_price, &extra);
        let result = status(&bundle, &setup, setup.usage);
        let plans = &result["plans"];
        let options = plans["options"].as_array().unwrap();
        prop_assert_eq!(options.len(), 3);
        let ranks: Vec<u64> = options.iter().map(|o| o["rank"].as_u64().unwrap()).collect();
        prop_assert_eq!(ranks, vec![1, 2, 3]);
        let covering: Vec<&Value> = options.iter().filter(|o| o["covers"] == true).collect();
        match plans["cheapest"].as_object() {
            None => prop_assert!(covering.is_empty()),
            Some(_) => {
                let least = plans["cheapest"]["total"]["minor"].as_i64().unwrap();
                prop_assert!(covering.iter().any(|o| o["plan"] == plans["cheapest"]));
                for option in &covering {
                    prop_assert!(least <= option["plan"]["total"]["minor"].as_i64().unwrap());
                }
            }
        }
        for option in options {
            if option["covers"] == true {
                assert_covers(&result, option, &option["plan"]);
                prop_assert!(option.get("gaps").is_none());
            } else {
                prop_assert!(option["plan"].is_null());
                prop_assert!(!option["gaps"].as_array().unwrap().is_empty());
            }
        }
    }

    #[test]
    fn more_usage_never_makes_a_tier_cover(
        extra in addon_spec(),
        setup in setup(),
        metric in 0usize..3,
        more in 1u64..5_000,
    ) {
        let bundle = bundle("50.00", &extra);
        let before = status(&bundle, &setup, setup.usage);
        let mut raised = setup.usage;
        raised[metric] += more;
        let after = status(&bundle, &setup, raised);
        let options = |r: &Value| r["plans"]["options"].as_array().unwrap().clone();
        for (b, a) in options(&before).iter().zip(options(&after)) {
            prop_assert_eq!(&b["tier"], &a["tier"]);
            if b["covers"] == false {
                prop_assert!(a["covers"] == false, "{} covers {} more units of {}", a["tier"], more, METRICS[metric]);
            }
        }
    }
}
