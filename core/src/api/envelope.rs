//! The answer envelope: the one shape every answer has, written by the
//! engine and read by hosts with these same types. Success is
//! `{"outcome":"ok","op":…,"result":…,"meta":…}`, failure
//! `{"outcome":"error","errors":[…],"meta":…}`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::op::Op;
use crate::error::{Error, ErrorReport, JsonPath};
use crate::reading::bundle::BundleMeta;

/// Version of the rules engine, reported in every answer.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What every answer says of how it was computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta<'a> {
    /// The engine's version.
    pub engine: Cow<'a, str>,
    /// The bundle the answer was computed under, once one was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<Cow<'a, BundleMeta>>,
}

impl<'a> Meta<'a> {
    /// This engine's meta, under `bundle` when there is one.
    pub fn new(bundle: Option<&'a BundleMeta>) -> Meta<'a> {
        Meta {
            engine: Cow::Borrowed(ENGINE_VERSION),
            bundle: bundle.map(Cow::Borrowed),
        }
    }
}

/// An answer: the operation's result, or every problem found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Envelope<'a, T> {
    /// The operation answered.
    Ok(Success<'a, T>),
    /// The request was refused; nothing was decided.
    Error(Failure<'a>),
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Success<'a, T> {
    /// The operation answered.
    pub op: Op,
    /// Its result.
    pub result: T,
    /// How it was computed.
    pub meta: Meta<'a>,
}

/// A refusal: every problem found, each with its code, path and help.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure<'a> {
    /// The problems, at most [`crate::error::MAX_ERRORS`] and a count of the rest.
    pub errors: Vec<ErrorReport>,
    /// How far the request was read.
    pub meta: Meta<'a>,
}

impl<'a, T> Envelope<'a, T> {
    /// The result, if the operation answered.
    pub fn result(&self) -> Option<&T> {
        match self {
            Envelope::Ok(success) => Some(&success.result),
            Envelope::Error(_) => None,
        }
    }

    /// The errors; empty when the operation answered.
    pub fn errors(&self) -> &[ErrorReport] {
        match self {
            Envelope::Ok(_) => &[],
            Envelope::Error(failure) => &failure.errors,
        }
    }

    /// How the answer was computed.
    pub fn meta(&self) -> &Meta<'a> {
        match self {
            Envelope::Ok(success) => &success.meta,
            Envelope::Error(failure) => &failure.meta,
        }
    }
}

/// The success envelope as JSON, with the bundle's identity in `meta` when
/// there is one. The only writer of successes.
///
/// The bytes are those of `Envelope::Ok(Success { op, result, meta })`
/// serialized whole; only the result is written by code for its type, the
/// envelope around it by code shared by every type.
pub(crate) fn success<T: Serialize>(op: Op, result: &T, bundle: Option<&BundleMeta>) -> String {
    let mut out = success_start(op);
    match serde_json::to_writer(&mut out, result) {
        Ok(()) => success_end(out, bundle),
        Err(e) => unwritable(&e, bundle),
    }
}

/// A success envelope up to its result: `{"outcome":"ok","op":…,"result":`.
#[inline(never)]
fn success_start(op: Op) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(br#"{"outcome":"ok","op":"#);
    // An op is a name, which always serializes.
    let _ = serde_json::to_writer(&mut out, &op);
    out.extend_from_slice(br#","result":"#);
    out
}

/// A success envelope after its result: `,"meta":…}`.
#[inline(never)]
fn success_end(mut out: Vec<u8>, bundle: Option<&BundleMeta>) -> String {
    out.extend_from_slice(br#","meta":"#);
    // The meta holds only strings, which always serialize.
    let _ = serde_json::to_writer(&mut out, &Meta::new(bundle));
    out.push(b'}');
    // serde_json writes UTF-8 only.
    String::from_utf8(out).unwrap_or_default()
}

/// The failure answered when a result cannot be written.
#[inline(never)]
fn unwritable(e: &serde_json::Error, bundle: Option<&BundleMeta>) -> String {
    failure(
        vec![Error::WrongType {
            path: JsonPath::root(),
            detail: format!("the answer could not be written: {e}"),
        }],
        bundle,
    )
}

/// The failure envelope as JSON, listing at most
/// [`crate::error::MAX_ERRORS`] errors (see [`ErrorReport::list`]). The only
/// writer of failures.
pub(crate) fn failure(errors: Vec<Error>, bundle: Option<&BundleMeta>) -> String {
    let envelope: Envelope<'_, ()> = Envelope::Error(Failure {
        errors: ErrorReport::list(&errors),
        meta: Meta::new(bundle),
    });
    // Error reports hold only strings and codes, which always serialize.
    serde_json::to_string(&envelope).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_back_with_the_types_that_wrote_it() {
        let meta = BundleMeta {
            id: "b".into(),
            version: "1".into(),
            hash: "sha256:00".into(),
        };
        let text = success(Op::Check, &serde_json::json!({"x": 1}), Some(&meta));
        assert_eq!(
            text,
            r#"{"outcome":"ok","op":"check","result":{"x":1},"meta":{"engine":"0.1.0","bundle":{"id":"b","version":"1","hash":"sha256:00"}}}"#
                .replace("0.1.0", ENGINE_VERSION)
        );
        let read: Envelope<'_, serde_json::Value> =
            serde_json::from_str(&text).unwrap_or_else(|_| {
                Envelope::Error(Failure {
                    errors: vec![],
                    meta: Meta::new(None),
                })
            });
        assert_eq!(read.result(), Some(&serde_json::json!({"x": 1})));
        assert_eq!(read.meta().bundle.as_deref(), Some(&meta));

        let text = failure(
            vec![Error::MissingField {
                path: JsonPath::root().key("now"),
                field: "now".into(),
            }],
            None,
        );
        let read: Envelope<'_, serde_json::Value> =
            serde_json::from_str(&text).unwrap_or_else(|_| {
                Envelope::Ok(Success {
                    op: Op::Load,
                    result: serde_json::Value::Null,
                    meta: Meta::new(None),
                })
            });
        assert_eq!(read.errors().len(), 1);
        assert_eq!(
            read.errors().first().map(|e| e.code.as_str()),
            Some("missing_field")
        );
        assert_eq!(read.meta().bundle, None);
    }

    /// `success` writes the envelope around the result itself: the bytes
    /// are those of the envelope serialized whole, for every op, with and
    /// without a bundle, and a result that cannot be written is refused as
    /// serializing the whole refused it.
    #[test]
    fn a_success_is_the_envelope_serialized_whole() {
        let meta = BundleMeta {
            id: "b \"q\" é".into(),
            version: "1".into(),
            hash: "sha256:00".into(),
        };
        let results = [
            serde_json::json!(null),
            serde_json::json!("text \u{1} \"quoted\""),
            serde_json::json!([1, -2, 3.5, {"a": {"b": []}}]),
            serde_json::json!({"x": 1, "y": [true, false]}),
        ];
        for op in crate::api::op::OPS.iter().map(|spec| spec.op) {
            for bundle in [None, Some(&meta)] {
                for result in &results {
                    let whole: Envelope<'_, &serde_json::Value> = Envelope::Ok(Success {
                        op,
                        result,
                        meta: Meta::new(bundle),
                    });
                    assert_eq!(
                        success(op, result, bundle),
                        serde_json::to_string(&whole).unwrap_or_default()
                    );
                }
            }
        }
        let mut bad = std::collections::BTreeMap::new();
        bad.insert(vec![1u8], 1u8);
        let whole: Envelope<'_, &std::collections::BTreeMap<Vec<u8>, u8>> = Envelope::Ok(Success {
            op: Op::Check,
            result: &bad,
            meta: Meta::new(Some(&meta)),
        });
        let refused = match serde_json::to_string(&whole) {
            Ok(_) => String::from("a map with a list for a key was written"),
            Err(e) => failure(
                vec![Error::WrongType {
                    path: JsonPath::root(),
                    detail: format!("the answer could not be written: {e}"),
                }],
                Some(&meta),
            ),
        };
        assert!(refused.contains("the answer could not be written"));
        assert_eq!(success(Op::Check, &bad, Some(&meta)), refused);
    }
}
