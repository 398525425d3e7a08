//! `check` and `status` through the plain byte ABI in wasmtime, against the
//! same calls made natively in the same run: the ratio is the cost of
//! running the rules as wasm plus crossing into the module.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use entitle_host::{Native, WasmModule};

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
    for request in [&check, &status, &gateway] {
        assert_eq!(
            wasm.evaluate(request.as_bytes()).unwrap(),
            native.evaluate(request.as_bytes())
        );
    }

    let mut group = c.benchmark_group("engine");
    for (name, request) in [
        ("check_bundle_preloaded", &check),
        ("check_bundle_and_license_preloaded", &gateway),
        ("status_bundle_preloaded", &status),
    ] {
        group.bench_function(format!("native/{name}"), |b| {
            b.iter(|| native.evaluate(request.as_bytes()))
        });
        group.bench_function(format!("wasm/{name}"), |b| {
            b.iter(|| wasm.evaluate(request.as_bytes()).unwrap())
        });
    }
    // The crossing alone: a request refused at its first byte.
    group.bench_function("wasm/crossing_unknown_op", |b| {
        b.iter(|| wasm.evaluate(version.as_bytes()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
