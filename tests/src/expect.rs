//! Subset matching of an output envelope against a case's `expect`, and the
//! first byte at which two outputs differ.

use serde_json::Value;

/// Checks that `actual` contains `expected`: every key `expected` lists is
/// present in `actual` with a matching value (recursively), arrays have the
/// same length and match element by element, everything else is equal.
/// Returns a description of the first mismatch, naming its JSON path.
pub fn subset_mismatch(expected: &Value, actual: &Value) -> Option<String> {
    mismatch_at(expected, actual, "$")
}

fn mismatch_at(expected: &Value, actual: &Value, at: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => want.iter().find_map(|(key, want)| {
            let path = format!("{at}.{key}");
            match have.get(key) {
                Some(have) => mismatch_at(want, have, &path),
                None => Some(format!("{path}: missing, expected {}", short(want))),
            }
        }),
        (Value::Array(want), Value::Array(have)) => {
            if want.len() != have.len() {
                return Some(format!(
                    "{at}: expected {} element(s), found {}: {}",
                    want.len(),
                    have.len(),
                    short(actual)
                ));
            }
            want.iter()
                .zip(have)
                .enumerate()
                .find_map(|(index, (want, have))| {
                    mismatch_at(want, have, &format!("{at}[{index}]"))
                })
        }
        (want, have) if want == have => None,
        (want, have) => Some(format!(
            "{at}: expected {}, found {}",
            short(want),
            short(have)
        )),
    }
}

/// The JSON text of `value`, shortened for messages.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 160 {
        text
    } else {
        let head: String = text.chars().take(157).collect();
        format!("{head}...")
    }
}

/// The first byte offset at which `a` and `b` differ, `None` when equal.
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    if a == b {
        return None;
    }
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    Some(common)
}

/// Shows `text` around byte `at`: up to `width` bytes either side, with the
/// differing byte marked `⟦here⟧`.
pub fn context_around(text: &[u8], at: usize, width: usize) -> String {
    let start = at.saturating_sub(width);
    let end = at.saturating_add(width).min(text.len());
    let before = text.get(start..at.min(text.len())).unwrap_or_default();
    let after = text.get(at.min(text.len())..end).unwrap_or_default();
    format!(
        "{}{}⟦here⟧{}{}",
        if start > 0 { "…" } else { "" },
        String::from_utf8_lossy(before),
        String::from_utf8_lossy(after),
        if end < text.len() { "…" } else { "" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset_ignores_unlisted_keys() {
        let actual =
            json!({"outcome": "error", "errors": [{"code": "x", "path": "$", "message": "m"}]});
        assert_eq!(
            subset_mismatch(&json!({"errors": [{"code": "x"}]}), &actual),
            None
        );
        assert!(subset_mismatch(&json!({"errors": []}), &actual).is_some());
        let found = subset_mismatch(&json!({"errors": [{"path": "$.a"}]}), &actual);
        assert_eq!(
            found.as_deref(),
            Some("$.errors[0].path: expected \"$.a\", found \"$\"")
        );
        assert!(subset_mismatch(&json!({"result": {}}), &actual).is_some());
    }

    #[test]
    fn first_difference_and_context() {
        assert_eq!(first_difference(b"abc", b"abc"), None);
        assert_eq!(first_difference(b"abc", b"abd"), Some(2));
        assert_eq!(first_difference(b"ab", b"abc"), Some(2));
        assert_eq!(context_around(b"abcdef", 3, 2), "…bc⟦here⟧de…");
    }
}
