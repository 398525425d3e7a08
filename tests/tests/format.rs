//! The case format: fixtures, merge patches, request bytes and the errors a
//! bad case file gets.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::PathBuf;

use entitle_conformance::{conformance_dir, Corpus};

/// A scratch corpus with the given case and fixture files.
fn corpus(name: &str, cases: &[(&str, &str)], fixtures: &[(&str, &str)]) -> Corpus {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("format")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    for (folder, files) in [("cases", cases), ("fixtures", fixtures)] {
        for (path, text) in files {
            let file = dir.join(folder).join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, text).unwrap();
        }
    }
    Corpus::at(&dir)
}

fn load_error(corpus: &Corpus) -> String {
    format!(
        "{:#}",
        corpus.load().expect_err("the case should be refused")
    )
}

#[test]
fn fixtures_merge_and_keys_sort() {
    let corpus = corpus(
        "merge",
        &[(
            "g/one.json",
            r#"{"about": "x", "expect": {},
                "request": {"z": 1, "doc": {"$fixture": "sub/doc", "$merge": {"b": null, "c": {"d": 2}, "e": {"$fixture": "leaf"}}}}}"#,
        )],
        &[
            (
                "sub/doc.json",
                r#"{"b": 1, "a": "é", "c": {"x": [1, 2.5]}}"#,
            ),
            ("leaf.json", r#"{"leaf": true}"#),
        ],
    );
    let cases = corpus.load().unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].name, "g/one");
    assert_eq!(
        String::from_utf8(cases[0].request.clone()).unwrap(),
        r#"{"doc":{"a":"é","c":{"d":2,"x":[1,2.5]},"e":{"leaf":true}},"z":1}"#
    );
}

#[test]
fn raw_requests_are_sent_as_written() {
    let corpus = corpus(
        "raw",
        &[
            (
                "a/text.json",
                r#"{"about": "x", "expect": {}, "raw_request": " {\"op\" : 1} "}"#,
            ),
            (
                "a/hex.json",
                r#"{"about": "x", "expect": {}, "raw_request_hex": "ff 7B"}"#,
            ),
        ],
        &[],
    );
    let cases = corpus.load().unwrap();
    assert_eq!(cases[0].name, "a/hex");
    assert_eq!(cases[0].request, vec![0xff, 0x7b]);
    assert_eq!(cases[1].request, br#" {"op" : 1} "#.to_vec());
}

#[test]
fn bad_cases_are_refused_naming_the_file() {
    let unknown = corpus(
        "unknown",
        &[(
            "g/bad.json",
            r#"{"about": "x", "expect": {}, "request": {}, "note": 1}"#,
        )],
        &[],
    );
    let message = load_error(&unknown);
    assert!(message.contains("g/bad.json"), "{message}");
    assert!(message.contains("unknown field `note`"), "{message}");

    let both = corpus(
        "both",
        &[(
            "g/both.json",
            r#"{"about": "x", "expect": {}, "request": {}, "raw_request": ""}"#,
        )],
        &[],
    );
    assert!(load_error(&both).contains("exactly one of"));

    let missing = corpus(
        "missing",
        &[(
            "g/m.json",
            r#"{"about": "x", "expect": {}, "request": {"a": {"$fixture": "nope"}}}"#,
        )],
        &[],
    );
    assert!(load_error(&missing).contains("reading fixture `nope`"));

    let extra = corpus(
        "extra",
        &[(
            "g/e.json",
            r#"{"about": "x", "expect": {}, "request": {"a": {"$fixture": "f", "b": 1}}}"#,
        )],
        &[("f.json", "{}")],
    );
    assert!(load_error(&extra).contains("put it in `$merge`"));

    let cycle = corpus(
        "cycle",
        &[(
            "g/c.json",
            r#"{"about": "x", "expect": {}, "request": {"$fixture": "a"}}"#,
        )],
        &[
            ("a.json", r#"{"x": {"$fixture": "b"}}"#),
            ("b.json", r#"{"$fixture": "a"}"#),
        ],
    );
    assert!(load_error(&cycle).contains("fixture cycle: a -> b -> a"));

    let escape = corpus(
        "escape",
        &[(
            "g/x.json",
            r#"{"about": "x", "expect": {}, "request": {"$fixture": "../x"}}"#,
        )],
        &[],
    );
    assert!(load_error(&escape).contains("is not a fixture name"));

    let expect = corpus(
        "expect",
        &[("g/x.json", r#"{"about": "x", "expect": [], "request": {}}"#)],
        &[],
    );
    assert!(load_error(&expect).contains("`expect` must be an object"));
}

#[test]
fn the_real_corpus_loads() {
    let cases = Corpus::at(&conformance_dir()).load().unwrap();
    assert!(cases.iter().any(|case| case.name.starts_with("smoke/")));
}
