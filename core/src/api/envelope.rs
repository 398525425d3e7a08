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
pub(crate) fn success<T: Serialize>(op: Op, result: &T, bundle: Option<&BundleMeta>) -> String {
    let envelope: Envelope<'_, &T> = Envelope::Ok(Success {
        op,
        result,
        meta: Meta::new(bundle),
    });
    serde_json::to_string(&envelope).unwrap_or_else(|e| {
        failure(
            vec![Error::WrongType {
                path: JsonPath::root(),
                detail: format!("the answer could not be written: {e}"),
            }],
            bundle,
        )
    })
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
}
