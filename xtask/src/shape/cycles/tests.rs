//! The cycle check on small crates written out here.

use super::*;
use crate::shape::source::rust_crate;

/// The findings of every cycle, and the summary line.
fn check_crate(files: &[(&str, &str)]) -> (Vec<Finding>, String) {
    let files = files
        .iter()
        .map(|(path, text)| (path.to_string(), format!("src/{path}"), text.to_string()))
        .collect();
    let report = check(&rust_crate(files));
    let findings = report.cycles.into_iter().flat_map(|c| c.findings).collect();
    (findings, report.summary)
}

/// The modules of each cycle.
fn cycles(files: &[(&str, &str)]) -> Vec<Vec<String>> {
    let files = files
        .iter()
        .map(|(path, text)| (path.to_string(), format!("src/{path}"), text.to_string()))
        .collect();
    check(&rust_crate(files))
        .cycles
        .into_iter()
        .map(|c| c.members)
        .collect()
}

fn lines(findings: &[Finding]) -> Vec<String> {
    findings.iter().map(Finding::to_string).collect()
}

#[test]
fn two_modules_that_use_each_other() {
    let (findings, summary) = check_crate(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a.rs", "//! a\nuse crate::{b::{Thing, other}, error};\n"),
        ("b.rs", "//! b\n\npub fn f() { crate::a::g() }\n"),
    ]);
    assert_eq!(
        lines(&findings),
        vec![
            "src/a.rs:2: import cycle 1: `a` uses `b` through `crate::b::Thing` (and 1 more lines)",
            "src/b.rs:3: import cycle 1: `b` uses `a` through `crate::a::g`",
        ]
    );
    assert_eq!(summary, "3 modules, 2 edges, 1 import cycles");
}

#[test]
fn a_longer_cycle_and_a_module_outside_it() {
    let (findings, _) = check_crate(&[
        ("lib.rs", "mod a; mod b; mod c; mod d;"),
        ("a.rs", "use crate::b::X;"),
        ("b.rs", "fn f() -> crate::c::Y { todo() }"),
        ("c.rs", "use super::a;\nuse crate::d::Z;"),
        ("d.rs", "use crate::a::W;"),
    ]);
    let members: BTreeSet<&str> = findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        members,
        BTreeSet::from(["src/a.rs", "src/b.rs", "src/c.rs", "src/d.rs"])
    );
    assert_eq!(
        cycles(&[
            ("lib.rs", "mod a; mod b; mod c; mod d;"),
            ("a.rs", "use crate::b::X;"),
            ("b.rs", "fn f() -> crate::c::Y { todo() }"),
            ("c.rs", "use super::a;\nuse crate::d::Z;"),
            ("d.rs", "use crate::a::W;"),
        ]),
        vec![vec!["a", "b", "c", "d"]]
    );
}

#[test]
fn comments_strings_attributes_and_tests_make_no_edge() {
    let (findings, summary) = check_crate(&[
        ("lib.rs", "mod a; mod b;"),
        (
            "a.rs",
            "//! see [`crate::b::X`]\n/* crate::b::X */\n#[doc = \"crate::b::X\"]\n#[serde(with = crate::b)]\nfn f() { let _ = \"crate::b::X\"; }\n#[cfg(test)]\nmod tests { use crate::b::X; }\n",
        ),
        ("a/tests.rs", "use crate::b;"),
        ("b.rs", "use crate::a;"),
    ]);
    assert!(findings.is_empty(), "{:?}", lines(&findings));
    assert_eq!(summary, "3 modules, 1 edges, 0 import cycles");
}

#[test]
fn a_folder_may_talk_to_its_own_files() {
    let (findings, summary) = check_crate(&[
        ("lib.rs", "pub mod sim;"),
        (
            "sim/mod.rs",
            "mod cases; mod op;\npub use op::run;\npub struct Entry;\nfn f() { cases::all(); }\n",
        ),
        ("sim/cases.rs", "use super::Entry;\n"),
        ("sim/op.rs", "pub fn run() { super::f(); }\n"),
    ]);
    assert!(findings.is_empty(), "{:?}", lines(&findings));
    // sim -> cases, cases -> sim, op -> sim; `pub use op::run` is no edge.
    assert_eq!(summary, "4 modules, 3 edges, 0 import cycles");
}

#[test]
fn siblings_that_use_each_other_are_reported_even_through_their_parent() {
    let (findings, _) = check_crate(&[
        ("lib.rs", "pub mod m;"),
        ("m/mod.rs", "mod a; mod b;\nfn f() { a::f(); b::g(); }\n"),
        ("m/a.rs", "use super::b::G;\nfn f() { super::f() }\n"),
        ("m/b.rs", "use super::a::F;\n"),
    ]);
    assert_eq!(
        lines(&findings),
        vec![
            "src/m/a.rs:1: import cycle 1: `m::a` uses `m::b` through `super::b::G`",
            "src/m/b.rs:1: import cycle 1: `m::b` uses `m::a` through `super::a::F`",
        ]
    );
}

#[test]
fn a_cycle_through_a_folder_and_a_module_outside_it() {
    // m calls its file m::a, which uses c, which uses m's own type: c and
    // the folder m depend on each other.
    let (findings, _) = check_crate(&[
        ("lib.rs", "mod m; mod c;"),
        ("m/mod.rs", "mod a;\npub struct T;\nfn f() { a::go() }\n"),
        ("m/a.rs", "use crate::c;\n"),
        ("c.rs", "use crate::m::T;\n"),
    ]);
    assert_eq!(findings.len(), 3, "{:?}", lines(&findings));
}

#[test]
fn pairs_that_use_each_other_directly_are_named() {
    let files = [
        ("lib.rs", "mod a; mod b; mod c;"),
        ("a.rs", "use crate::b::X;\nuse crate::c::Y;"),
        ("b.rs", "use crate::a::Z;"),
        ("c.rs", "use crate::b::W;"),
    ];
    let files = files
        .iter()
        .map(|(path, text)| (path.to_string(), format!("src/{path}"), text.to_string()))
        .collect();
    let report = check(&rust_crate(files));
    let mutual: Vec<_> = report
        .cycles
        .iter()
        .flat_map(|c| c.mutual.clone())
        .collect();
    assert_eq!(mutual, vec![("a".to_string(), "b".to_string())]);
}

#[test]
fn re_exports_lead_to_the_module_that_defines_the_item() {
    let crate_with = |q: &'static str| {
        check_crate(&[
            ("lib.rs", "mod m; mod q;"),
            (
                "m/mod.rs",
                "mod inner;\npub use inner::{Deep as Shown};\npub struct Own;\n",
            ),
            ("m/inner.rs", "use crate::q::Q;\n"),
            ("q.rs", q),
        ])
    };
    // q uses the re-exported item: a cycle between q and m::inner.
    let (findings, _) = crate_with("use crate::m::Shown;\n");
    assert_eq!(
        lines(&findings),
        vec![
            "src/m/inner.rs:1: import cycle 1: `m::inner` uses `q` through `crate::q::Q`",
            "src/q.rs:1: import cycle 1: `q` uses `m::inner` through `crate::m::Shown`",
        ]
    );
    // q uses m's own item: no cycle, although m re-exports from m::inner.
    let (findings, summary) = crate_with("use crate::m::Own;\n");
    assert!(findings.is_empty(), "{:?}", lines(&findings));
    assert_eq!(summary, "4 modules, 2 edges, 0 import cycles");
}

#[test]
fn a_public_use_of_another_module_is_an_edge() {
    let (findings, _) = check_crate(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "pub(crate) use crate::b::B;\n"),
        ("b.rs", "use crate::a::A;\n"),
    ]);
    assert_eq!(findings.len(), 2, "{:?}", lines(&findings));
}

#[test]
fn inline_modules_resolve_super_from_where_they_are() {
    let (findings, _) = check_crate(&[
        ("lib.rs", "mod a; mod b;"),
        ("a.rs", "mod inner {\n    use super::super::b::X;\n}\n"),
        ("b.rs", "use crate::a::Y;\n"),
    ]);
    assert_eq!(findings.len(), 2, "{:?}", lines(&findings));
}
