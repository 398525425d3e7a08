//! A compliance finding's case goes straight into `escalate`: the shape a
//! scan drafts is one the escalation matrix accepts and routes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use entitle_core::api::evaluate;
use serde_json::{json, Value};

const SUPPORT: &str = include_str!("../../tests/conformance/fixtures/support_bundle.json");
const COMPLIANCE: &str = include_str!("../../tests/conformance/fixtures/compliance_bundle.json");
const LICENSE: &str = include_str!("../../tests/conformance/fixtures/license.json");

fn answer(request: &Value) -> Value {
    serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap()
}

#[test]
fn every_finding_s_case_is_escalated_to_its_queue_owner() {
    let mut bundle: Value = serde_json::from_str(SUPPORT).unwrap();
    let merge: Value = serde_json::from_str(COMPLIANCE).unwrap();
    bundle["compliance"] = merge["$merge"]["compliance"].clone();
    let mut license: Value = serde_json::from_str(LICENSE).unwrap();
    license["seats"] = json!(10);
    // Twelve installations on ten seats (20 % over, past the 10 % threshold),
    // the last two never declared and seen for 18 days.
    let installations: Vec<Value> = (0..12)
        .map(|i| {
            json!({"id": format!("host-{i:02}"), "license": "lic-1001",
                        "first_seen": "2026-11-01T00:00:00Z", "last_seen": "2026-11-19T00:00:00Z"})
        })
        .collect();
    let deployments: Vec<Value> = (0..10)
        .map(|i| json!({"installation": format!("host-{i:02}"), "license": "lic-1001"}))
        .collect();
    let now = "2026-11-20T00:00:00Z";
    let scan = answer(&json!({
        "op": "scan", "bundle": bundle, "licenses": [license], "now": now,
        "deployments": deployments,
        "telemetry": {"installations": installations, "usage": []}, "events": []
    }));
    assert_eq!(scan["outcome"], "ok", "{scan}");
    let findings = scan["result"]["findings"].as_array().unwrap();
    let detectors: Vec<&str> = findings
        .iter()
        .map(|f| f["detector"].as_str().unwrap())
        .collect();
    assert!(detectors.contains(&"over_deployment"), "{detectors:?}");
    assert!(detectors.contains(&"undeclared"), "{detectors:?}");
    for finding in findings {
        let escalated = answer(&json!({
            "op": "escalate", "bundle": bundle, "license": license,
            "case": finding["case"], "now": now
        }));
        assert_eq!(escalated["outcome"], "ok", "{escalated}");
        let result = &escalated["result"];
        // The case lands in the finding's queue, owned by that category's owner.
        assert_eq!(result["category"], finding["queue"]);
        assert_eq!(result["owner"]["role"], finding["owner"]);
        assert!(result["severity"]["severity"].is_string());
    }
}
