//! Every `check` case of the corpus a compact call can express, run
//! through the compact check natively, in wasmtime, in Node, in headless
//! Chromium and in the portal page, and held field by field to the
//! projection of the JSON answer to the same request.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use entitle_conformance::compact::{self, CompactOutcome};
use entitle_conformance::js::JsRuntime;
use entitle_conformance::{conformance_dir, repo_root, Corpus, Dist, Runner};

#[test]
fn the_compact_check_is_the_projection_of_the_json_check_on_the_corpus() {
    let cases = Corpus::at(&conformance_dir()).load().unwrap();
    let dist = Dist::new(&repo_root());
    dist.require_built().unwrap();
    let module = entitle_host::WasmModule::load(dist.wasm()).unwrap();
    let mut instance = module.instance().unwrap();
    let (mut ran, mut answered, mut failures) = (0, 0, Vec::new());
    let expressible: Vec<_> = cases
        .iter()
        .filter_map(|case| Some((case, compact::from_case(case)?)))
        .collect();
    let just_cases: Vec<_> = expressible.iter().map(|(_, c)| c.clone()).collect();
    let root = repo_root();
    let mut in_js = Vec::new();
    for mut runtime in [
        JsRuntime::node(&root),
        JsRuntime::chromium(&root),
        JsRuntime::portal(&root),
    ] {
        let outcomes = runtime.run_compact(&just_cases).unwrap();
        in_js.push((runtime.name().to_string(), outcomes));
    }
    for (i, (case, compact_case)) in expressible.iter().enumerate() {
        ran += 1;
        let json = entitle_core::api::evaluate(&case.request);
        let (bases, native) = compact::native(compact_case);
        if let Err(e) = compact::compare(&json, bases.as_deref(), &native) {
            failures.push(format!("{} (native): {e}", case.name));
        }
        let (bases, in_wasm) = compact::wasmtime(&mut instance, compact_case).unwrap();
        if let Err(e) = compact::compare(&json, bases.as_deref(), &in_wasm) {
            failures.push(format!("{} (wasmtime): {e}", case.name));
        }
        let same = match (&native, &in_wasm) {
            (CompactOutcome::Answered(a), CompactOutcome::Answered(b)) => a == b,
            (CompactOutcome::Refused(_), CompactOutcome::Refused(_)) => true,
            _ => false,
        };
        if !same {
            failures.push(format!(
                "{}: native {native:?} but wasmtime {in_wasm:?}",
                case.name
            ));
        }
        for (name, outcomes) in &in_js {
            let (bases, outcome) = &outcomes[i];
            if let Err(e) = compact::compare(&json, bases.as_deref(), outcome) {
                failures.push(format!("{} ({name}): {e}", case.name));
            }
        }
        if matches!(native, CompactOutcome::Answered(_)) {
            answered += 1;
        }
    }
    println!(
        "compact: {ran} check cases ran natively, in wasmtime, node, chromium and the portal; {answered} answered, the rest refused as their JSON check is"
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    // 99 of the corpus's checks are answered by a compact call (2026-12-05):
    // fewer means cases stopped reaching it.
    assert!(answered >= 95, "only {answered} compact answers");
}
