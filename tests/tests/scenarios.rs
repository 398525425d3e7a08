//! The scenario files of `tests/scenarios/`: situations a licensing team
//! knows, each replayed with `simulate` (or compared with `diff`) natively
//! and in wasmtime, whose timelines must agree byte for byte and contain the
//! timeline worked out by hand in the file.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use entitle_conformance::case::Fixtures;
use entitle_conformance::expect::subset_mismatch;
use entitle_conformance::{conformance_dir, repo_root, runner_for};
use serde_json::Value;

#[test]
fn every_scenario_replays_to_its_hand_worked_timeline() {
    let dir = repo_root().join("tests").join("scenarios");
    let mut fixtures = Fixtures::new(&conformance_dir().join("fixtures"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "expected the scenario files in {}",
        dir.display()
    );
    let mut native = runner_for("native").unwrap();
    let mut wasmtime = runner_for("wasmtime").expect("run `cargo xtask build-wasm` first");
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let case: Value = serde_json::from_str(&text).unwrap();
        let request = fixtures
            .resolve(case["request"].clone(), "$.request", &mut Vec::new())
            .unwrap();
        let name = file.display().to_string();
        let batch = [(name.clone(), request.to_string().into_bytes())];
        let (a, b) = (native.run(&batch), wasmtime.run(&batch));
        let (a, b) = (a.unwrap().remove(0), b.unwrap().remove(0));
        assert_eq!(a, b, "{name}: native and wasmtime differ");
        let answer: Value = serde_json::from_str(&a).unwrap();
        if let Some(problem) = subset_mismatch(&case["expect"], &answer) {
            failures.push(format!("{}: {problem}\n  answer: {answer}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{} scenarios replayed", files.len());
}
