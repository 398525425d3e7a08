//! Licenses loaded into a preloaded bundle answer as the same license sent
//! inline, and only there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use entitle_core::api::{evaluate, LoadedBundle};

fn example(name: &str) -> String {
    let path = format!("{}/../examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn a_loaded_license_answers_as_the_same_license_sent_inline() {
    let mut loaded = LoadedBundle::load(example("bundle").as_bytes()).unwrap();
    let ok = loaded.load_license(example("license").as_bytes());
    assert!(
        ok.starts_with(
            r#"{"outcome":"ok","op":"load_license","result":{"license":"lic_7Q2M9","loaded":1}"#
        ),
        "{ok}"
    );
    let tail = format!(
        r#""usage":{},"now":"2026-11-22T10:00:00Z","metric":"api_calls","amount":7}}"#,
        example("usage")
    );
    let by_id = format!(r#"{{"op":"check","license":"lic_7Q2M9",{tail}"#);
    let inline = format!(r#"{{"op":"check","license":{},{tail}"#, example("license"));
    assert_eq!(
        loaded.evaluate(by_id.as_bytes()),
        loaded.evaluate(inline.as_bytes())
    );
    let missing = by_id.replace("lic_7Q2M9", "lic_nope");
    let answer = loaded.evaluate(missing.as_bytes());
    assert!(
        answer.contains(r#""code":"unknown_license","path":"$.license""#),
        "{answer}"
    );
    assert!(loaded.unload_license("lic_7Q2M9"));
    assert!(!loaded.unload_license("lic_7Q2M9"));
    assert!(loaded
        .evaluate(by_id.as_bytes())
        .contains("unknown_license"));
    // A stateless request never resolves ids.
    let stateless = by_id.replacen("{", &format!(r#"{{"bundle":{},"#, example("bundle")), 1);
    assert!(evaluate(stateless.as_bytes()).contains(r#""code":"wrong_type","path":"$.license""#));
}

#[test]
fn a_bad_license_is_refused_with_paths_under_license() {
    let mut loaded = LoadedBundle::load(example("bundle").as_bytes()).unwrap();
    let bad = example("license").replace(r#""tier": "team""#, r#""tier": "gold""#);
    let answer = loaded.load_license(bad.as_bytes());
    assert!(
        answer.contains(r#""code":"unknown_tier","path":"$.license.tier""#),
        "{answer}"
    );
}
