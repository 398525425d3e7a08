//! Reading a [`ControlValue`] by hand, exactly as `#[serde(untagged)]`
//! reads it: a boolean, else an integer, else a string, and anything else
//! refused with serde's own message. Serde's untagged reading buffers the
//! value first and tries a reader per variant on the buffer, which costs
//! the module a copy of its buffered reader for this one small type.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::ControlValue;

/// What serde's untagged reading says when no variant reads.
const MISMATCH: &str = "data did not match any variant of untagged enum ControlValue";

impl<'de> Deserialize<'de> for ControlValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ControlValueVisitor)
    }
}

struct ControlValueVisitor;

impl<'de> Visitor<'de> for ControlValueVisitor {
    type Value = ControlValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("untagged enum ControlValue")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ControlValue, E> {
        Ok(ControlValue::Boolean(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ControlValue, E> {
        Ok(ControlValue::Integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ControlValue, E> {
        i64::try_from(v)
            .map(ControlValue::Integer)
            .map_err(|_| E::custom(MISMATCH))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ControlValue, E> {
        Err(E::custom(MISMATCH))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ControlValue, E> {
        Ok(ControlValue::Choice(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<ControlValue, E> {
        Ok(ControlValue::Choice(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ControlValue, E> {
        std::str::from_utf8(v)
            .map(|text| ControlValue::Choice(text.to_owned()))
            .map_err(|_| E::custom(MISMATCH))
    }

    fn visit_unit<E: de::Error>(self) -> Result<ControlValue, E> {
        Err(E::custom(MISMATCH))
    }

    fn visit_none<E: de::Error>(self) -> Result<ControlValue, E> {
        Err(E::custom(MISMATCH))
    }

    fn visit_some<D: Deserializer<'de>>(self, _: D) -> Result<ControlValue, D::Error> {
        Err(de::Error::custom(MISMATCH))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<ControlValue, A::Error> {
        Err(de::Error::custom(MISMATCH))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<ControlValue, A::Error> {
        Err(de::Error::custom(MISMATCH))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::ControlValue;
    use crate::error::JsonPath;
    use crate::reading::json;

    /// The type as serde's derive reads it, for comparison (named alike,
    /// as serde's message names it).
    mod derived {
        use serde::Deserialize;

        #[derive(Debug, Deserialize)]
        #[serde(untagged)]
        pub enum ControlValue {
            Boolean(bool),
            Integer(i64),
            Choice(String),
        }
    }

    use derived::ControlValue as Derived;

    impl From<Derived> for ControlValue {
        fn from(derived: Derived) -> ControlValue {
            match derived {
                Derived::Boolean(b) => ControlValue::Boolean(b),
                Derived::Integer(i) => ControlValue::Integer(i),
                Derived::Choice(s) => ControlValue::Choice(s),
            }
        }
    }

    /// Every kind of JSON value, alone and as a map's value, reads (or is
    /// refused, with the same error at the same path) through the strict
    /// reader as serde's derive reads it.
    #[test]
    fn it_reads_as_serde_s_untagged_derive() {
        let values = [
            json!(true),
            json!(false),
            json!(0),
            json!(-1),
            json!(7),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(i64::MAX as u64 + 1),
            json!(u64::MAX),
            json!(1.5),
            json!(-0.0),
            json!(1e300),
            json!(""),
            json!("enforce"),
            json!("é \" \\"),
            Value::Null,
            json!([]),
            json!([1, "a"]),
            json!({}),
            json!({"a": 1}),
        ];
        let root = JsonPath::root();
        for value in values {
            let wrapped = json!({ "control": value.clone() });
            let ours = json::typed_ref::<std::collections::BTreeMap<String, ControlValue>>(
                &wrapped, &root,
            );
            let derived =
                json::typed_ref::<std::collections::BTreeMap<String, Derived>>(&wrapped, &root)
                    .map(|map| {
                        map.into_iter()
                            .map(|(k, v)| (k, ControlValue::from(v)))
                            .collect()
                    });
            assert_eq!(ours, derived, "{value}");
            let ours = json::typed_ref::<ControlValue>(&value, &root);
            let derived = json::typed_ref::<Derived>(&value, &root).map(ControlValue::from);
            assert_eq!(ours, derived, "{value}");
            // serde_json's own reader (the engine reads bundles only with
            // the strict one) gives the same values and refuses the same
            // input, its message placed at the value rather than after it.
            let text = value.to_string();
            let ours = serde_json::from_str::<ControlValue>(&text).ok();
            let derived = serde_json::from_str::<Derived>(&text)
                .map(ControlValue::from)
                .ok();
            assert_eq!(ours, derived, "{value}");
        }
    }
}
