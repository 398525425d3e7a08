//! The typed API answers what the JSON entry answers: for the same
//! documents and instant, `LoadedBundle::check` and `status` equal the
//! `result` of a `check` and a `status` request, and refusals carry the
//! same codes and paths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use entitle_core::{evaluate, Envelope, LoadedBundle, Timestamp};
use serde_json::{json, Value};

fn example(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn doc(name: &str) -> Value {
    serde_json::from_slice(&example(name)).unwrap()
}

/// The `result` of a JSON request, or its errors.
fn json_answer(request: Value) -> Result<Value, Value> {
    let text = evaluate(request.to_string().as_bytes());
    let envelope: Envelope<'_, Value> = serde_json::from_str(&text).unwrap();
    match envelope {
        Envelope::Ok(success) => Ok(success.result),
        Envelope::Error(failure) => Err(serde_json::to_value(failure.errors).unwrap()),
    }
}

const NOW: &str = "2026-11-22T10:00:00Z";

#[test]
fn typed_check_and_status_equal_the_json_results() {
    let bundle = LoadedBundle::read(&example("bundle.json")).unwrap();
    let license = bundle.license(&example("license.json")).unwrap();
    let usage = bundle.usage(&example("usage.json")).unwrap();
    let base = json!({"bundle": doc("bundle.json"), "license": doc("license.json"),
        "usage": doc("usage.json")});
    for now in [
        NOW,
        "2026-11-25T08:30:00Z",
        "2026-12-02T08:30:00Z",
        "2027-02-01T00:00:00Z",
    ] {
        let at = Timestamp::parse(now).unwrap();
        for feature in ["sso", "audit_log", "priority_support", "api_calls"] {
            let typed = bundle
                .check(&license, &usage, &bundle.ask_feature(feature).unwrap(), at)
                .unwrap();
            let mut request = base.clone();
            request["op"] = json!("check");
            request["now"] = json!(now);
            request["feature"] = json!(feature);
            assert_eq!(
                serde_json::to_value(&typed).unwrap(),
                json_answer(request).unwrap(),
                "{feature} at {now}"
            );
        }
        for amount in [1, 500, 501, 10_000] {
            let ask = bundle.ask_consume("api_calls", amount).unwrap();
            let typed = bundle.check(&license, &usage, &ask, at).unwrap();
            let mut request = base.clone();
            request["op"] = json!("check");
            request["now"] = json!(now);
            request["metric"] = json!("api_calls");
            request["amount"] = json!(amount);
            assert_eq!(
                serde_json::to_value(&typed).unwrap(),
                json_answer(request).unwrap(),
                "{amount} calls at {now}"
            );
        }
        for uptime in [None, Some("99.95"), Some("99.5"), Some("98")] {
            let typed = bundle.quote(&license, &usage, at, uptime).unwrap();
            let mut request = base.clone();
            request["op"] = json!("quote");
            request["now"] = json!(now);
            if let Some(uptime) = uptime {
                request["uptime"] = json!(uptime);
            }
            assert_eq!(
                serde_json::to_value(&typed).unwrap(),
                json_answer(request).unwrap(),
                "quote at {now} with uptime {uptime:?}"
            );
        }
        for to in ["starter", "enterprise"] {
            let typed = bundle.transition(&license, &usage, to, at).unwrap();
            let mut request = base.clone();
            request["op"] = json!("transition");
            request["now"] = json!(now);
            request["to"] = json!(to);
            assert_eq!(
                serde_json::to_value(&typed).unwrap(),
                json_answer(request).unwrap(),
                "transition to {to} at {now}"
            );
        }
        let typed = bundle.status(&license, &usage, at).unwrap();
        let mut request = base.clone();
        request["op"] = json!("status");
        request["now"] = json!(now);
        assert_eq!(
            serde_json::to_value(&typed).unwrap(),
            json_answer(request).unwrap(),
            "status at {now}"
        );
    }
}

#[test]
fn refusals_name_the_field_as_the_json_entry_does() {
    let bundle = LoadedBundle::read(&example("bundle.json")).unwrap();
    // Readings after `now` are refused by both, each at its path.
    let license = bundle.license(&example("license.json")).unwrap();
    let usage = bundle.usage(&example("usage.json")).unwrap();
    let early = "2026-11-01T00:00:00Z";
    let refused = bundle
        .status(&license, &usage, Timestamp::parse(early).unwrap())
        .unwrap_err();
    let request = json!({"op": "status", "bundle": doc("bundle.json"), "license": doc("license.json"),
        "usage": doc("usage.json"), "now": early});
    assert_eq!(
        serde_json::to_value(refused.errors()).unwrap(),
        json_answer(request).unwrap_err()
    );
    assert_eq!(refused.errors().len(), 8);
    let codes = |refused: entitle_core::Rejected| -> Vec<(String, String)> {
        refused
            .errors()
            .iter()
            .map(|e| (e.code.to_string(), e.path.to_string()))
            .collect()
    };
    assert_eq!(
        codes(bundle.ask_feature("teleport").unwrap_err()),
        [("unknown_feature".to_string(), "$.feature".to_string())]
    );
    assert_eq!(
        codes(bundle.ask_consume("sso", 1).unwrap_err()),
        [("not_metered".to_string(), "$.metric".to_string())]
    );
    let valid = bundle.license(&example("license.json")).unwrap();
    let usage = bundle.usage(&example("usage.json")).unwrap();
    let at = Timestamp::parse(NOW).unwrap();
    assert_eq!(
        codes(
            bundle
                .transition(&valid, &usage, "platinum", at)
                .unwrap_err()
        ),
        [("unknown_tier".to_string(), "$.to".to_string())]
    );
    // An ask built by hand is held to the bundle as one built by `ask_*`.
    let by_hand = entitle_core::Ask::Feature(serde_json::from_value(json!("teleport")).unwrap());
    assert_eq!(
        codes(bundle.check(&valid, &usage, &by_hand, at).unwrap_err()),
        [("unknown_feature".to_string(), "$.feature".to_string())]
    );
    let boolean = entitle_core::Ask::Consume {
        metric: serde_json::from_value(json!("sso")).unwrap(),
        amount: 1,
    };
    assert_eq!(
        codes(bundle.check(&valid, &usage, &boolean, at).unwrap_err()),
        [("not_metered".to_string(), "$.metric".to_string())]
    );
    // To its own tier: answered, and refused in the answer, not an error.
    let same = bundle.transition(&valid, &usage, "team", at).unwrap();
    assert_eq!(
        serde_json::to_value(&same).unwrap()["allowed"],
        json!(false)
    );
    assert_eq!(
        codes(bundle.quote(&valid, &usage, at, Some("101")).unwrap_err()),
        [("out_of_range".to_string(), "$.uptime".to_string())]
    );
    let mut license = doc("license.json");
    license["tier"] = json!("platinum");
    let refused = bundle.license(license.to_string().as_bytes()).unwrap_err();
    let mut request = json!({"op": "validate", "bundle": doc("bundle.json"), "license": license});
    let json_errors = json_answer(request.take()).unwrap_err();
    assert_eq!(serde_json::to_value(refused.errors()).unwrap(), json_errors);
    assert_eq!(
        codes(refused)[0],
        ("unknown_tier".to_string(), "$.license.tier".to_string())
    );
}

#[test]
fn documents_validated_against_another_bundle_are_refused() {
    let bundle = LoadedBundle::read(&example("bundle.json")).unwrap();
    let next = LoadedBundle::read(&example("bundle.next.json")).unwrap();
    assert_ne!(bundle.meta().hash, next.meta().hash);
    let license = next.license(&example("license.json")).unwrap();
    let usage = bundle.usage(&example("usage.json")).unwrap();
    let ask = bundle.ask_feature("sso").unwrap();
    let refused = bundle
        .check(&license, &usage, &ask, Timestamp::parse(NOW).unwrap())
        .unwrap_err();
    let first = &refused.errors()[0];
    assert_eq!(
        (first.code.as_str(), first.path.as_str()),
        ("bundle_version_mismatch", "$.license")
    );
    assert_eq!(refused.errors().len(), 1);
}
