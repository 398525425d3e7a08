//! Reading a bundle: verified when signed, read part by part, validated,
//! and identified by its id, version and the hash of its canonical JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, JsonPath};
use crate::model::bundle::Bundle;
use crate::model::ids::KeyId;
use crate::model::order;
use crate::reading::signed::{self, DocumentKind, KeySet};
use crate::reading::validate;

/// Identifies the bundle an answer was computed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleMeta {
    /// The bundle's id.
    pub id: String,
    /// The version the vendor published.
    pub version: String,
    /// `sha256:` and the hex digest of the bundle's canonical JSON (keys
    /// sorted, no insignificant white space), so the same policy hashes the
    /// same however it was formatted.
    pub hash: String,
}

/// Reads a bundle given plain or signed (verified with `keys` when given),
/// and the key that signed it.
pub(crate) fn read_bundle_field(
    value: Value,
    keys: Option<&KeySet>,
    root: &JsonPath,
) -> Result<(Bundle, BundleMeta, Option<KeyId>), Vec<Error>> {
    let (document, at, verified) =
        signed::unwrap(value, keys, DocumentKind::Bundle, root).map_err(|e| vec![e])?;
    let (bundle, meta) = read_bundle(document, &at)?;
    Ok((bundle, meta, verified.map(|v| v.key_id)))
}

/// Reads, validates and hashes a bundle document.
pub(crate) fn read_bundle(
    value: Value,
    root: &JsonPath,
) -> Result<(Bundle, BundleMeta), Vec<Error>> {
    let hash = format!(
        "sha256:{}",
        hex(&Sha256::digest(canonical(&value).as_bytes()))
    );
    let bundle = crate::reading::parts::bundle(&value, root)?;
    let errors = validate::bundle(&bundle, root);
    if !errors.is_empty() {
        return Err(errors);
    }
    let meta = BundleMeta {
        id: bundle.bundle.to_string(),
        version: bundle.version.clone(),
        hash,
    };
    Ok((bundle, meta))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Canonical JSON: object keys sorted by code point, no white space. Written
/// by hand so the hash never depends on how a JSON library orders maps.
fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            order::sort(&mut keys);
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys_and_drops_space() {
        let v: Value = serde_json::from_str(r#"{ "b": [1, {"d": "x", "c": null}], "a": 1.5 }"#)
            .unwrap_or_default();
        assert_eq!(canonical(&v), r#"{"a":1.5,"b":[1,{"c":null,"d":"x"}]}"#);
    }
}
