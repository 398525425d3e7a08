//! The full answer written from a compact check (natively
//! `Expansion::check`, in wasmtime `entitle_compact_check_json`) is the
//! JSON entry's answer to the same request, byte for byte, on every
//! `check` case of the corpus a compact call can express; and the module
//! answers that export exactly where the compact check answers.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use entitle_conformance::compact::{self, CompactCase};
use entitle_conformance::{conformance_dir, repo_root, Corpus, Dist};
use entitle_host::{Compact, WasmInstance};

/// The native expansion of a case: `None` when the compact check does not
/// answer it.
fn native(case: &CompactCase) -> Option<String> {
    let mut loaded = entitle_core::LoadedBundle::load(&case.bundle).ok()?;
    let envelope = loaded.load_license(&case.license);
    if envelope.contains(r#""outcome":"error""#) {
        return None;
    }
    let compiled = loaded
        .compile(&case.license_id, &case.name_checked, case.kind)
        .ok()?;
    let ask = case.ask?;
    let answer = compiled.check(&ask).ok()?;
    let (compact, envelope) = loaded.expansion().check(&compiled, &ask).unwrap();
    assert_eq!(compact, answer, "{}", case.name);
    Some(envelope)
}

/// The same through the module: the compact answer and the envelope of
/// `entitle_compact_check_json`, or `None` where it does not answer.
fn in_wasm(
    instance: &mut WasmInstance,
    case: &CompactCase,
) -> Option<(entitle_core::CompactAnswer, Option<String>)> {
    let (bundle, _) = instance.bundle_load(&case.bundle).unwrap();
    if bundle == 0 {
        return None;
    }
    let outcome = (|| {
        let envelope = instance.bundle_load_license(bundle, &case.license).unwrap();
        if envelope.contains(r#""outcome":"error""#) {
            return None;
        }
        let (handle, _) = instance
            .compact_resolve(bundle, &case.license_id, &case.name_checked, case.kind)
            .unwrap();
        let ask = case.ask?;
        let plain = instance.compact_check(handle?, &ask).unwrap();
        let (with_json, envelope) = instance.compact_check_json(handle?, &ask).unwrap();
        assert_eq!(plain, with_json, "{}: the two exports disagree", case.name);
        match with_json {
            Compact::Answered(answer) => Some((answer, envelope)),
            _ => None,
        }
    })();
    instance.bundle_free(bundle).unwrap();
    outcome
}

#[test]
fn the_json_answer_of_a_compact_check_is_the_json_entrys_on_the_corpus() {
    let cases = Corpus::at(&conformance_dir()).load().unwrap();
    let dist = Dist::new(&repo_root());
    dist.require_built().unwrap();
    let module = entitle_host::WasmModule::load(dist.wasm()).unwrap();
    let mut instance = module.instance().unwrap();
    let (mut ran, mut answered, mut failures) = (0, 0, Vec::new());
    for case in &cases {
        let Some(compact_case) = compact::from_case(case) else {
            continue;
        };
        ran += 1;
        let json = entitle_core::api::evaluate(&case.request);
        let native = native(&compact_case);
        let wasm = in_wasm(&mut instance, &compact_case);
        match (&native, &wasm) {
            (Some(native), Some((_, Some(written)))) => {
                answered += 1;
                if native != &json {
                    failures.push(format!("{} (native):\n {native}\n {json}", case.name));
                }
                if written != &json {
                    failures.push(format!("{} (wasmtime):\n {written}\n {json}", case.name));
                }
            }
            (None, None) => {}
            _ => failures.push(format!(
                "{}: native {native:?}, wasmtime {wasm:?}",
                case.name
            )),
        }
    }
    println!("compact_json: {ran} check cases, {answered} answered in full from the compact check, byte for byte the JSON entry's");
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    // 99 of the corpus's checks are answered by a compact call (2026-12-05).
    assert!(answered >= 95, "only {answered} answered");
}
