//! Assembles a request `{"op":..., "bundle":..., ...}` from documents and
//! parameters, embedding each document's JSON text verbatim (key order,
//! duplicates and all: judging them is the engine's job). The host checks
//! only that each document is JSON, to name the file that is not.

use entitle_core::Op;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::HostError;

/// A request being assembled, field by field, in the order given.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    text: String,
}

/// Checks that `bytes` are one JSON value; `source` names them in errors.
fn raw_json<'a>(source: &str, bytes: &'a [u8]) -> Result<&'a RawValue, HostError> {
    serde_json::from_slice::<&RawValue>(bytes).map_err(|error| HostError::InvalidDocument {
        path: source.to_string(),
        detail: error.to_string(),
    })
}

impl RequestBuilder {
    /// `{"op":"<op>"`, with the name core's op table gives `op`.
    pub fn new(op: Op) -> RequestBuilder {
        let mut builder = RequestBuilder {
            text: String::from("{"),
        };
        builder.push_key("op");
        builder.text.push_str(&json_string(op.name()));
        builder
    }

    fn push_key(&mut self, field: &str) {
        if self.text.len() > 1 {
            self.text.push(',');
        }
        self.text.push_str(&json_string(field));
        self.text.push(':');
    }

    /// Adds a document's JSON text under `field`; `source` (a path, or `-`
    /// for stdin) names it if it is not JSON.
    pub fn document(
        &mut self,
        field: &str,
        source: &str,
        bytes: &[u8],
    ) -> Result<&mut Self, HostError> {
        let raw = raw_json(source, bytes)?;
        self.push_key(field);
        self.text.push_str(raw.get());
        Ok(self)
    }

    /// Adds a string parameter.
    pub fn string(&mut self, field: &str, value: &str) -> &mut Self {
        self.push_key(field);
        self.text.push_str(&json_string(value));
        self
    }

    /// Adds a number parameter given as text (`--amount 12`), as written;
    /// `flag` names it if it is not a JSON number.
    pub fn number(
        &mut self,
        field: &str,
        flag: &str,
        literal: &str,
    ) -> Result<&mut Self, HostError> {
        let literal = literal.trim();
        if literal.parse::<serde_json::Number>().is_err() {
            return Err(HostError::Usage(format!(
                "`{literal}` given to {flag} is not a json number"
            )));
        }
        self.push_key(field);
        self.text.push_str(literal);
        Ok(self)
    }

    /// The request bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.text.push('}');
        self.text.into_bytes()
    }
}

/// A JSON string literal.
fn json_string(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

/// The `op` of a whole request, when it is a string.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow)]
    op: Option<&'a RawValue>,
}

/// Makes a whole request (from `--request`) answer the command `op`: passed
/// on byte for byte when its `op` is `op` (or is not a string: the engine
/// reports that), given `"op":"<op>"` first when it has none, refused when
/// it names another operation.
pub fn with_op(op: Op, source: &str, bytes: &[u8]) -> Result<Vec<u8>, HostError> {
    let raw = raw_json(source, bytes)?;
    let text = raw.get();
    let Ok(probe) = serde_json::from_str::<Probe<'_>>(text) else {
        // Not an object, or one the engine will reject anyway.
        return Ok(bytes.to_vec());
    };
    match probe.op.map(|op| serde_json::from_str::<String>(op.get())) {
        Some(Ok(found)) if found == op.name() => Ok(bytes.to_vec()),
        Some(Ok(found)) => Err(HostError::Usage(format!(
            "the request in `{source}` has op `{found}`, not `{op}`"
        ))),
        Some(Err(_)) => Ok(bytes.to_vec()),
        None => {
            let rest = text.strip_prefix('{').unwrap_or(text).trim_start();
            let separator = if rest.starts_with('}') { "" } else { "," };
            Ok(format!("{{\"op\":{}{separator}{rest}", json_string(op.name())).into_bytes())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_embedded_verbatim_in_order() {
        let mut builder = RequestBuilder::new(Op::Check);
        builder
            .document("bundle", "b.json", b" {\"z\":1,\"a\":[1, 2]}\n")
            .unwrap()
            .string("now", "2026-11-22T10:00:00Z")
            .string("feature", "s\"so");
        builder.number("amount", "--amount", "12.50").unwrap();
        let request = String::from_utf8(builder.finish()).unwrap();
        assert_eq!(
            request,
            r#"{"op":"check","bundle":{"z":1,"a":[1, 2]},"now":"2026-11-22T10:00:00Z","feature":"s\"so","amount":12.50}"#
        );
    }

    #[test]
    fn a_document_that_is_not_json_names_its_file() {
        let error = RequestBuilder::new(Op::Check)
            .document("license", "lic.json", b"{")
            .unwrap_err();
        assert_eq!(error.code(), "invalid_document");
        assert!(error
            .to_string()
            .starts_with("`lic.json` is not valid json"));
    }

    #[test]
    fn amounts_must_be_numbers() {
        let error = RequestBuilder::new(Op::Check)
            .number("amount", "--amount", "ten")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`ten` given to --amount is not a json number"
        );
    }

    #[test]
    fn a_whole_request_gets_its_op() {
        let same = with_op(Op::Check, "r", br#"{"op":"check","x":1}"#).unwrap();
        assert_eq!(same, br#"{"op":"check","x":1}"#);
        let added = with_op(Op::Status, "r", b" { \"x\" : 1 }").unwrap();
        assert_eq!(added, br#"{"op":"status","x" : 1 }"#);
        let empty = with_op(Op::Quote, "r", b"{}").unwrap();
        assert_eq!(empty, br#"{"op":"quote"}"#);
        let other = with_op(Op::Check, "r", br#"{"op":"quote"}"#).unwrap_err();
        assert_eq!(
            other.to_string(),
            "the request in `r` has op `quote`, not `check`"
        );
        let not_object = with_op(Op::Check, "r", b"[1]").unwrap();
        assert_eq!(not_object, b"[1]");
    }
}
