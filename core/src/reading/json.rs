//! Reading JSON strictly: duplicate keys, excessive depth and every serde
//! failure become an [`Error`] naming the field by its JSON path.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{coded, Conflict, Error, JsonPath, MARK};
use crate::reading::strict::{Step, Strict, Trail};
use std::cell::RefCell;

/// The largest request the engine reads, in bytes.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The deepest nesting the engine reads; no document of the schema comes close.
pub const MAX_DEPTH: usize = 64;

/// Parses request bytes into a JSON value, refusing invalid UTF-8, oversized
/// input, syntax errors, duplicate keys and nesting deeper than [`MAX_DEPTH`].
pub fn parse(bytes: &[u8], root: &JsonPath) -> Result<Value, Error> {
    if bytes.len() > MAX_REQUEST_BYTES {
        return Err(Error::TooLarge {
            path: root.clone(),
            size: bytes.len(),
            limit: MAX_REQUEST_BYTES,
        });
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(Error::InvalidUtf8 { path: root.clone() });
    }
    // Parse without tracking paths first: tracking allocates for every key.
    // Only a document that fails is parsed again to find where.
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = match StrictValue::deserialize_at(&mut deserializer, 0) {
        Ok(value) => value,
        Err(_) => return Err(locate(bytes, root)),
    };
    if let Err(error) = deserializer.end() {
        return Err(from_serde_json(&error, root.clone()));
    }
    Ok(value)
}

/// Parses again with path tracking, to report where a document fails.
fn locate(bytes: &[u8], root: &JsonPath) -> Error {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let trail = RefCell::new(Vec::new());
    match StrictValue::deserialize_tracked(&mut deserializer, 0, Some(&trail)) {
        Err(error) => {
            let mut path = root.clone();
            for step in trail.borrow().iter() {
                path = match step {
                    Owned::Key(key) => path.key(key),
                    Owned::Index(index) => path.index(*index),
                };
            }
            from_serde_json(&error, path)
        }
        Ok(_) => Error::InvalidJson {
            path: root.clone(),
            detail: String::from("the document could not be read"),
        },
    }
}

/// Deserializes a typed document from a parsed value, reporting the first
/// problem with its full path under `root`.
pub fn typed<T: DeserializeOwned>(value: Value, root: &JsonPath) -> Result<T, Error> {
    typed_ref(&value, root)
}

/// [`typed`] from a borrowed value, which the caller keeps (to read it
/// again part by part when it fails: see `parts`).
pub(crate) fn typed_ref<T: DeserializeOwned>(value: &Value, root: &JsonPath) -> Result<T, Error> {
    let trail = RefCell::new(Vec::new());
    T::deserialize(Strict::new(value, &trail)).map_err(|error| located(&error, &trail, root))
}

/// The typed error for a failure of [`typed_ref`], at the path its trail
/// leads to under `root`. Out of line: it is the same for every type read,
/// and inlined it would be copied into each.
#[inline(never)]
fn located(error: &serde_json::Error, trail: &Trail<'_>, root: &JsonPath) -> Error {
    let trail = trail.borrow();
    let mut path = root.clone();
    for step in trail.iter() {
        path = match step {
            Step::Key(key) => path.key(key),
            Step::Index(index) => path.index(*index),
        };
    }
    let last_key = match trail.last() {
        Some(Step::Key(key)) => Some(*key),
        _ => None,
    };
    classify(&error.to_string(), path, last_key)
}

/// Whether a value reads as `T`: `Err(Some(error))` located and described
/// (as [`typed_ref`] does) when `describe` is set, `Err(None)` when not,
/// for counting problems past those reported. One copy of `T`'s reading
/// code serves both. (An error type that costs nothing to make would save
/// serde's descriptions too, but doubles the reading code of every type in
/// the module: 35 KB gzipped.)
pub(crate) fn problem<T: DeserializeOwned>(
    value: &Value,
    root: &JsonPath,
    describe: bool,
) -> Result<(), Option<Error>> {
    let trail = RefCell::new(Vec::new());
    match T::deserialize(Strict::new(value, &trail)) {
        Ok(_) => Ok(()),
        Err(error) => Err(describe.then(|| located(&error, &trail, root))),
    }
}

/// The error reading `value` at `root` gives when a type expecting
/// `expected` (serde's words: `a map`, `a sequence`) is given something
/// else, made without that type's reading code.
#[inline(never)]
pub(crate) fn refused(value: &Value, expected: &str, root: &JsonPath) -> Error {
    let error: serde_json::Error = crate::reading::strict::invalid_type(value, &expected);
    classify(&error.to_string(), root.clone(), None)
}

fn from_serde_json(error: &serde_json::Error, path: JsonPath) -> Error {
    let text = error.to_string();
    if error.is_syntax() || error.is_eof() {
        let detail = match text.find(" at line ") {
            Some(at) => text.get(..at).unwrap_or(&text).to_string(),
            None => text.clone(),
        };
        if detail.starts_with("number out of range") {
            return Error::OutOfRange {
                path,
                detail: String::from("the number is too large for any field"),
            };
        }
        if detail.contains("recursion limit") {
            return Error::TooDeep {
                path,
                limit: MAX_DEPTH,
            };
        }
        return Error::InvalidJson {
            path,
            detail: format!(
                "{detail} at line {}, column {}",
                error.line(),
                error.column()
            ),
        };
    }
    classify(&text, path, None)
}

/// Turns a serde message into the typed error it describes. `last_key` is
/// the key `path` ends with, exactly as the document wrote it, if it ends
/// with one.
pub(crate) fn classify(message: &str, path: JsonPath, last_key: Option<&str>) -> Error {
    let message = match message.find(" at line ") {
        Some(at) => message.get(..at).unwrap_or(message),
        None => message,
    };
    if let Some(rest) = message.strip_prefix(MARK) {
        let (code, value) = rest.split_once(MARK).unwrap_or((rest, ""));
        let value = value.to_string();
        return match code {
            "invalid_timestamp" => Error::InvalidTimestamp { path, value },
            "invalid_date" => Error::InvalidDate { path, value },
            "unknown_time_zone" => Error::UnknownTimeZone { path, value },
            "invalid_decimal" => Error::InvalidDecimal { path, value },
            "unknown_currency" => Error::UnknownCurrency { path, value },
            "unknown_field" => Error::UnknownField {
                path: path.key(&value),
                field: value,
            },
            "duplicate_key" => Error::DuplicateKey {
                path: path.key(&value),
                key: value,
            },
            "too_deep" => Error::TooDeep {
                path,
                limit: MAX_DEPTH,
            },
            "out_of_range" => Error::OutOfRange {
                path,
                detail: value,
            },
            "ambiguous_check" => Error::Contradiction {
                path,
                detail: value,
                code: Conflict::AmbiguousCheck,
            },
            _ => Error::WrongType {
                path,
                detail: value,
            },
        };
    }
    if let Some(field) = backticked(message, "missing field `") {
        return Error::MissingField {
            path: path.key(&field),
            field,
        };
    }
    // Serde fails on an unknown field as it reads the field's key, so the
    // path names it already; a tagged enum fails once it has read the whole
    // object, and the path names only the object.
    if let Some(key) = last_key.filter(|key| {
        message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.strip_prefix(*key))
            .is_some_and(|rest| rest.starts_with('`'))
    }) {
        return Error::UnknownField {
            path,
            field: key.to_string(),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        // The field may hold backticks itself: it ends where the list of
        // the fields expected (which holds no such text) begins.
        let end = rest
            .rfind("`, expected ")
            .or_else(|| rest.rfind("`, there are no fields"))
            .or_else(|| rest.find('`'))
            .unwrap_or(rest.len());
        let field = rest.get(..end).unwrap_or(rest).to_string();
        return Error::UnknownField {
            path: path.key(&field),
            field,
        };
    }
    if message.starts_with("number out of range") {
        return Error::OutOfRange {
            path,
            detail: String::from("the number is too large for any field"),
        };
    }
    if let Some(float) = backticked(message, "invalid type: floating point `") {
        // serde_json reads integers past 2^64-1 as floats: an integral float
        // where a count is expected is a count out of range, not a wrong type.
        let integral = float
            .parse::<f64>()
            .is_ok_and(|f| f.is_finite() && f.fract() == 0.0 && f.abs() >= 9.0e18);
        if integral && message.contains("expected u") {
            return Error::OutOfRange {
                path,
                detail: String::from("a count must be at most 18446744073709551615"),
            };
        }
    }
    if message.starts_with("invalid value: integer") {
        return Error::OutOfRange {
            path,
            detail: message.to_string(),
        };
    }
    Error::WrongType {
        path,
        detail: message.to_string(),
    }
}

fn backticked(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    let end = rest.find('`')?;
    rest.get(..end).map(str::to_string)
}

/// A step of the path to where parsing failed, owned because the parser
/// streams its keys.
enum Owned {
    Key(String),
    Index(usize),
}

type OwnedTrail = RefCell<Vec<Owned>>;

/// A JSON value read with duplicate-key and depth checks.
struct StrictValue;

impl StrictValue {
    fn deserialize_at<'de, D: Deserializer<'de>>(
        deserializer: D,
        depth: usize,
    ) -> Result<Value, D::Error> {
        Self::deserialize_tracked(deserializer, depth, None)
    }

    /// With a trail, records the path of the value being read, so that a
    /// failure can be located; parsing records none on its first, fast pass.
    fn deserialize_tracked<'de, D: Deserializer<'de>>(
        deserializer: D,
        depth: usize,
        trail: Option<&OwnedTrail>,
    ) -> Result<Value, D::Error> {
        if depth > MAX_DEPTH {
            return Err(coded("too_deep", ""));
        }
        deserializer.deserialize_any(StrictVisitor { depth, trail })
    }
}

struct StrictVisitor<'t> {
    depth: usize,
    trail: Option<&'t OwnedTrail>,
}

struct Nested<'t> {
    depth: usize,
    trail: Option<&'t OwnedTrail>,
}

impl<'de> de::DeserializeSeed<'de> for Nested<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        StrictValue::deserialize_tracked(deserializer, self.depth, self.trail)
    }
}

impl StrictVisitor<'_> {
    fn push(&self, step: Owned) {
        if let Some(trail) = self.trail {
            trail.borrow_mut().push(step);
        }
    }

    fn pop(&self) {
        if let Some(trail) = self.trail {
            trail.borrow_mut().pop();
        }
    }

    fn nested(&self) -> Nested<'_> {
        Nested {
            depth: self.depth + 1,
            trail: self.trail,
        }
    }
}

impl<'de> Visitor<'de> for StrictVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any json value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| coded("out_of_range", "the number is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            self.push(Owned::Index(items.len()));
            let item = seq.next_element_seed(self.nested())?;
            self.pop();
            match item {
                Some(item) => items.push(item),
                None => break,
            }
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.trail.is_some() {
                self.push(Owned::Key(key.clone()));
            }
            let value = map.next_value_seed(self.nested())?;
            self.pop();
            // One search of the map for both the check and the insert.
            match object.entry(key) {
                serde_json::map::Entry::Vacant(vacant) => {
                    vacant.insert(value);
                }
                serde_json::map::Entry::Occupied(taken) => {
                    return Err(coded("duplicate_key", taken.key()));
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde::Deserialize;

    fn err(text: &str) -> Error {
        parse(text.as_bytes(), &JsonPath::root()).expect_err("should fail")
    }

    #[test]
    fn duplicate_key_is_refused_with_its_path() {
        let e = err(r#"{"a":{"b":1,"b":2}}"#);
        assert_eq!(e.code(), "duplicate_key");
        assert_eq!(e.path().as_str(), "$.a.b");
    }

    #[test]
    fn syntax_error_reports_position() {
        let e = err(r#"{"a": }"#);
        assert_eq!(e.code(), "invalid_json");
        assert!(e.to_string().contains("line 1, column 7"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(err(&text).code(), "too_deep");
        let deeper = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(err(&deeper).code(), "too_deep");
    }

    #[test]
    fn trailing_garbage_is_refused() {
        assert_eq!(err(r#"{} x"#).code(), "invalid_json");
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let e = parse(&[b'"', 0xff, b'"'], &JsonPath::root()).expect_err("fails");
        assert_eq!(e.code(), "invalid_utf8");
    }

    #[test]
    fn unknown_keys_are_named_once_however_they_are_written() {
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        for key in ["c", "a b", "x.y", "a\"b", "ü", "", "[0]"] {
            let quoted = serde_json::to_string(key).unwrap();
            let text = format!(r#"{{"a":1,{quoted}:0}}"#);
            let v = parse(text.as_bytes(), &JsonPath::root()).unwrap();
            let e = typed::<T>(v, &JsonPath::root().key("doc")).unwrap_err();
            assert_eq!(e.code(), "unknown_field");
            assert_eq!(e.path(), &JsonPath::root().key("doc").key(key), "{key:?}");
        }
    }

    #[test]
    fn typed_errors_carry_paths() {
        #[derive(Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            a: u32,
            b: Vec<u8>,
        }
        let v = parse(br#"{"a":1,"b":[1,"x"]}"#, &JsonPath::root()).unwrap();
        let e = typed::<T>(v, &JsonPath::root().key("doc")).unwrap_err();
        assert_eq!(
            (e.code().as_str(), e.path().as_str()),
            ("wrong_type", "$.doc.b[1]")
        );
        let v = parse(br#"{"a":1}"#, &JsonPath::root()).unwrap();
        let e = typed::<T>(v, &JsonPath::root()).unwrap_err();
        assert_eq!(
            (e.code().as_str(), e.path().as_str()),
            ("missing_field", "$.b")
        );
        let v = parse(br#"{"a":1,"b":[],"c":0}"#, &JsonPath::root()).unwrap();
        let e = typed::<T>(v, &JsonPath::root()).unwrap_err();
        assert_eq!(
            (e.code().as_str(), e.path().as_str()),
            ("unknown_field", "$.c")
        );
        let v = parse(br#"{"a":-1,"b":[]}"#, &JsonPath::root()).unwrap();
        let e = typed::<T>(v, &JsonPath::root()).unwrap_err();
        assert_eq!(
            (e.code().as_str(), e.path().as_str()),
            ("out_of_range", "$.a")
        );
    }
}
