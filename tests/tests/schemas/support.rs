//! Running ajv over a batch of values, and what the corpus check knows:
//! which error codes are about a document's shape, and which refusals of
//! the engine no JSON Schema can state.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use entitle_conformance::repo_root;
use entitle_core::schema::Document;
use serde::Deserialize;
use serde_json::{json, Value};

/// The command that writes `schemas/`.
pub const REGENERATE: &str = "cargo xtask schemas";

/// Codes the reader gives a value of the wrong type or shape: a request
/// refused with one of them should be refused by the schema too.
pub const SHAPE_CODES: &[&str] = &[
    "wrong_type",
    "missing_field",
    "unknown_field",
    "invalid_timestamp",
    "invalid_date",
    "unknown_time_zone",
    "invalid_decimal",
    "unknown_currency",
    "unknown_operation",
];
// Not `out_of_range`: besides a value outside its type's range (a negative
// count, which the schema refuses, so the request is "refused by both"), it
// names results past the engine's horizon, which depend on other fields.

/// Corpus requests the engine refuses with a shape code that the schema
/// takes, each with why no JSON Schema can refuse it.
pub const NOT_EXPRESSIBLE: &[(&str, &str)] = &[
    (
        "errors/missing_soft_exceeded_at",
        "whether usage needs `soft_exceeded_at` depends on the bundle's limit for the metric",
    ),
    (
        "status/what_if_keeps_real_missing_crossing",
        "whether usage needs `soft_exceeded_at` depends on the bundle's limit for the metric",
    ),
    (
        "simulate/error_window_and_names",
        "a scenario's length and its events' instants are bounded relative to its `from`",
    ),
    (
        "validate/control_missing",
        "every tier sets every control the bundle declares: names from another part of the document",
    ),
    (
        "validate/control_wrong_type",
        "a tier's control value takes the type the bundle declares for that control elsewhere",
    ),
];

/// The schemas, generated from the types.
pub fn documents() -> Vec<Document> {
    entitle_core::schema::documents().unwrap_or_else(|e| panic!("generating the schemas: {e}"))
}

/// A value to validate against a schema (`$id`, or `$id#/$defs/Name`).
pub struct Check {
    pub label: String,
    pub reference: String,
    pub value: Value,
}

impl Check {
    pub fn new(label: String, reference: String, value: Value) -> Check {
        Check {
            label,
            reference,
            value,
        }
    }
}

/// What ajv says of one value.
#[derive(Debug, Deserialize)]
pub struct Outcome {
    pub valid: bool,
    pub errors: Vec<Problem>,
}

/// One of ajv's errors: where (a JSON pointer, empty for the root) and what.
#[derive(Debug, Deserialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Outcome {
    /// The first few errors, for a failure message.
    pub fn summary(&self) -> String {
        let shown: Vec<String> = self
            .errors
            .iter()
            .take(4)
            .map(|e| {
                format!(
                    "{} {}",
                    if e.path.is_empty() { "/" } else { &e.path },
                    e.message
                )
            })
            .collect();
        shown.join("; ")
    }
}

/// The engine's path `$.a.b[2]["x y"]` as the steps of a JSON pointer.
pub fn steps(path: &str) -> Vec<String> {
    let mut steps = Vec::new();
    let mut rest = path.strip_prefix('$').unwrap_or(path);
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("[\"") {
            let end = after.find("\"]").unwrap_or(after.len());
            steps.push(after[..end].replace("\\\"", "\"").replace("\\\\", "\\"));
            rest = after.get(end + 2..).unwrap_or_default();
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').unwrap_or(after.len());
            steps.push(after[..end].to_string());
            rest = after.get(end + 1..).unwrap_or_default();
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            steps.push(after[..end].to_string());
            rest = &after[end..];
        } else {
            break;
        }
    }
    steps
}

/// Whether one of ajv's errors is about what one of the engine's paths
/// names: one lies on the path to the other (ajv's root stands for a
/// missing or extra top-level field).
pub fn related(ajv_path: &str, engine_paths: &[String]) -> bool {
    let ajv: Vec<String> = ajv_path
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    engine_paths.iter().any(|engine| {
        let engine = steps(engine);
        if ajv.is_empty() {
            return engine.len() <= 1;
        }
        let n = ajv.len().min(engine.len());
        ajv[..n] == engine[..n]
    })
}

/// Validates every check with ajv, in order.
pub fn ajv(checks: &[Check]) -> Vec<Outcome> {
    let root = repo_root();
    assert!(
        root.join("node_modules/ajv-formats").is_dir(),
        "ajv is not installed: run `bash tests/setup.sh` (npm ci)"
    );
    let input = json!({
        "schemas": documents().into_iter().map(|d| d.schema).collect::<Vec<_>>(),
        "checks": checks
            .iter()
            .map(|c| json!({"ref": c.reference, "value": c.value}))
            .collect::<Vec<_>>(),
    });
    let dir = std::env::temp_dir().join(format!("entitle-schemas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let file = dir.join(format!("{}.json", RUN.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&file, serde_json::to_vec(&input).unwrap()).unwrap();
    let output = Command::new("node")
        .arg(root.join("tests/schema/ajv.mjs"))
        .arg(&file)
        .current_dir(&root)
        .output()
        .expect("cannot run node: run `bash tests/setup.sh`");
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "ajv failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let outcomes: Vec<Outcome> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(outcomes.len(), checks.len());
    outcomes
}
