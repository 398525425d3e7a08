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
