//! Properties of service credits in `quote`: worse uptime never earns a
//! smaller credit, a credit never exceeds the recurring charges it is a
//! share of, and the credit is the basis times the band's share rounded
//! half-up once, worked out here in integer hundredths of a cent-percent.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use entitle_core::api::evaluate;
use proptest::prelude::*;
use serde_json::{json, Value};

/// A percentage given in hundredths (2_500 is 25.00), as the decimal string.
fn percent(hundredths: u32) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// A valid schedule: thresholds strictly falling, credits never falling.
fn schedule() -> impl Strategy<Value = Vec<(u32, u32)>> {
    (1usize..=4).prop_flat_map(|n| {
        (
            proptest::collection::btree_set(1u32..=10_000, n),
            proptest::collection::vec(1u32..=10_000, n),
        )
            .prop_map(|(thresholds, mut credits)| {
                credits.sort_unstable();
                thresholds.into_iter().rev().zip(credits).collect()
            })
    })
}

fn quote(bands: &[(u32, u32)], support: u32, uptime: u32) -> Value {
    let mut bundle: Value =
        serde_json::from_str(include_str!("../../tests/conformance/fixtures/bundle.json")).unwrap();
    bundle["tiers"]["pro"]["support_price"] =
        json!(format!("{}.{:02}", support / 100, support % 100));
    bundle["tiers"]["pro"]["service_credits"] = bands
        .iter()
        .map(|&(below, credit)| json!({"below": percent(below), "credit_percent": percent(credit)}))
        .collect();
    let license: Value = serde_json::from_str(include_str!(
        "../../tests/conformance/fixtures/license.json"
    ))
    .unwrap();
    let request = json!({
        "op": "quote", "bundle": bundle, "license": license, "usage": {"metrics": {}},
        "now": "2026-06-01T12:00:00Z", "uptime": percent(uptime),
    });
    let answer: Value = serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap();
    assert_eq!(answer["outcome"], "ok", "{answer}");
    answer["result"].clone()
}

fn credit_minor(result: &Value) -> i64 {
    result["service_credit"]["credit"]["minor"]
        .as_i64()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn worse_uptime_never_earns_less(
        bands in schedule(),
        support in 0u32..1_000_000,
        a in 0u32..=10_000,
        b in 0u32..=10_000,
    ) {
        let (worse, better) = (a.min(b), a.max(b));
        let low = quote(&bands, support, worse);
        let high = quote(&bands, support, better);
        prop_assert!(credit_minor(&low) >= credit_minor(&high), "{low}\n{high}");
    }

    #[test]
    fn the_credit_is_the_band_s_share_of_the_basis_rounded_half_up(
        bands in schedule(),
        support in 0u32..1_000_000,
        uptime in 0u32..=10_000,
    ) {
        let result = quote(&bands, support, uptime);
        // Pro's 50.00 base plus the support fee, in cents.
        let basis = 5_000 + i64::from(support);
        prop_assert_eq!(result["service_credit"]["basis"]["minor"].as_i64(), Some(basis));
        // The band: the lowest threshold the uptime is still under.
        let band = bands.iter().filter(|(below, _)| uptime < *below).min_by_key(|(below, _)| *below);
        let expected = band.map_or(0, |&(_, credit)| (basis * i64::from(credit) + 5_000) / 10_000);
        prop_assert_eq!(credit_minor(&result), expected, "{}", result);
        prop_assert!(expected <= basis);
        // What is owed is the recurring charges less the credit (no overage here).
        prop_assert_eq!(result["total"]["minor"].as_i64(), Some(basis - expected));
        let lines = result["lines"].as_array().unwrap();
        let credit_lines = lines.iter().filter(|l| l["kind"] == "service_credit").count();
        prop_assert_eq!(credit_lines, usize::from(expected > 0));
    }
}
