//! The JSON Schemas of `schemas/` (draft 2020-12), generated from the types
//! the engine reads documents into (`cargo xtask schemas`).
//!
//! - The files are current: the schemas are generated again in memory and
//!   compared with the files.
//! - An independent validator, ajv with ajv-formats (pinned in
//!   `package.json`, installed by `tests/setup.sh`, driven through
//!   `tests/schema/ajv.mjs`), takes every example document of `examples/`
//!   and every document of the conformance corpus the engine accepts, and
//!   refuses the corpus requests the engine refuses for their shape, but for
//!   the cases listed in [`NOT_EXPRESSIBLE`] with the reason the schema
//!   cannot say so.
//! - The leaf strings (instants, dates, zones, currencies, decimals,
//!   percentages, times of day, ids) are taken by the schema exactly when
//!   the engine's reader takes them, over hand-picked and mutated probes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod mutations;
mod probes;
mod support;

use std::fs;
use std::path::{Path, PathBuf};

use entitle_conformance::{conformance_dir, repo_root, Corpus};
use serde_json::{json, Value};

use support::{ajv, documents, related, Check, NOT_EXPRESSIBLE, REGENERATE, SHAPE_CODES};

#[test]
fn schemas_are_current() {
    let dir = repo_root().join("schemas");
    let mut stale = Vec::new();
    for document in documents() {
        let on_disk = fs::read_to_string(dir.join(document.file)).unwrap_or_default();
        if on_disk != document.text() {
            stale.push(document.file);
        }
        let schema = &document.schema;
        assert_eq!(schema["$id"], json!(document.id()), "{}", document.file);
        assert!(
            schema["title"].is_string(),
            "{} has no title",
            document.file
        );
        assert_eq!(
            schema["$schema"],
            json!("https://json-schema.org/draft/2020-12/schema")
        );
    }
    let expected: Vec<&str> = documents().iter().map(|d| d.file).collect();
    for entry in fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !expected.contains(&name.as_str()) {
            stale.push(Box::leak(name.into_boxed_str()));
        }
    }
    assert!(
        stale.is_empty(),
        "schemas/ is not current ({}): a document type changed; run `{REGENERATE}` and commit schemas/",
        stale.join(", ")
    );
}

/// Which schema file a document is for, by the fields it has; `None` for
/// a shape no schema describes.
fn kind_of(value: &Value) -> Option<&'static str> {
    if let Value::Array(items) = value {
        let all = |keys: &[&str]| {
            !items.is_empty()
                && items
                    .iter()
                    .all(|item| keys.iter().all(|k| item.get(k).is_some()))
        };
        return if all(&["installation", "license"]) {
            Some("deployments")
        } else if all(&["type", "license", "at"]) {
            Some("events")
        } else {
            None
        };
    }
    let object = value.as_object()?;
    let has = |key: &str| object.contains_key(key);
    let only = |keys: &[&str]| object.keys().all(|k| keys.contains(&k.as_str()));
    Some(if has("op") {
        "request"
    } else if has("format") || has("payload") || has("signature") {
        "signed"
    } else if has("bundle") {
        "bundle"
    } else if has("license") {
        "license"
    } else if has("keys") {
        "keys"
    } else if has("scenario") {
        "scenario"
    } else if has("case") {
        "case"
    } else if has("time_zone") && (has("weekly") || has("always")) {
        "calendar"
    } else if only(&["installations", "usage"]) && !has("metrics") && !object.is_empty() {
        "telemetry"
    } else if only(&["metrics", "active_seats"]) {
        "usage"
    } else {
        return None;
    })
}

fn schema_ref(kind: &str) -> String {
    format!("{}{kind}", entitle_core::schema::BASE)
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Every example document validates against the schema of its kind (an
/// array of documents: each one).
#[test]
fn examples_validate() {
    let root = repo_root();
    let mut files = Vec::new();
    json_files(&root.join("examples"), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no examples found");
    let mut checks = Vec::new();
    for file in &files {
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let value: Value = serde_json::from_str(&fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
        // A file of several documents (licenses) is checked one by one.
        let items = match (&value, kind_of(&value)) {
            (Value::Array(items), None) => items.clone(),
            _ => vec![value.clone()],
        };
        for (i, item) in items.into_iter().enumerate() {
            let kind = kind_of(&item).unwrap_or_else(|| {
                panic!("{name}: no schema for this document; teach `kind_of` in tests/tests/schemas/main.rs its kind")
            });
            checks.push(Check::new(
                format!("{name}[{i}] as {kind}"),
                schema_ref(kind),
                item,
            ));
        }
    }
    let failed: Vec<String> = ajv(&checks)
        .into_iter()
        .zip(&checks)
        .filter(|(outcome, _)| !outcome.valid)
        .map(|(outcome, check)| format!("{}: {}", check.label, outcome.summary()))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} example documents fail their schema:\n{}",
        failed.len(),
        checks.len(),
        failed.join("\n")
    );
    eprintln!("{} example documents validate", checks.len());
}

/// The documents inside a request, each with the schema of its kind.
fn documents_of(request: &Value) -> Vec<(String, &'static str, Value)> {
    let mut found = Vec::new();
    let Some(object) = request.as_object() else {
        return found;
    };
    let mut add = |at: String, value: &Value, plain: &'static str| {
        let kind = if value.is_object() && kind_of(value) == Some("signed") {
            "signed"
        } else {
            plain
        };
        if value.is_object() || value.is_array() {
            found.push((at, kind, value.clone()));
        }
    };
    for (field, value) in object {
        let plain = match field.as_str() {
            "bundle" | "against" => "bundle",
            "license" => "license",
            "usage" => "usage",
            "keys" => "keys",
            "case" => "case",
            "scenario" => "scenario",
            "calendar" => "calendar",
            "document" => "signed",
            "deployments" => "deployments",
            "events" => "events",
            "telemetry" => "telemetry",
            "licenses" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    add(format!("$.licenses[{i}]"), item, "license");
                }
                continue;
            }
            _ => continue,
        };
        add(format!("$.{field}"), value, plain);
    }
    found
}

/// One corpus request read from its case's `request` (cases written as raw
/// bytes are about bytes, not shapes), with the engine's answer.
struct Read {
    name: String,
    request: Value,
    ok: bool,
    codes: Vec<String>,
    paths: Vec<String>,
}

impl Read {
    /// Whether every shape error is an instant the reader refuses for the
    /// known difference `probes::at_the_ends` describes.
    fn at_the_ends(&self) -> bool {
        self.codes.iter().zip(&self.paths).all(|(code, path)| {
            if !SHAPE_CODES.contains(&code.as_str()) {
                return true;
            }
            let mut value = &self.request;
            for step in support::steps(path) {
                value = match value {
                    Value::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
                    other => other.get(&step),
                }
                .unwrap_or(&Value::Null);
            }
            code == "invalid_timestamp" && value.as_str().is_some_and(probes::at_the_ends)
        })
    }
}

fn corpus() -> Vec<Read> {
    let cases = Corpus::at(&conformance_dir()).load().unwrap();
    let mut read = Vec::new();
    for case in cases {
        let file: Value = serde_json::from_str(&fs::read_to_string(&case.file).unwrap()).unwrap();
        if file.get("request").is_none() {
            continue;
        }
        let request: Value = serde_json::from_slice(&case.request).unwrap();
        let answer: Value =
            serde_json::from_str(&entitle_core::api::evaluate(&case.request)).unwrap();
        let errors = answer["errors"].as_array().cloned().unwrap_or_default();
        let field = |e: &Value, name: &str| e[name].as_str().unwrap_or_default().to_string();
        read.push(Read {
            name: case.name,
            request,
            ok: answer["outcome"] == "ok",
            codes: errors.iter().map(|e| field(e, "code")).collect(),
            paths: errors.iter().map(|e| field(e, "path")).collect(),
        });
    }
    read
}

/// Every corpus request the engine answers, and every document in it,
/// validates; every request it refuses for a document's shape is refused
/// by the schema too, but for [`NOT_EXPRESSIBLE`].
#[test]
fn corpus_documents_validate() {
    let corpus = corpus();
    assert!(
        corpus.len() > 100,
        "the corpus has {} requests",
        corpus.len()
    );
    let mut checks = Vec::new();
    for read in &corpus {
        checks.push(Check::new(
            format!("{} (request)", read.name),
            schema_ref("request"),
            read.request.clone(),
        ));
        if read.ok {
            for (at, kind, document) in documents_of(&read.request) {
                checks.push(Check::new(
                    format!("{} {at} as {kind}", read.name),
                    schema_ref(kind),
                    document,
                ));
            }
        }
    }
    let outcomes = ajv(&checks);
    let mut problems = Vec::new();
    // answered, refused by both, refused by the engine beyond shape,
    // refused for a shape the schema cannot express
    let mut counts = [0usize; 4];
    let mut stale = Vec::new();
    let mut outcomes = outcomes.into_iter().zip(&checks);
    for read in &corpus {
        let (request, _) = outcomes.next().unwrap();
        let shape = read.codes.iter().any(|c| SHAPE_CODES.contains(&c.as_str()));
        let listed = NOT_EXPRESSIBLE.iter().any(|(name, _)| *name == read.name);
        if read.ok {
            counts[0] += 1;
            if !request.valid {
                problems.push(format!(
                    "{}: the engine answers it, the schema refuses it: {}",
                    read.name,
                    request.summary()
                ));
            }
            for _ in documents_of(&read.request) {
                let (outcome, check) = outcomes.next().unwrap();
                if !outcome.valid {
                    problems.push(format!("{}: {}", check.label, outcome.summary()));
                }
            }
        } else if !request.valid {
            // Refused by both: the schema must refuse it where the engine does.
            counts[1] += 1;
            if listed {
                stale.push(read.name.clone());
            }
            if !request.errors.iter().any(|e| related(&e.path, &read.paths)) {
                problems.push(format!(
                    "{}: the engine refuses it at {}, the schema elsewhere: {}",
                    read.name,
                    read.paths.join(", "),
                    request.summary()
                ));
            }
        } else if shape && !listed && !read.at_the_ends() {
            problems.push(format!(
                "{}: the engine refuses it ({} at {}), the schema takes it; if no JSON Schema can say why, list it in NOT_EXPRESSIBLE with the reason",
                read.name,
                read.codes.join(", "),
                read.paths.join(", ")
            ));
        } else if shape {
            counts[3] += 1;
        } else {
            counts[2] += 1;
        }
    }
    let missing: Vec<&str> = NOT_EXPRESSIBLE
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !corpus.iter().any(|read| read.name == *name))
        .collect();
    assert!(
        missing.is_empty(),
        "NOT_EXPRESSIBLE lists cases the corpus no longer has: {}",
        missing.join(", ")
    );
    let listed_but_refused = stale;
    assert!(
        listed_but_refused.is_empty(),
        "listed in NOT_EXPRESSIBLE, yet the schema refuses them: take them off the list: {}",
        listed_but_refused.join(", ")
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!(
        "{} requests answered and valid, {} refused by both, {} refused by the engine beyond their shape and valid, {} refused for a shape the schema cannot express",
        counts[0], counts[1], counts[2], counts[3]
    );
}
