//! Native cost of the operations the gateway and the portal call most:
//! `check` and `status` against a preloaded bundle (the license loaded by
//! id too, for a metric and for a feature: the JSON fast path), and a
//! stateless `check` that parses the bundle every time.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use entitle_core::api::{evaluate, LoadedBundle};
use serde_json::{json, Value};

fn example(name: &str) -> Value {
    let path = format!("{}/../examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bench(c: &mut Criterion) {
    let bundle = example("bundle");
    let (license, usage) = (example("license"), example("usage"));
    let mut loaded = LoadedBundle::load(bundle.to_string().as_bytes()).unwrap();
    assert!(loaded
        .load_license(license.to_string().as_bytes())
        .contains("\"outcome\":\"ok\""));
    let gateway = json!({"op": "check", "license": "lic_7Q2M9", "now": "2026-11-22T10:00:00Z",
        "usage": {"metrics": {"api_calls": {"used": 131500, "soft_exceeded_at": "2026-11-20T14:05:00Z"}}},
        "metric": "api_calls", "amount": 1})
    .to_string();
    let gateway_feature =
        r#"{"op":"check","license":"lic_7Q2M9","now":"2026-11-22T10:00:00Z","feature":"sso"}"#;
    let now = "2026-11-22T10:00:00Z";
    let check = json!({"op": "check", "license": license, "usage": usage, "now": now,
        "metric": "api_calls", "amount": 1})
    .to_string();
    let feature = json!({"op": "check", "license": license, "usage": usage, "now": now,
        "feature": "sso"})
    .to_string();
    let status =
        json!({"op": "status", "license": license, "usage": usage, "now": now}).to_string();
    let stateless = json!({"op": "check", "bundle": bundle, "license": license, "usage": usage,
        "now": now, "metric": "api_calls", "amount": 1})
    .to_string();
    assert!(loaded
        .evaluate(check.as_bytes())
        .contains("\"outcome\":\"ok\""));
    assert!(loaded
        .evaluate(status.as_bytes())
        .contains("\"outcome\":\"ok\""));

    let mut group = c.benchmark_group("native");
    group.bench_function("check_metric_license_preloaded", |b| {
        b.iter(|| loaded.evaluate(gateway.as_bytes()))
    });
    group.bench_function("check_feature_license_preloaded", |b| {
        b.iter(|| loaded.evaluate(gateway_feature.as_bytes()))
    });
    group.bench_function("check_metric_preloaded", |b| {
        b.iter(|| loaded.evaluate(check.as_bytes()))
    });
    group.bench_function("check_feature_preloaded", |b| {
        b.iter(|| loaded.evaluate(feature.as_bytes()))
    });
    group.bench_function("status_preloaded", |b| {
        b.iter(|| loaded.evaluate(status.as_bytes()))
    });
    group.bench_function("check_stateless", |b| {
        b.iter(|| evaluate(stateless.as_bytes()))
    });
    group.finish();

    // The rules alone, on documents already parsed: what JSON costs is the rest.
    let bundle_doc: entitle_core::model::bundle::Bundle =
        serde_json::from_value(bundle.clone()).unwrap();
    let license_doc: entitle_core::model::license::License =
        serde_json::from_value(license.clone()).unwrap();
    let usage_doc: entitle_core::model::license::Usage =
        serde_json::from_value(usage.clone()).unwrap();
    let now = entitle_core::model::time::Timestamp::parse(now).unwrap();
    let ask = entitle_core::entitlement::check::Ask::Consume {
        metric: serde_json::from_value(json!("api_calls")).unwrap(),
        amount: 1,
    };
    let mut rules = c.benchmark_group("rules");
    rules.bench_function("check_metric", |b| {
        b.iter(|| {
            entitle_core::entitlement::check::check(
                &bundle_doc,
                &license_doc,
                &usage_doc,
                &ask,
                now,
            )
        })
    });
    rules.finish();

    // The typed API on documents read once: the rules, the usage of the
    // current period and the answer as a value, with no JSON either way.
    let typed = LoadedBundle::read(bundle.to_string().as_bytes()).unwrap();
    let valid_license = typed.license(license.to_string().as_bytes()).unwrap();
    let valid_usage = typed.usage(usage.to_string().as_bytes()).unwrap();
    let consume = typed.ask_consume("api_calls", 1).unwrap();
    let sso = typed.ask_feature("sso").unwrap();
    let mut group = c.benchmark_group("typed");
    group.bench_function("check_metric", |b| {
        b.iter(|| typed.check(&valid_license, &valid_usage, &consume, now))
    });
    group.bench_function("check_feature", |b| {
        b.iter(|| typed.check(&valid_license, &valid_usage, &sso, now))
    });
    group.bench_function("status", |b| {
        b.iter(|| typed.status(&valid_license, &valid_usage, now))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
