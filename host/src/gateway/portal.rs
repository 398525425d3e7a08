//! What the portal needs to evaluate a license in the customer's browser:
//! the documents exactly as the gateway loaded them (signed envelopes when it
//! verifies), the metered usage and the instant of its own `status`, and the
//! license's support cases. The page verifies and decides with the same
//! module; the gateway only hands the documents over.

use std::path::Path;

use serde_json::{json, Value};

use super::answer::Decided;
use super::generation::Generation;

/// The documents behind one `status` answer.
pub struct Documents {
    /// The bundle, as loaded.
    pub bundle: Value,
    /// The license, as loaded.
    pub license: Value,
    /// The usage the status was decided on.
    pub usage: Value,
    /// The instant the status was decided at.
    pub now: String,
    /// Whether the bundle and license are signed envelopes.
    pub signed: bool,
    /// The license's support cases, one entry per file.
    pub cases: Vec<Value>,
}

impl Documents {
    /// Collects the documents of a loaded license; `None` when it is not loaded.
    pub fn of(
        generation: &Generation,
        license: &str,
        usage: Value,
        now: String,
        cases: Option<&Path>,
    ) -> Option<Documents> {
        let document = generation.license_document(license)?;
        Some(Documents {
            bundle: as_json(generation.bundle_document()),
            license: as_json(document),
            usage,
            now,
            signed: generation.verifies(),
            cases: cases
                .map(|dir| read_cases(&dir.join(license)))
                .unwrap_or_default(),
        })
    }

    /// The body of `/v1/status/{license}?documents=true`: the status answer
    /// as the module wrote it, byte for byte, beside the documents.
    pub fn body<T>(self, decided: &Decided<T>) -> String {
        let documents = json!({
                "bundle": self.bundle,
                "license": self.license,
                "usage": self.usage,
                "now": self.now,
                "signed": self.signed,
                "cases": self.cases,
        });
        format!(
            "{{\"status\":{},\"documents\":{documents}}}",
            decided.envelope
        )
    }
}

/// A document the module accepted is JSON; kept as text if it ever is not,
/// so nothing is lost on the way to the page.
fn as_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Every `*.json` file of a license's case folder, by file name: a case that
/// does not parse is handed over with its error, for the page to show, not
/// dropped. A missing folder is no cases.
fn read_cases(dir: &Path) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json") && path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let file = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    serde_json::from_slice::<Value>(&bytes).map_err(|e| e.to_string())
                }) {
                Ok(case) => json!({"file": file, "case": case}),
                Err(error) => json!({"file": file, "error": error}),
            }
        })
        .collect()
}
