//! Required, defaulted, nullable and typed fields: every example document
//! is changed one field at a time (the field removed, set to `null`, or
//! given a value of another JSON type, and each list item set to `null`),
//! and each change is read by the engine's reader for that document and
//! validated by ajv against the document's schema. The reader takes the
//! change (or refuses it only for a reason beyond its shape, such as a key
//! that is not Ed25519) exactly when the schema does, but for [`KNOWN`].

use entitle_conformance::repo_root;
use entitle_core::compliance::inventory::{ContractEvent, Deployment, Telemetry};
use entitle_core::error::JsonPath;
use entitle_core::model::bundle::Bundle;
use entitle_core::model::license::{License, Usage};
use entitle_core::reading::signed::KeySet;
use entitle_core::simulate::scenario::Scenario;
use entitle_core::support::calendar::Calendar;
use entitle_core::support::case::Case;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::support::{ajv, Check, SHAPE_CODES};

/// Whether a reading error is about the value's shape; here, where only
/// the reader runs, a value out of its type's range is too.
fn about_shape(code: &str) -> bool {
    SHAPE_CODES.contains(&code) || code == "out_of_range"
}

/// Whether the reader takes `value` as far as its shape goes: read, or
/// refused with a code that is not about shape.
fn shape_ok<T: DeserializeOwned>(value: &Value) -> bool {
    match entitle_core::reading::json::typed::<T>(value.clone(), &JsonPath::root()) {
        Ok(_) => true,
        Err(e) => !about_shape(e.code().as_str()),
    }
}

fn keys_shape_ok(value: &Value) -> bool {
    match KeySet::read(value.clone(), &JsonPath::root()) {
        Ok(_) => true,
        Err(errors) => errors.iter().all(|e| !about_shape(e.code().as_str())),
    }
}

/// A document's reader, as far as shape goes.
type Reader = fn(&Value) -> bool;

/// An example file, the schema it has, and its reader.
const DOCUMENTS: &[(&str, &str, Reader)] = &[
    ("examples/bundle.json", "bundle", shape_ok::<Bundle>),
    ("examples/license.json", "license", shape_ok::<License>),
    ("examples/usage.json", "usage", shape_ok::<Usage>),
    (
        "examples/cases/lic_7Q2M9/case-3107.json",
        "case",
        shape_ok::<Case>,
    ),
    ("examples/scenario.json", "scenario", shape_ok::<Scenario>),
    ("examples/calendar.json", "calendar", shape_ok::<Calendar>),
    ("examples/keys.json", "keys", keys_shape_ok),
    (
        "examples/telemetry.json",
        "telemetry",
        shape_ok::<Telemetry>,
    ),
    (
        "examples/deployments.json",
        "deployments",
        shape_ok::<Vec<Deployment>>,
    ),
    (
        "examples/events.json",
        "events",
        shape_ok::<Vec<ContractEvent>>,
    ),
];

/// Changes the reader and the schema judge differently, with the reason.
const KNOWN: &[(&str, &str)] = &[];

/// Another value of another JSON type than `value`.
fn retyped(value: &Value) -> Value {
    match value {
        Value::String(_) => json!(7),
        Value::Number(_) => json!("7"),
        Value::Bool(_) => json!("true"),
        Value::Array(_) => json!({}),
        Value::Object(_) => json!([]),
        Value::Null => json!(false),
    }
}

/// Every single-field change of `document`, labelled with its JSON pointer.
fn changes(document: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    walk(
        document,
        &mut Vec::new(),
        &mut |pointer, edit| {
            out.push((pointer, edit));
        },
        document,
    );
    out
}

fn walk(value: &Value, at: &mut Vec<String>, emit: &mut dyn FnMut(String, Value), root: &Value) {
    let pointer = |steps: &[String]| {
        steps
            .iter()
            .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
            .collect::<String>()
    };
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                at.push(key.clone());
                let here = pointer(at);
                let mut removed = root.clone();
                let parent = pointer(&at[..at.len() - 1]);
                if let Some(Value::Object(fields)) = removed.pointer_mut(&parent) {
                    fields.remove(key);
                }
                emit(format!("{here} removed"), removed);
                let mut edits = vec![("null", Value::Null), ("retyped", retyped(child))];
                if child.is_string() {
                    // A name given as a number: serde takes a variant's index.
                    edits.push(("as 0", json!(0)));
                }
                for (label, new) in edits {
                    let mut edited = root.clone();
                    if let Some(slot) = edited.pointer_mut(&here) {
                        *slot = new;
                    }
                    emit(format!("{here} {label}"), edited);
                }
                walk(child, at, emit, root);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                at.push(i.to_string());
                let here = pointer(at);
                let mut edited = root.clone();
                if let Some(slot) = edited.pointer_mut(&here) {
                    *slot = Value::Null;
                }
                emit(format!("{here} null"), edited);
                walk(child, at, emit, root);
                at.pop();
            }
        }
        _ => {}
    }
}

#[test]
fn one_field_changes_agree_with_the_reader() {
    let root = repo_root();
    let mut checks = Vec::new();
    let mut verdicts = Vec::new();
    for (file, kind, reader) in DOCUMENTS {
        let text =
            std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let document: Value = serde_json::from_str(&text).unwrap();
        assert!(reader(&document), "{file} does not read");
        for (label, changed) in changes(&document) {
            verdicts.push((format!("{file} {label}"), reader(&changed)));
            checks.push(Check::new(
                label,
                format!("{}{kind}", entitle_core::schema::BASE),
                changed,
            ));
        }
    }
    let outcomes = ajv(&checks);
    let mut differences = Vec::new();
    let mut known_seen = vec![0usize; KNOWN.len()];
    for ((label, engine), outcome) in verdicts.iter().zip(&outcomes) {
        if *engine == outcome.valid {
            continue;
        }
        if let Some(i) = KNOWN.iter().position(|(l, _)| label == l) {
            known_seen[i] += 1;
            continue;
        }
        differences.push(format!(
            "{label}: the reader {}, the schema {}{}",
            if *engine { "takes it" } else { "refuses it" },
            if outcome.valid {
                "takes it"
            } else {
                "refuses it: "
            },
            if outcome.valid {
                String::new()
            } else {
                outcome.summary()
            },
        ));
    }
    assert!(
        differences.is_empty(),
        "{} of {} changes differ:\n{}",
        differences.len(),
        verdicts.len(),
        differences.join("\n")
    );
    for ((label, _), seen) in KNOWN.iter().zip(&known_seen) {
        assert!(*seen > 0, "{label} is listed in KNOWN but agrees now");
    }
    eprintln!("{} one-field changes agree", verdicts.len());
}
