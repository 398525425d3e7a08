//! The portal's demo as a person sees it, in headless Chromium: it shows the
//! module's sha256 computed from the bytes it loaded, equal to
//! `dist/entitle.wasm.sha256` and to the file's own hash, and renders the
//! module's `status` answer, byte-identical to native core for the very
//! request the page sent. (The portal with a gateway, signed documents and
//! every control: host/tests/portal.rs.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;

use entitle_conformance::{repo_root, Dist};
use serde_json::Value;

#[test]
fn the_demo_page_shows_the_module_hash_and_the_status() {
    let root = repo_root();
    let dist = Dist::new(&root);
    if let Err(error) = dist.require_built() {
        panic!("{error:#}");
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web");
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.json");
    let screenshot = dir.join("page.png");
    let _ = std::fs::remove_file(&report);
    let output = Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()))
        .arg(root.join("tests/runtimes/web.mjs"))
        .arg(&report)
        .arg(&screenshot)
        .current_dir(&root)
        .env("FORCE_COLOR", "0")
        .output()
        .expect("running node (tests/setup.sh installs what the tests need)");
    assert!(
        output.status.success(),
        "tests/runtimes/web.mjs failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let shown: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let text = |key: &str| shown[key].as_str().unwrap_or_default().to_string();

    assert_eq!(
        shown["failed"],
        false,
        "the page failed: {}",
        text("progress")
    );
    assert_eq!(shown["problems"], Value::Array(vec![]), "{shown:#}");

    let recorded = dist.recorded_sha256().unwrap();
    assert_eq!(text("shaActual"), dist.actual_sha256().unwrap());
    assert_eq!(text("shaActual"), recorded);
    assert_eq!(text("shaExpected"), recorded);
    assert_eq!(text("shaVerdict"), "matches");

    let headings: Vec<String> = serde_json::from_value(shown["headings"].clone()).unwrap();
    for section in [
        "Your license",
        "Features",
        "Usage and quotas",
        "Plans",
        "Support",
        "Request an exception",
    ] {
        assert!(
            headings.iter().any(|h| h == section),
            "no {section} section in {headings:?}"
        );
    }
    assert!(shown["quotaRows"].as_u64().unwrap() > 0);

    let request = text("request");
    let sent: Value = serde_json::from_str(&request).unwrap();
    assert_eq!(sent["op"], "status");
    assert_eq!(sent["now"], "2026-11-22T10:00:00Z");
    let native = entitle_core::api::evaluate(request.as_bytes());
    assert_eq!(
        text("answer"),
        native,
        "the page shows another answer than native core"
    );
    let envelope: Value = serde_json::from_str(&native).unwrap();
    assert_eq!(
        envelope["outcome"], "ok",
        "the demo documents are refused: {native}"
    );
    let state = envelope["result"]["license"]["state"].as_str().unwrap();
    assert_eq!(text("licenseState"), state);

    // `?now=` pins the instant, and the page says so where it is seen first.
    let pinned = text("pinned");
    assert!(
        pinned.contains("2026-11-22T10:00:00Z") && pinned.contains("pinned"),
        "the page does not say its instant is pinned: {pinned:?}"
    );
}
