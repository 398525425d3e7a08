//! One feature gate and one metered gate, decided in one run by entitle
//! (typed API, JSON entry natively and in wasmtime, compact check natively
//! and in wasmtime), Cedar, regorus and a hand-written `if`. Before anything is timed every engine must give
//! the decision worked out by hand for each of `entitle_peers::cases()`.
//!
//! `cargo bench --manifest-path bench/peers/Cargo.toml`: each iteration
//! timed on the thread's CPU clock (`PEERS_WALL_CLOCK=1` for wall time).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::Measurement;
use criterion::{criterion_group, Criterion};
use entitle_core::{Ask, CheckKind, CompactAsk, Decision, LoadedBundle, Timestamp, ValidLicense};
use entitle_host::WasmModule;
use entitle_peers::cedar::CedarGate;
use entitle_peers::cpu::ThreadCpuTime;
use entitle_peers::plain::PlainGate;
use entitle_peers::rego::RegoGate;
use entitle_peers::wasm::RawInstance;
use entitle_peers::{cases, Documents, Gate, Input};

/// `decision` of a JSON answer: whether it allows (`allow_in_grace` never
/// occurs with these documents, and is refused here).
fn json_allows(answer: &str) -> bool {
    let value: serde_json::Value = serde_json::from_str(answer).unwrap();
    match value["result"]["decision"].as_str() {
        Some("allow") => true,
        Some("deny") => false,
        _ => panic!("not a plain decision: {answer}"),
    }
}

fn ask(bundle: &LoadedBundle, input: &Input) -> Ask {
    match input.gate {
        Gate::Feature(feature) => bundle.ask_feature(feature).unwrap(),
        Gate::Consume { metric, amount, .. } => bundle.ask_consume(metric, amount).unwrap(),
    }
}

/// The compact check's handle kind, and its name (feature or metric).
fn compact_kind(input: &Input) -> (CheckKind, &'static str) {
    match input.gate {
        Gate::Feature(feature) => (CheckKind::Feature, feature),
        Gate::Consume { metric, .. } => (CheckKind::Consume, metric),
    }
}

/// The compact ask for `input`: no count is sent for a boolean feature.
fn compact_ask(input: &Input, now: Timestamp) -> CompactAsk {
    let (amount, used) = match input.gate {
        Gate::Feature(_) => (0, 0),
        Gate::Consume { amount, used, .. } => (amount, used),
    };
    CompactAsk {
        amount,
        used,
        soft_exceeded_at: None,
        period_start: None,
        now,
    }
}

/// `entitle_compact_resolve`'s kind: 0 feature, 1 consuming.
fn abi_kind(kind: CheckKind) -> u32 {
    match kind {
        CheckKind::Feature => 0,
        CheckKind::Consume => 1,
    }
}

fn bench<M: Measurement>(c: &mut Criterion<M>) {
    let documents = Documents::read();
    let facts = documents.facts();

    // (a) and (b): entitle natively, one bundle read once, every license
    // read once for the typed calls and loaded once for the JSON entry.
    let mut bundle = LoadedBundle::read(&documents.bundle).unwrap();
    let mut licenses: HashMap<String, ValidLicense> = HashMap::new();
    for license in &documents.licenses {
        let valid = bundle.license(license).unwrap();
        licenses.insert(valid.id().to_string(), valid);
        let loaded = bundle.load_license(license);
        assert!(loaded.contains(r#""outcome":"ok""#), "{loaded}");
    }
    let bundle = bundle;
    // (c): the module in wasmtime through entitle-host's wrapper, one
    // reused instance with the bundle and licenses loaded once; and the same
    // calls made directly through wasmtime.
    let module = WasmModule::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../dist/entitle.wasm"
    ))
    .expect("run `cargo xtask build-wasm` first");
    let (wasm, described) = module.load_bundle(&documents.bundle).unwrap();
    let mut wasm = wasm.unwrap_or_else(|| panic!("{described}"));
    for license in &documents.licenses {
        let loaded = wasm.load_license(license).unwrap();
        assert!(loaded.contains(r#""outcome":"ok""#), "{loaded}");
    }
    let mut raw = RawInstance::new(&documents.bundle, &documents.licenses);
    // A module built from an earlier commit (`PEERS_BASELINE_WASM=path`):
    // its JSON entry is timed beside today's, in the same run.
    let mut baseline = std::env::var("PEERS_BASELINE_WASM")
        .ok()
        .map(|path| RawInstance::of_module(&path, &documents.bundle, &documents.licenses));
    // (d), (e), (f).
    let cedar = CedarGate::new(&facts);
    let mut rego = RegoGate::new(&facts);
    let plain = PlainGate::new(&facts);

    // Equal work: the same decision from every engine on allow and deny
    // inputs, as worked out by hand.
    for (input, expected) in cases() {
        let now = Timestamp::parse(input.now.text).unwrap();
        let usage = bundle.usage(input.usage().as_bytes()).unwrap();
        let typed = bundle
            .check(&licenses[input.license], &usage, &ask(&bundle, &input), now)
            .unwrap();
        assert_ne!(typed.decision, Decision::AllowInGrace, "{input:?}");
        let request = input.json();
        let native = bundle.evaluate(request.as_bytes());
        let in_wasm = wasm.evaluate(request.as_bytes()).unwrap();
        assert_eq!(in_wasm, native, "{input:?}");
        assert_eq!(raw.evaluate(request.as_bytes()), native, "{input:?}");
        if let Some(baseline) = baseline.as_mut() {
            assert_eq!(
                json_allows(&baseline.evaluate(request.as_bytes())),
                expected,
                "baseline on {input:?}"
            );
        }
        // (g) and (h): the compact check, natively and in wasm, answering
        // the same record.
        let (kind, name) = compact_kind(&input);
        let compiled = bundle.compile(input.license, name, kind).unwrap();
        let compact = compiled.check(&compact_ask(&input, now)).unwrap();
        let handle = raw.compact_resolve(input.license, name, abi_kind(kind));
        let (status, record) = raw.compact_check(handle, &compact_ask(&input, now).write());
        assert_eq!(status, 0, "{input:?}");
        assert_eq!(record, compact.write(), "{input:?}");
        let decisions = [
            ("entitle typed", typed.decision == Decision::Allow),
            ("entitle json", json_allows(&native)),
            ("entitle compact", compact.decision == Decision::Allow),
            ("entitle compact wasm", record[0] == 0),
            ("cedar", cedar.allows(&cedar.request(&input))),
            ("regorus", rego.allows(RegoGate::input(&input))),
            ("plain rust", plain.allows(&input)),
        ];
        for (engine, allows) in decisions {
            assert_eq!(allows, expected, "{engine} on {input:?}: {native}");
        }
    }

    for (name, input) in [("feature", Input::FEATURE), ("metered", Input::METERED)] {
        let now = Timestamp::parse(input.now.text).unwrap();
        let license = &licenses[input.license];
        let usage = bundle.usage(input.usage().as_bytes()).unwrap();
        let asked = ask(&bundle, &input);
        let request = input.json();
        let cedar_request = cedar.request(&input);
        let rego_input = RegoGate::input(&input);
        let (kind, compact_name) = compact_kind(&input);
        let compiled = bundle.compile(input.license, compact_name, kind).unwrap();
        let asked_compact = compact_ask(&input, now);
        let handle = raw.compact_resolve(input.license, compact_name, abi_kind(kind));
        let ask_record = asked_compact.write();

        let mut group = c.benchmark_group(name);
        group.bench_function("plain_rust", |b| b.iter(|| plain.allows(black_box(&input))));
        group.bench_function("entitle_typed", |b| {
            b.iter(|| {
                bundle
                    .check(license, &usage, black_box(&asked), now)
                    .unwrap()
            })
        });
        group.bench_function("entitle_json_native", |b| {
            b.iter(|| bundle.evaluate(black_box(request.as_bytes())))
        });
        group.bench_function("entitle_json_wasm", |b| {
            b.iter(|| wasm.evaluate(black_box(request.as_bytes())).unwrap())
        });
        group.bench_function("entitle_json_wasm_raw", |b| {
            b.iter(|| raw.evaluate(black_box(request.as_bytes())))
        });
        if let Some(baseline) = baseline.as_mut() {
            group.bench_function("entitle_json_wasm_baseline", |b| {
                b.iter(|| baseline.evaluate(black_box(request.as_bytes())))
            });
        }
        group.bench_function("entitle_compact_native", |b| {
            b.iter(|| compiled.check(black_box(&asked_compact)).unwrap())
        });
        group.bench_function("entitle_compact_wasm", |b| {
            b.iter(|| raw.compact_check(handle, black_box(&ask_record)))
        });
        group.bench_function("cedar_is_authorized", |b| {
            b.iter(|| cedar.allows(black_box(&cedar_request)))
        });
        group.bench_function("cedar_with_request", |b| {
            b.iter(|| cedar.allows(&cedar.request(black_box(&input))))
        });
        group.bench_function("regorus", |b| {
            b.iter(|| rego.allows(black_box(rego_input.clone())))
        });
        group.finish();
    }
}

criterion_group! {
    name = on_cpu_clock;
    config = Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}

criterion_group! {
    name = on_wall_clock;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}

fn main() {
    if std::env::var_os("PEERS_WALL_CLOCK").is_some() {
        on_wall_clock();
    } else {
        on_cpu_clock();
    }
    Criterion::default().configure_from_args().final_summary();
}
