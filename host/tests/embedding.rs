//! The wasmtime embedding on hand-made modules: imports refused or linked as
//! traps, the ABI checked, and the deadline and memory limit stopping a runaway.
//! Needs no build step: every module here is written in WAT.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use entitle_host::{HostError, Limits, WasmModule, GLUE_NAMESPACE};

const VERSION: &str = r#"{"engine":"test","abi":1}"#;
const ANSWER: &str = r#"{"outcome":"ok","result":{}}"#;
const VERSION_AT: u64 = 16;
const ANSWER_AT: u64 = 64;

/// Everything a test module may vary.
struct Wat<'a> {
    imports: &'a str,
    evaluate: &'a str,
    abi: u32,
    bundle_free: bool,
}

impl Default for Wat<'_> {
    fn default() -> Self {
        Wat {
            imports: "",
            evaluate: "",
            abi: entitle_core::api::ABI_VERSION,
            bundle_free: true,
        }
    }
}

/// A module speaking the byte ABI: a bump allocator, a fixed version and a
/// fixed answer; `evaluate` runs before `entitle_evaluate` answers.
fn module(wat: Wat<'_>) -> Vec<u8> {
    let packed = |at: u64, text: &str| (at << 32) | text.len() as u64;
    let escape = |text: &str| text.replace('"', "\\\"");
    let text = r#"
(module
  {imports}
  (memory (export "memory") 2)
  (global $bump (mut i32) (i32.const 1024))
  (data (i32.const {version_at}) "{version}")
  (data (i32.const {answer_at}) "{answer}")
  (func (export "entitle_abi_version") (result i32) (i32.const {abi}))
  (func (export "entitle_version") (result i64) (i64.const {version_packed}))
  (func (export "entitle_alloc") (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get $len)))
    (local.get $p))
  (func (export "entitle_free") (param i32 i32))
  (func (export "entitle_evaluate") (param $ptr i32) (param $len i32) (result i64)
    {evaluate}
    (i64.const {answer_packed}))
  (func (export "entitle_bundle_load") (param i32 i32 i32) (result i64) (i64.const {answer_packed}))
  (func (export "entitle_bundle_load_signed") (param i32 i32 i32 i32 i32) (result i64) (i64.const {answer_packed}))
  (func (export "entitle_bundle_evaluate") (param i32 i32 i32) (result i64) (i64.const {answer_packed}))
  (func (export "entitle_bundle_load_license") (param i32 i32 i32) (result i64) (i64.const {answer_packed}))
  (func (export "entitle_bundle_unload_license") (param i32 i32 i32) (result i32) (i32.const 0))
  {bundle_free}
)"#
    .replace("{imports}", wat.imports)
    .replace("{evaluate}", wat.evaluate)
    .replace("{abi}", &wat.abi.to_string())
    .replace("{version_at}", &VERSION_AT.to_string())
    .replace("{answer_at}", &ANSWER_AT.to_string())
    .replace("{version}", &escape(VERSION))
    .replace("{answer}", &escape(ANSWER))
    .replace("{version_packed}", &packed(VERSION_AT, VERSION).to_string())
    .replace("{answer_packed}", &packed(ANSWER_AT, ANSWER).to_string())
    .replace(
        "{bundle_free}",
        if wat.bundle_free {
            r#"(func (export "entitle_bundle_free") (param i32))"#
        } else {
            ""
        },
    );
    wat::parse_str(text).expect("the test module is valid WAT")
}

#[test]
fn a_well_formed_module_loads_and_answers() {
    let module = WasmModule::from_bytes(&module(Wat::default())).unwrap();
    assert_eq!(module.engine_version(), "test");
    assert_eq!(module.abi_version(), entitle_core::api::ABI_VERSION);
    assert_eq!(module.evaluate(b"{}").unwrap(), ANSWER);
    assert!(module.trapped_imports().is_empty());
}

#[test]
fn a_module_without_the_compact_check_sends_every_check_to_the_json_entry() {
    let module = WasmModule::from_bytes(&module(Wat::default())).unwrap();
    let mut instance = module.instance().unwrap();
    let (handle, envelope) = instance
        .compact_resolve(1, "lic", "sso", entitle_core::CheckKind::Feature)
        .unwrap();
    assert_eq!(handle, None);
    assert!(envelope.contains("no compact check"), "{envelope}");
    // The JSON entry still answers on the same instance.
    assert_eq!(instance.evaluate(b"{}").unwrap(), ANSWER);
}

#[test]
fn an_import_outside_the_glue_namespace_is_refused() {
    let bytes = module(Wat {
        imports: r#"(import "env" "foo" (func))"#,
        ..Wat::default()
    });
    let error = WasmModule::from_bytes(&bytes).unwrap_err();
    assert_eq!(error.code(), "forbidden_import");
    assert_eq!(
        error.to_string(),
        format!("the module imports `env.foo`, outside the glue namespace `{GLUE_NAMESPACE}`")
    );
}

#[test]
fn a_non_function_import_is_refused() {
    let imports = format!(r#"(import "{GLUE_NAMESPACE}" "g" (global i32))"#);
    let error = WasmModule::from_bytes(&module(Wat {
        imports: &imports,
        ..Wat::default()
    }))
    .unwrap_err();
    assert_eq!(error.code(), "unsupported_import");
}

#[test]
fn glue_imports_are_linked_as_traps() {
    let imports = format!(r#"(import "{GLUE_NAMESPACE}" "__wbg_log" (func $log (param i32)))"#);
    // Calls the import only when the request is not empty.
    let evaluate = "(if (local.get $len) (then (call $log (i32.const 0))))";
    let module = WasmModule::from_bytes(&module(Wat {
        imports: &imports,
        evaluate,
        ..Wat::default()
    }))
    .unwrap();
    assert_eq!(
        module.trapped_imports(),
        [format!("{GLUE_NAMESPACE}.__wbg_log")]
    );
    // Linking is not calling: the module loads and answers.
    assert_eq!(module.evaluate(b"").unwrap(), ANSWER);
    let error = module.evaluate(b"{}").unwrap_err();
    assert!(
        matches!(&error, HostError::ImportCalled { import } if *import == format!("{GLUE_NAMESPACE}.__wbg_log")),
        "{error:?}"
    );
    assert_eq!(error.code(), "import_called");
}

#[test]
fn another_abi_version_is_refused() {
    let error = WasmModule::from_bytes(&module(Wat {
        abi: 99,
        ..Wat::default()
    }))
    .unwrap_err();
    assert!(
        matches!(error, HostError::AbiMismatch { found: 99, .. }),
        "{error:?}"
    );
}

#[test]
fn a_missing_abi_export_is_refused() {
    let error = WasmModule::from_bytes(&module(Wat {
        bundle_free: false,
        ..Wat::default()
    }))
    .unwrap_err();
    assert!(
        matches!(
            error,
            HostError::MissingExport {
                name: "entitle_bundle_free",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn bytes_that_are_not_wasm_are_refused() {
    let error = WasmModule::from_bytes(b"not wasm").unwrap_err();
    assert_eq!(error.code(), "compile_failed");
}

#[test]
fn the_deadline_stops_a_runaway_and_the_next_call_gets_a_fresh_instance() {
    // Spins forever when the request is not empty.
    let evaluate = "(if (local.get $len) (then (loop $spin (br $spin))))";
    let module = WasmModule::from_bytes(&module(Wat {
        evaluate,
        ..Wat::default()
    }))
    .unwrap()
    .with_limits(Limits {
        timeout: Duration::from_millis(50),
        ..Limits::default()
    });
    let started = Instant::now();
    let error = module.evaluate(b"{}").unwrap_err();
    assert!(
        matches!(error, HostError::Timeout { millis: 50 }),
        "{error:?}"
    );
    assert_eq!(error.code(), "timeout");
    assert!(started.elapsed() < Duration::from_secs(5));

    let mut instance = module.instance().unwrap();
    assert!(matches!(
        instance.evaluate(b"{}"),
        Err(HostError::Timeout { .. })
    ));
    assert_eq!(instance.evaluate(b"").unwrap(), ANSWER);
}

#[test]
fn the_memory_limit_stops_a_runaway() {
    // Grows memory by 1 MiB at a time until refused.
    let evaluate = "(block $done (loop $grow \
         (br_if $done (i32.eq (memory.grow (i32.const 16)) (i32.const -1))) \
         (br $grow)))";
    let module = WasmModule::from_bytes(&module(Wat {
        evaluate,
        ..Wat::default()
    }))
    .unwrap()
    .with_limits(Limits {
        memory_bytes: 8 << 20,
        ..Limits::default()
    });
    let error = module.evaluate(b"{}").unwrap_err();
    assert!(
        matches!(
            error,
            HostError::LimitExceeded {
                resource: "memory",
                limit,
                ..
            } if limit == 8 << 20
        ),
        "{error:?}"
    );
    assert_eq!(error.code(), "limit_exceeded");
}

#[test]
fn a_response_outside_memory_is_a_host_error() {
    // Answers with a pointer far past the end of memory.
    let text = r#"(module
      (memory (export "memory") 1)
      (func (export "entitle_abi_version") (result i32) (i32.const ABI))
      (func (export "entitle_version") (result i64) (i64.const 0x7fff000000000010))
      (func (export "entitle_alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "entitle_free") (param i32 i32))
      (func (export "entitle_evaluate") (param i32 i32) (result i64) (i64.const 0))
      (func (export "entitle_bundle_load") (param i32 i32 i32) (result i64) (i64.const 0))
      (func (export "entitle_bundle_load_signed") (param i32 i32 i32 i32 i32) (result i64) (i64.const 0))
      (func (export "entitle_bundle_evaluate") (param i32 i32 i32) (result i64) (i64.const 0))
      (func (export "entitle_bundle_load_license") (param i32 i32 i32) (result i64) (i64.const 0))
      (func (export "entitle_bundle_unload_license") (param i32 i32 i32) (result i32) (i32.const 0))
      (func (export "entitle_bundle_free") (param i32)))"#;
    let text = text.replace("ABI", &entitle_core::api::ABI_VERSION.to_string());
    let error = WasmModule::from_bytes(&wat::parse_str(text).unwrap()).unwrap_err();
    assert_eq!(error.code(), "bad_response");
}
