//! Conformance cases: one JSON file each, checked, resolved against the
//! fixtures and turned into the exact request bytes every runtime receives.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::canonical::to_canonical_json;

/// Deepest chain of fixtures including fixtures that is accepted.
const MAX_FIXTURE_DEPTH: usize = 16;

/// One case, ready to run: its name, where it came from and the exact bytes
/// to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// `<group>/<name>`: the file's path under the cases folder, without `.json`.
    pub name: String,
    /// The case file.
    pub file: PathBuf,
    /// The case's one-sentence description.
    pub about: String,
    /// The request bytes sent byte-for-byte to every runtime.
    pub request: Vec<u8>,
    /// What the output envelope must contain (matched as a subset).
    pub expect: Value,
}

/// A case file as written on disk. Unknown fields are rejected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    about: String,
    #[serde(default)]
    request: Option<Value>,
    #[serde(default)]
    raw_request: Option<String>,
    #[serde(default)]
    raw_request_hex: Option<String>,
    #[serde(default)]
    raw_request_parts: Option<Vec<Part>>,
    expect: Value,
}

/// One piece of a `raw_request_parts` request: text, or text repeated.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Part {
    Text(String),
    Repeat(RepeatedText),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepeatedText {
    text: String,
    repeat: usize,
}

/// Largest request `raw_request_parts` may build.
const MAX_BUILT_REQUEST: usize = 64 * 1024 * 1024;

fn build_parts(parts: Vec<Part>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for part in parts {
        let (text, repeat) = match part {
            Part::Text(text) => (text, 1),
            Part::Repeat(RepeatedText { text, repeat }) => (text, repeat),
        };
        let size = text.len().saturating_mul(repeat);
        if out.len().saturating_add(size) > MAX_BUILT_REQUEST {
            bail!("the request would exceed {MAX_BUILT_REQUEST} bytes");
        }
        out.extend(text.repeat(repeat).into_bytes());
    }
    Ok(out)
}

/// The corpus folder layout: `cases/` and `fixtures/` side by side.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The folder holding `cases/<group>/<name>.json`.
    pub cases_dir: PathBuf,
    /// The folder holding `fixtures/<name>.json`.
    pub fixtures_dir: PathBuf,
}

impl Corpus {
    /// The corpus under a conformance folder (`tests/conformance`).
    pub fn at(conformance_dir: &Path) -> Self {
        Corpus {
            cases_dir: conformance_dir.join("cases"),
            fixtures_dir: conformance_dir.join("fixtures"),
        }
    }

    /// Loads every case, sorted by name. The first bad case aborts loading
    /// with an error naming its file.
    pub fn load(&self) -> Result<Vec<Case>> {
        let mut files = Vec::new();
        collect_json_files(&self.cases_dir, &mut files)
            .with_context(|| format!("listing cases under {}", self.cases_dir.display()))?;
        files.sort();
        let mut fixtures = Fixtures::new(&self.fixtures_dir);
        let mut cases = Vec::with_capacity(files.len());
        for file in files {
            let case = self
                .load_case(&file, &mut fixtures)
                .with_context(|| format!("bad conformance case {}", file.display()))?;
            cases.push(case);
        }
        Ok(cases)
    }

    /// Loads and resolves one case file.
    pub fn load_case(&self, file: &Path, fixtures: &mut Fixtures) -> Result<Case> {
        let name = case_name(&self.cases_dir, file)?;
        let text = fs::read_to_string(file).context("reading the file")?;
        let parsed: CaseFile = serde_json::from_str(&text).context("parsing the case")?;
        if parsed.about.trim().is_empty() {
            bail!("`about` is empty: say in one sentence what the case shows");
        }
        if !parsed.expect.is_object() {
            bail!("`expect` must be an object (a subset of the output envelope)");
        }
        let given = (
            parsed.request,
            parsed.raw_request,
            parsed.raw_request_hex,
            parsed.raw_request_parts,
        );
        let request = match given {
            (Some(request), None, None, None) => {
                let resolved = fixtures.resolve(request, "$.request", &mut Vec::new())?;
                to_canonical_json(&resolved).into_bytes()
            }
            (None, Some(raw), None, None) => raw.into_bytes(),
            (None, None, Some(hex), None) => decode_hex(&hex).context("in `raw_request_hex`")?,
            (None, None, None, Some(parts)) => {
                build_parts(parts).context("in `raw_request_parts`")?
            }
            _ => bail!(
                "give exactly one of `request`, `raw_request`, `raw_request_hex` and `raw_request_parts`"
            ),
        };
        Ok(Case {
            name,
            file: file.to_path_buf(),
            about: parsed.about,
            request,
            expect: parsed.expect,
        })
    }
}

/// The fixture documents, read once each.
#[derive(Debug)]
pub struct Fixtures {
    dir: PathBuf,
    cache: BTreeMap<String, Value>,
}

impl Fixtures {
    /// Fixtures read from `dir/<name>.json`.
    pub fn new(dir: &Path) -> Self {
        Fixtures {
            dir: dir.to_path_buf(),
            cache: BTreeMap::new(),
        }
    }

    /// Replaces every `{"$fixture": name, "$merge": patch}` object inside
    /// `value` by the fixture with the merge patch applied. `at` is the JSON
    /// path of `value`, for error messages; `stack` the fixtures being resolved.
    pub fn resolve(&mut self, value: Value, at: &str, stack: &mut Vec<String>) -> Result<Value> {
        match value {
            Value::Object(map) if map.contains_key("$fixture") || map.contains_key("$merge") => {
                self.resolve_reference(map, at, stack)
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (key, item) in map {
                    let inner = self.resolve(item, &format!("{at}.{key}"), stack)?;
                    out.insert(key, inner);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.into_iter().enumerate() {
                    out.push(self.resolve(item, &format!("{at}[{index}]"), stack)?);
                }
                Ok(Value::Array(out))
            }
            other => Ok(other),
        }
    }

    fn resolve_reference(
        &mut self,
        mut map: Map<String, Value>,
        at: &str,
        stack: &mut Vec<String>,
    ) -> Result<Value> {
        let name = match map.remove("$fixture") {
            Some(Value::String(name)) => name,
            Some(_) => bail!("{at}.$fixture must be a string naming a fixture"),
            None => bail!("{at} has `$merge` without `$fixture`"),
        };
        let patch = map.remove("$merge");
        if let Some(extra) = map.keys().next() {
            bail!(
                "{at} references fixture `{name}` and also has key `{extra}`: put it in `$merge`"
            );
        }
        if stack.contains(&name) {
            bail!("fixture cycle: {} -> {name}", stack.join(" -> "));
        }
        if stack.len() >= MAX_FIXTURE_DEPTH {
            bail!("fixtures nest deeper than {MAX_FIXTURE_DEPTH} at {at}");
        }
        let document = self.read(&name)?;
        stack.push(name.clone());
        let resolved = self
            .resolve(document, "$", stack)
            .with_context(|| format!("in fixture `{name}` used at {at}"));
        stack.pop();
        let mut resolved = resolved?;
        if let Some(patch) = patch {
            let patch = self.resolve(patch, &format!("{at}.$merge"), stack)?;
            merge_patch(&mut resolved, patch);
        }
        Ok(resolved)
    }

    fn read(&mut self, name: &str) -> Result<Value> {
        if let Some(value) = self.cache.get(name) {
            return Ok(value.clone());
        }
        let valid = !name.is_empty()
            && name.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            });
        if !valid {
            bail!("`{name}` is not a fixture name (letters, digits, `_`, `-`, `.`, `/`)");
        }
        let path = self.dir.join(format!("{name}.json"));
        let text = fs::read_to_string(&path)
            .with_context(|| format!("reading fixture `{name}` at {}", path.display()))?;
        let value: Value = serde_json::from_str(&text)
            .with_context(|| format!("parsing fixture `{name}` at {}", path.display()))?;
        self.cache.insert(name.to_string(), value.clone());
        Ok(value)
    }
}

/// Applies an RFC 7396 JSON merge patch to `target`: objects merge key by
/// key, `null` deletes a key, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(&key);
            } else {
                merge_patch(target.entry(key).or_insert(Value::Null), value);
            }
        }
    }
}

/// Decodes hexadecimal bytes; whitespace between digits is ignored.
pub fn decode_hex(text: &str) -> Result<Vec<u8>> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        bail!("an odd number of hex digits");
    }
    digits
        .chunks(2)
        .map(|pair| {
            let text: String = pair.iter().collect();
            u8::from_str_radix(&text, 16).map_err(|_| anyhow!("`{text}` is not a hex byte"))
        })
        .collect()
}

fn case_name(cases_dir: &Path, file: &Path) -> Result<String> {
    let relative = file
        .strip_prefix(cases_dir)
        .with_context(|| format!("{} is not under {}", file.display(), cases_dir.display()))?;
    let mut parts = Vec::new();
    for part in relative.with_extension("").components() {
        let part = part
            .as_os_str()
            .to_str()
            .context("a case path that is not UTF-8")?;
        parts.push(part.to_string());
    }
    Ok(parts.join("/"))
}

fn collect_json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_json_files(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "json") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "k": [1]});
        merge_patch(
            &mut doc,
            json!({"a": "z", "c": {"f": null}, "k": {"x": 1}, "n": null}),
        );
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}, "k": {"x": 1}}));
        let mut doc = json!([1, 2]);
        merge_patch(&mut doc, json!([3]));
        assert_eq!(doc, json!([3]));
    }

    #[test]
    fn hex_decodes_with_spaces() {
        assert_eq!(decode_hex("ff 00\n7B").unwrap(), vec![0xff, 0, 0x7b]);
        assert!(decode_hex("f").is_err());
        assert!(decode_hex("zz").is_err());
    }
}
