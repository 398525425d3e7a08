//! Compact JSON with object keys sorted by their bytes, written the same way
//! whatever features `serde_json` was built with.

use serde_json::Value;

/// Serializes `value` compactly (no whitespace), object keys in byte order,
/// strings and numbers exactly as `serde_json` writes them.
pub fn to_canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_scalar(&Value::String(key.clone()), out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut String) {
    // Serializing a string, number, boolean or null cannot fail.
    out.push_str(&serde_json::to_string(value).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_stays_compact() {
        let value = json!({"b": [1, 2.5, null], "a": {"é": "\u{1}", "Z": true}});
        assert_eq!(
            to_canonical_json(&value),
            r#"{"a":{"Z":true,"é":"\u0001"},"b":[1,2.5,null]}"#
        );
    }
}
