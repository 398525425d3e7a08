//! The real module, `dist/entitle.wasm`, in wasmtime with every import linked
//! as a trap: same bytes as native core on every path (fresh instance,
//! reused instance, preloaded bundle), and the file's identity.
//!
//! Build the module first: `cargo xtask build-wasm`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::process::Command;

use entitle_core::api;
use entitle_host::{Limits, Native, Runtime, GLUE_NAMESPACE};
use support::{example_text, module, module_path};

/// Requests against the demo documents, without `bundle` (for a preloaded
/// bundle) or with it.
fn example_requests(with_bundle: bool) -> Vec<Vec<u8>> {
    let (bundle, license, usage) = (
        example_text("bundle.json"),
        example_text("license.json"),
        example_text("usage.json"),
    );
    let documents = if with_bundle {
        format!(r#""bundle":{bundle},"license":{license},"usage":{usage}"#)
    } else {
        format!(r#""license":{license},"usage":{usage}"#)
    };
    let now = r#""now":"2026-11-22T10:00:00Z""#;
    [
        r#""op":"check","feature":"sso""#,
        r#""op":"check","feature":"no_such_feature""#,
        r#""op":"check","metric":"api_calls","amount":1000"#,
        r#""op":"status""#,
        r#""op":"quote""#,
        r#""op":"transition","to":"enterprise""#,
    ]
    .iter()
    .map(|op| format!("{{{op},{documents},{now}}}").into_bytes())
    .chain(std::iter::once(
        format!(r#"{{"op":"validate",{documents}}}"#).into_bytes(),
    ))
    .collect()
}

/// Requests of every kind of badness the stub and the real engine must
/// answer identically, as an envelope, never a trap.
fn requests() -> Vec<Vec<u8>> {
    let mut requests: Vec<Vec<u8>> = [
        r#"{"op":"check","bundle":{},"license":{},"usage":{},"now":"2026-11-22T10:00:00Z","feature":"sso"}"#,
        r#"{"op":"status","bundle":{},"license":{},"usage":{},"now":"2026-11-22T10:00:00Z"}"#,
        r#"{"op":"quote","bundle":{},"license":{},"usage":{},"now":"2026-11-22T10:00:00Z"}"#,
        r#"{"op":"transition","bundle":{},"license":{},"usage":{},"now":"2026-11-22T10:00:00Z","to":"pro"}"#,
        r#"{"op":"validate","bundle":{}}"#,
        r#"{"op":"check","metric":"api_calls","amount":1e400}"#,
        r#"{"op":"check","amount":18446744073709551616123}"#,
        r#"{"op":"check","op":"status"}"#,
        r#"{"op":"nope"}"#,
        "",
        "{",
        "null",
        "[1,2,3]",
        "\"just a string\"",
        "   \n\t ",
    ]
    .iter()
    .map(|text| text.as_bytes().to_vec())
    .collect();
    requests.push(vec![0xff, 0xfe, b'{', b'}']);
    requests.push(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes());
    requests.push(format!(r#"{{"op":"check","feature":"{}"}}"#, "x".repeat(1 << 20)).into_bytes());
    requests.extend(example_requests(true));
    requests.extend(example_requests(false));
    requests
}

#[test]
fn the_module_reports_the_versions_core_was_built_with() {
    let module = module();
    assert_eq!(module.engine_version(), api::ENGINE_VERSION);
    assert_eq!(module.abi_version(), api::ABI_VERSION);
    let info = module.info();
    assert_eq!(info.runtime, "wasmtime");
    assert_eq!(info.module_sha256.as_deref(), Some(module.sha256()));
}

#[test]
fn the_sha256_is_the_file_s() {
    let module = module();
    let path = module_path();
    let sha256 = module.sha256();
    assert_eq!(sha256.len(), 64);
    // The file the build wrote next to the module.
    let recorded = std::fs::read_to_string(path.with_extension("wasm.sha256")).unwrap();
    assert_eq!(recorded, format!("{sha256}  entitle.wasm\n"));
    // And an independent tool, where there is one.
    if let Ok(output) = Command::new("sha256sum").arg(&path).output() {
        let printed = String::from_utf8(output.stdout).unwrap();
        assert_eq!(printed.split_whitespace().next(), Some(sha256));
    }
}

#[test]
fn every_import_is_in_the_glue_namespace_and_linked_as_a_trap() {
    let module = module();
    assert!(!module.trapped_imports().is_empty());
    for import in module.trapped_imports() {
        assert!(
            import.starts_with(&format!("{GLUE_NAMESPACE}.")),
            "{import}"
        );
    }
}

#[test]
fn both_engines_answer_the_same_bytes_on_every_path() {
    let module = module();
    let native = Native::new();
    let mut instance = module.instance().unwrap();
    for request in requests() {
        let expected = native.evaluate(&request);
        let shown = String::from_utf8_lossy(&request[..request.len().min(60)]).into_owned();
        // A fresh instance per call, and one instance reused.
        assert_eq!(
            module.evaluate(&request).unwrap(),
            expected,
            "fresh: {shown}"
        );
        assert_eq!(
            instance.evaluate(&request).unwrap(),
            expected,
            "reused: {shown}"
        );
    }
}

#[test]
fn preloaded_bundles_answer_like_native_ones() {
    let module = module();
    let native = Native::new();
    let example = example_text("bundle.json");
    let bundles: [&[u8]; 5] = [
        example.as_bytes(),
        b"{}",
        b"{",
        b"[]",
        br#"{"id":"b","version":"1"}"#,
    ];
    let mut loaded = 0;
    for bundle in bundles {
        let (native_session, native_envelope) = native.load_bundle(bundle);
        let (wasm_session, wasm_envelope) = module.load_bundle(bundle).unwrap();
        assert_eq!(wasm_envelope, native_envelope);
        assert_eq!(wasm_session.is_some(), native_session.is_some());
        if let (Some(mut wasm), Some(native)) = (wasm_session, native_session) {
            loaded += 1;
            assert_ne!(wasm.handle(), 0);
            for request in requests() {
                assert_eq!(wasm.evaluate(&request).unwrap(), native.evaluate(&request));
            }
        }
    }
    assert!(loaded >= 1, "the demo bundle must load");
}

#[test]
fn the_trait_objects_agree_too() {
    let mut engines: Vec<Box<dyn Runtime>> = vec![Box::new(Native::new()), Box::new(module())];
    let request = example_requests(true).swap_remove(0);
    let answers: Vec<String> = engines
        .iter_mut()
        .map(|engine| engine.evaluate(&request).unwrap())
        .collect();
    assert_eq!(answers[0], answers[1]);
    let sessions: Vec<String> = engines
        .iter()
        .map(|engine| {
            let (session, envelope) = engine
                .load_bundle(example_text("bundle.json").as_bytes())
                .unwrap();
            match session {
                Some(mut session) => session.evaluate(&example_requests(false)[0]).unwrap(),
                None => envelope,
            }
        })
        .collect();
    assert_eq!(sessions[0], sessions[1]);
}

#[test]
fn licenses_loaded_into_a_bundle_answer_like_native_ones() {
    let module = module();
    let bundle = example_text("bundle.json");
    let license = example_text("license.json");
    let (wasm, _) = module.load_bundle(bundle.as_bytes()).unwrap();
    let (native, _) = Native::new().load_bundle(bundle.as_bytes());
    let (mut wasm, mut native) = (wasm.unwrap(), native.unwrap());
    let loaded = wasm.load_license(license.as_bytes()).unwrap();
    assert_eq!(loaded, native.load_license(license.as_bytes()));
    assert!(loaded.starts_with(r#"{"outcome":"ok""#), "{loaded}");
    let id: serde_json::Value = serde_json::from_str(&loaded).unwrap();
    let id = id["result"]["license"].as_str().unwrap().to_string();
    let usage = example_text("usage.json");
    let request = format!(
        r#"{{"op":"check","license":"{id}","usage":{usage},"now":"2026-11-22T10:00:00Z","feature":"sso"}}"#
    );
    let answer = wasm.evaluate(request.as_bytes()).unwrap();
    assert_eq!(answer, native.evaluate(request.as_bytes()));
    assert!(answer.starts_with(r#"{"outcome":"ok""#), "{answer}");
    // A bad license is answered with errors, on both.
    assert_eq!(wasm.load_license(b"{").unwrap(), native.load_license(b"{"));
    assert!(wasm.unload_license(&id).unwrap());
    assert!(native.unload_license(&id));
    assert!(!wasm.unload_license(&id).unwrap());
    assert_eq!(
        wasm.evaluate(request.as_bytes()).unwrap(),
        native.evaluate(request.as_bytes())
    );
}

#[test]
fn bundle_handles_follow_the_abi() {
    let module = module();
    let mut instance = module.instance().unwrap();
    let bundle = example_text("bundle.json");
    let bundle = bundle.as_bytes();
    let request = example_requests(false).swap_remove(0);
    let request = request.as_slice();
    // A handle never loaded.
    assert_eq!(
        instance.bundle_evaluate(77, request).unwrap(),
        api::unknown_bundle_handle(77)
    );
    let (handle, envelope) = instance.bundle_load(bundle).unwrap();
    let native = api::LoadedBundle::load(bundle);
    match native {
        Ok(loaded) => {
            assert_ne!(handle, 0);
            assert_eq!(envelope, loaded.describe());
            assert_eq!(
                instance.bundle_evaluate(handle, request).unwrap(),
                loaded.evaluate(request)
            );
            instance.bundle_free(handle).unwrap();
            // A freed handle is unknown, and is not handed out again.
            assert_eq!(
                instance.bundle_evaluate(handle, request).unwrap(),
                api::unknown_bundle_handle(handle)
            );
            let (next, _) = instance.bundle_load(bundle).unwrap();
            assert_ne!(next, handle);
            instance.bundle_free(next).unwrap();
        }
        Err(error_envelope) => panic!("the demo bundle must load: {error_envelope}"),
    }
    // A rejected bundle gets handle 0 and its errors.
    let (handle, envelope) = instance.bundle_load(b"{").unwrap();
    assert_eq!(handle, 0);
    assert_eq!(Err(envelope), api::LoadedBundle::load(b"{").map(|_| ()));
    // Freeing an unknown handle is harmless.
    instance.bundle_free(12345).unwrap();
}

#[test]
fn a_long_run_on_one_instance_leaks_nothing() {
    // Over 64 MiB of requests and answers through an instance that may grow
    // to 16 MiB: leaking either would hit the limit.
    let module = module().with_limits(Limits {
        memory_bytes: 16 << 20,
        ..Limits::default()
    });
    let mut instance = module.instance().unwrap();
    let request = format!(
        r#"{{"op":"check","bundle":{{}},"now":"2026-11-22T10:00:00Z","feature":"{}"}}"#,
        "f".repeat(2048)
    );
    let first = instance.evaluate(request.as_bytes()).unwrap();
    let calls = (64 << 20) / (request.len() + first.len()) + 1;
    for _ in 0..calls {
        assert_eq!(instance.evaluate(request.as_bytes()).unwrap(), first);
    }
}
