//! The JS API's `Bundle.loadSigned` in Node answers byte for byte as native
//! core's `LoadedBundle::load_signed`, for the corpus's signed fixtures:
//! describing the bundle, loading a signed license, refusing a plain one,
//! checking by id, and throwing the error envelope for a license given as
//! the bundle.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;

use entitle_conformance::{conformance_dir, repo_root, Dist};
use entitle_core::api::LoadedBundle;
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(conformance_dir().join("fixtures").join(name)).unwrap()
}

#[test]
fn bundle_load_signed_in_node_answers_as_native_core() {
    let root = repo_root();
    if let Err(error) = Dist::new(&root).require_built() {
        panic!("{error:#}");
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("js_signed");
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.json");
    let _ = std::fs::remove_file(&report);
    let output = Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()))
        .arg(root.join("tests/runtimes/signed.mjs"))
        .arg(&report)
        .output()
        .expect("running node (tests/setup.sh installs what the tests need)");
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let text = |field: &str| report[field].as_str().unwrap().to_string();

    let keys = fixture("keys/keys.json");
    let mut native =
        LoadedBundle::load_signed(&fixture("signature/bundle.envelope.json"), &keys).unwrap();
    assert_eq!(text("describe"), native.describe());
    assert_eq!(
        text("load_license"),
        native.load_license(&fixture("signature/license.envelope.json"))
    );
    let plain = native.load_license(&fixture("signature/license.payload.json"));
    assert!(plain.contains(r#""code":"signature_required""#), "{plain}");
    assert_eq!(text("load_plain_license"), plain);
    let check = br#"{"op":"check","license":"lic-signed-1","now":"2026-06-01T12:00:00Z","feature":"audit_log"}"#;
    let answer = native.evaluate(check);
    assert!(answer.contains(r#""decision":"allow""#), "{answer}");
    assert_eq!(text("check"), answer);
    assert_eq!(text("check_object"), answer);
    let refused =
        LoadedBundle::load_signed(&fixture("signature/license.envelope.json"), &keys).unwrap_err();
    assert!(
        refused.contains(r#""code":"wrong_document_kind""#),
        "{refused}"
    );
    assert_eq!(text("refused"), refused);
}
