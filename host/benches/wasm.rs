//! `check` and `status` through the plain byte ABI in wasmtime, against the
//! same calls made natively in the same run: the ratio is the cost of
//! running the rules as wasm plus crossing into the module.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use criterion::{criterion_group, criterion_main, Criterion};
use entitle_host::{Limits, Native, WasmModule};

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn bench(c: &mut Criterion) {
    let module = WasmModule::load(format!(
        "{}/../dist/entitle.wasm",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("run `cargo xtask build-wasm` first");
    let (bundle, license, usage) = (
        read("examples/bundle.json"),
        read("examples/license.json"),
        read("examples/usage.json"),
    );
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    let now = "2026-11-22T10:00:00Z";
    let check = format!(
        r#"{{"op":"check","license":{},"usage":{},"now":"{now}","metric":"api_calls","amount":1}}"#,
        text(&license),
        text(&usage)
    );
    let status = format!(
        r#"{{"op":"status","license":{},"usage":{},"now":"{now}"}}"#,
        text(&license),
        text(&usage)
    );
    let gateway = format!(
        r#"{{"op":"check","license":"lic_7Q2M9","now":"{now}","usage":{{"metrics":{{"api_calls":{{"used":131500,"soft_exceeded_at":"2026-11-20T14:05:00Z"}}}}}},"metric":"api_calls","amount":1}}"#
    );
    let gateway_feature =
        format!(r#"{{"op":"check","license":"lic_7Q2M9","now":"{now}","feature":"sso"}}"#);
    let version = r#"{"op":"version"}"#;

    let (wasm, _) = module.load_bundle(&bundle).unwrap();
    let mut wasm = wasm.expect("the demo bundle loads");
    assert!(wasm
        .load_license(&license)
        .unwrap()
        .contains(r#""outcome":"ok""#));
    let (native, _) = Native::new().load_bundle(&bundle);
    let mut native = native.expect("the demo bundle loads");
    assert!(native.load_license(&license).contains(r#""outcome":"ok""#));
    for request in [&check, &status, &gateway, &gateway_feature] {
        assert_eq!(
            wasm.evaluate(request.as_bytes()).unwrap(),
            native.evaluate(request.as_bytes())
        );
    }

    // Signed documents: a bundle loaded signed, and a license verified on
    // each request (Ed25519 over its 414 bytes) or by id once loaded.
    let fixtures = "tests/conformance/fixtures";
    let keys = read(&format!("{fixtures}/keys/keys.json"));
    let signed_bundle = read(&format!("{fixtures}/signature/bundle.envelope.json"));
    let signed_license = text(&read(&format!(
        "{fixtures}/signature/license.envelope.json"
    )));
    let (signed_wasm, _) = module.load_signed_bundle(&signed_bundle, &keys).unwrap();
    let mut signed_wasm = signed_wasm.expect("the signed conformance bundle loads");
    let (signed_native, _) = Native::new().load_signed_bundle(&signed_bundle, &keys);
    let signed_native = signed_native.expect("the signed conformance bundle loads");
    let verify = format!(r#"{{"op":"verify","document":{signed_license}}}"#);
    let signed_check = format!(
        r#"{{"op":"check","license":{signed_license},"now":"2026-06-01T12:00:00Z","feature":"audit_log"}}"#
    );
    for request in [&verify, &signed_check] {
        let answer = signed_native.evaluate(request.as_bytes());
        assert!(answer.contains(r#""outcome":"ok""#), "{answer}");
        assert_eq!(signed_wasm.evaluate(request.as_bytes()).unwrap(), answer);
    }

    let mut group = c.benchmark_group("engine");
    for (name, request) in [
        ("verify_signed_license", &verify),
        ("check_signed_license_inline", &signed_check),
    ] {
        group.bench_function(format!("native/{name}"), |b| {
            b.iter(|| signed_native.evaluate(request.as_bytes()))
        });
        group.bench_function(format!("wasm/{name}"), |b| {
            b.iter(|| signed_wasm.evaluate(request.as_bytes()).unwrap())
        });
    }
    for (name, request) in [
        ("check_bundle_preloaded", &check),
        ("check_bundle_and_license_preloaded", &gateway),
        (
            "check_feature_bundle_and_license_preloaded",
            &gateway_feature,
        ),
        ("status_bundle_preloaded", &status),
    ] {
        group.bench_function(format!("native/{name}"), |b| {
            b.iter(|| native.evaluate(request.as_bytes()))
        });
        group.bench_function(format!("wasm/{name}"), |b| {
            b.iter(|| wasm.evaluate(request.as_bytes()).unwrap())
        });
    }
    // A support case with 50 events over three weeks, against the support
    // fixture bundle preloaded: `escalate` replays every event each time.
    let support = read(&format!("{fixtures}/support_bundle.json"));
    let (esc_wasm, _) = module.load_bundle(&support).unwrap();
    let mut esc_wasm = esc_wasm.expect("the support bundle loads");
    let (esc_native, _) = Native::new().load_bundle(&support);
    let esc_native = esc_native.expect("the support bundle loads");
    let escalate = escalate_request(&text(&read(&format!("{fixtures}/license.json"))));
    let answer = esc_native.evaluate(escalate.as_bytes());
    assert!(answer.contains(r#""outcome":"ok""#), "{answer}");
    assert_eq!(esc_wasm.evaluate(escalate.as_bytes()).unwrap(), answer);
    group.bench_function("native/escalate_50_events", |b| {
        b.iter(|| esc_native.evaluate(escalate.as_bytes()))
    });
    group.bench_function("wasm/escalate_50_events", |b| {
        b.iter(|| esc_wasm.evaluate(escalate.as_bytes()).unwrap())
    });
    // A year of business time on the London office calendar (Mon-Fri
    // 09:00-17:00, Christmas closures): 261 weekdays x 8 h from the first
    // Monday of 2026, walked day by day.
    let year = r#"{"op":"business_time","action":"add","calendar":"london_office","at":"2026-01-05T09:00:00Z","seconds":7516800}"#;
    let answer = esc_native.evaluate(year.as_bytes());
    assert!(answer.contains(r#""outcome":"ok""#), "{answer}");
    assert_eq!(esc_wasm.evaluate(year.as_bytes()).unwrap(), answer);
    group.bench_function("native/business_time_add_one_year", |b| {
        b.iter(|| esc_native.evaluate(year.as_bytes()))
    });
    group.bench_function("wasm/business_time_add_one_year", |b| {
        b.iter(|| esc_wasm.evaluate(year.as_bytes()).unwrap())
    });
    group.finish();

    // A year replayed: 10,000 consuming events of 35 calls, about one every
    // 53 minutes, against a soft 10,000-a-month quota, so each month runs
    // into grace and then refusals; two checks watched.
    let license_text = text(&read(&format!("{fixtures}/license.json")));
    let year_scenario = year_request(&license_text);
    let answer = esc_native.evaluate(year_scenario.as_bytes());
    assert!(
        answer.contains(r#""outcome":"ok""#),
        "{}",
        &answer[..answer.len().min(400)]
    );
    assert_eq!(esc_wasm.evaluate(year_scenario.as_bytes()).unwrap(), answer);
    let mut replay = c.benchmark_group("replay");
    replay.sample_size(10);
    replay.bench_function("native/simulate_year_10000_events", |b| {
        b.iter(|| esc_native.evaluate(year_scenario.as_bytes()))
    });
    replay.bench_function("wasm/simulate_year_10000_events", |b| {
        b.iter(|| esc_wasm.evaluate(year_scenario.as_bytes()).unwrap())
    });
    // A scan of 10,000 installations on 100 enterprise licenses of 90 seats
    // (100 installations each: every license over-deployed by 10, two per
    // license undeclared) and ten 90-day usage series.
    let mut compliance_bundle: serde_json::Value =
        serde_json::from_slice(&read(&format!("{fixtures}/support_bundle.json"))).unwrap();
    let merge: serde_json::Value =
        serde_json::from_slice(&read(&format!("{fixtures}/compliance_bundle.json"))).unwrap();
    compliance_bundle["compliance"] = merge["$merge"]["compliance"].clone();
    let compliance_bytes = compliance_bundle.to_string().into_bytes();
    // A scan this size is a batch job, not a gateway call: it gets ten
    // seconds instead of the default one.
    let batch = WasmModule::load(format!(
        "{}/../dist/entitle.wasm",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .with_limits(Limits {
        timeout: std::time::Duration::from_secs(10),
        ..Limits::default()
    });
    let (scan_wasm, _) = batch.load_bundle(&compliance_bytes).unwrap();
    let mut scan_wasm = scan_wasm.expect("the compliance bundle loads");
    let (scan_native, _) = Native::new().load_bundle(&compliance_bytes);
    let scan_native = scan_native.expect("the compliance bundle loads");
    let scan = scan_request(&license_text);
    let answer = scan_native.evaluate(scan.as_bytes());
    assert!(
        answer.contains(r#""outcome":"ok""#),
        "{}",
        &answer[..answer.len().min(400)]
    );
    assert_eq!(scan_wasm.evaluate(scan.as_bytes()).unwrap(), answer);
    replay.bench_function("native/scan_10000_installations", |b| {
        b.iter(|| scan_native.evaluate(scan.as_bytes()))
    });
    replay.bench_function("wasm/scan_10000_installations", |b| {
        b.iter(|| scan_wasm.evaluate(scan.as_bytes()).unwrap())
    });
    replay.finish();
    let mut group = c.benchmark_group("engine");
    // The crossing alone: a request refused at its first byte.
    group.bench_function("wasm/crossing_unknown_op", |b| {
        b.iter(|| wasm.evaluate(version.as_bytes()).unwrap())
    });
    group.finish();
}

/// An `escalate` request for a case with exactly 50 events: replies,
/// waits on the customer over nights and a weekend, phases, evidence, a
/// risk signal, a resolution and a reopening.
fn escalate_request(license: &str) -> String {
    let mut events = Vec::new();
    let mut minutes = 0u32;
    let at = |m: u32| {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-16T10:00:00Z").unwrap()
            + chrono::TimeDelta::minutes(i64::from(m));
        t.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    };
    let phases = ["validation", "decision", "communication"];
    for i in 0..50u32 {
        minutes += 37 + (i % 7) * 53;
        let t = at(minutes);
        let event = match i {
            12 | 24 | 36 => format!(
                r#"{{"type":"phase_entered","at":"{t}","phase":"{}"}}"#,
                phases[(i / 12 - 1) as usize]
            ),
            18 => format!(
                r#"{{"type":"evidence_received","at":"{t}","evidence":"activation_records"}}"#
            ),
            30 => format!(r#"{{"type":"risk_signal","at":"{t}","signal":"legal_threat"}}"#),
            45 => format!(r#"{{"type":"resolved","at":"{t}"}}"#),
            46 => format!(r#"{{"type":"reopened","at":"{t}"}}"#),
            _ => match i % 3 {
                0 => format!(r#"{{"type":"agent_reply","at":"{t}"}}"#),
                1 => format!(r#"{{"type":"waiting_on_customer","at":"{t}"}}"#),
                _ => format!(r#"{{"type":"customer_reply","at":"{t}"}}"#),
            },
        };
        events.push(event);
    }
    assert_eq!(events.len(), 50);
    format!(
        r#"{{"op":"escalate","license":{license},"now":"{}","case":{{"case":"case-bench","category":"entitlement_mismatch","opened_at":"2026-11-16T10:00:00Z","bundle_version":"1.0.0","customer_time_zone":"Europe/London","impact":{{"seats_affected":5}},"evidence":["license_key"],"events":[{}]}}}}"#,
        at(minutes + 60),
        events.join(",")
    )
}

/// A `scan` request: 100 licenses, 10,000 installations, ten 90-day series.
fn scan_request(license: &str) -> String {
    let base: serde_json::Value = serde_json::from_str(license).unwrap();
    let mut licenses = Vec::new();
    let mut deployments = Vec::new();
    let mut installations = Vec::new();
    for l in 0..100 {
        let id = format!("lic-{l:03}");
        let mut license = base.clone();
        license["license"] = id.clone().into();
        license["tier"] = "enterprise".into();
        license["seats"] = 90.into();
        licenses.push(license);
        for i in 0..100 {
            let installation = format!("{id}-host-{i:03}");
            if i >= 2 {
                deployments.push(serde_json::json!({"installation": installation, "license": id}));
            }
            installations.push(serde_json::json!({
                "id": installation, "license": id,
                "first_seen": "2026-09-01T00:00:00Z", "last_seen": "2026-11-19T00:00:00Z"
            }));
        }
    }
    let start = chrono::NaiveDate::from_ymd_opt(2026, 8, 22).unwrap();
    let usage: Vec<serde_json::Value> = (0..10)
        .map(|l| {
            let points: Vec<serde_json::Value> = (0..90u64)
                .map(|d| {
                    let date = start + chrono::TimeDelta::days(i64::try_from(d).unwrap());
                    serde_json::json!({"date": date.to_string(), "value": 1_000 + (d * 37) % 400})
                })
                .collect();
            serde_json::json!({"license": format!("lic-{l:03}"), "metric": "api_calls", "points": points})
        })
        .collect();
    serde_json::json!({
        "op": "scan", "now": "2026-11-20T00:00:00Z", "licenses": licenses,
        "deployments": deployments,
        "telemetry": {"installations": installations, "usage": usage},
        "events": []
    })
    .to_string()
}

/// A `simulate` request replaying one year with 10,000 usage events.
fn year_request(license: &str) -> String {
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-15T00:00:00Z").unwrap();
    let events: Vec<String> = (0..10_000i64)
        .map(|i| {
            let at = (start + chrono::TimeDelta::seconds(60 + i * 3_153)).to_utc();
            format!(
                r#"{{"type":"usage","at":"{}","metric":"api_calls","amount":35}}"#,
                at.format("%Y-%m-%dT%H:%M:%SZ")
            )
        })
        .collect();
    format!(
        r#"{{"op":"simulate","license":{license},"scenario":{{"scenario":"a year","from":"2026-01-15T00:00:00Z","until":"2027-01-15T00:00:00Z","watch":{{"features":["audit_log"],"metrics":["api_calls"]}},"events":[{}]}}}}"#,
        events.join(",")
    )
}

criterion_group!(benches, bench);
criterion_main!(benches);
