//! Every way an input can be wrong, each with a stable code, the JSON path of
//! the offending field and a line of help.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::error::conflict::Conflict;
pub use crate::error::rejection::Rejection;
pub use code::{ErrorCode, ErrorKind};
pub(crate) use coded::{coded, MARK};
pub use report::{
    count_capped, echo, push_capped, ErrorReport, MAX_ECHO_CHARS, MAX_ERRORS, MAX_ERRORS_BYTES,
};

mod code;
mod coded;
pub mod conflict;
mod constructors;
pub mod rejection;
mod report;

/// A JSON path in the `$.a.b[3]` notation, naming the field an error is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JsonPath(String);

impl JsonPath {
    /// The document root, `$`.
    pub fn root() -> Self {
        JsonPath(String::from("$"))
    }

    /// This path extended by an object key; keys that are not plain
    /// identifiers are written in the bracket form `$["a b"]`.
    ///
    /// A key longer than [`MAX_ECHO_CHARS`] is written cut, as every echo of
    /// input is, in the bracket form.
    pub fn key(&self, key: &str) -> Self {
        // Paths are built for every entry validation walks, most of them
        // never reported: without the formatting machinery, and with one
        // allocation.
        let key = echo(key);
        let plain = !key.is_empty()
            && key
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        let mut path = String::with_capacity(self.0.len() + key.len() + 5);
        path.push_str(&self.0);
        if plain {
            path.push('.');
            path.push_str(&key);
        } else {
            path.push('[');
            path.push_str(&serde_json::to_string(&key).unwrap_or_default());
            path.push(']');
        }
        JsonPath(path)
    }

    /// This path extended by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = index;
        loop {
            at -= 1;
            if let Some(digit) = digits.get_mut(at) {
                // `rest % 10` is a single digit.
                *digit = b'0' + (rest % 10) as u8;
            }
            rest /= 10;
            if rest == 0 || at == 0 {
                break;
            }
        }
        let digits = std::str::from_utf8(digits.get(at..).unwrap_or_default()).unwrap_or("0");
        let mut path = String::with_capacity(self.0.len() + digits.len() + 2);
        path.push_str(&self.0);
        path.push('[');
        path.push_str(digits);
        path.push(']');
        JsonPath(path)
    }

    /// The last object key of the path, if it ends in a plain key.
    pub fn last_key(&self) -> Option<&str> {
        let (_, last) = self.0.rsplit_once('.')?;
        (!last.contains('[')).then_some(last)
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Joins a path reported relative to a sub-document (`$.x`) under this one.
    pub fn join(&self, relative: &str) -> Self {
        JsonPath(format!(
            "{}{}",
            self.0,
            relative.strip_prefix('$').unwrap_or(relative)
        ))
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every problem the engine reports about its input. Each variant carries the
/// path of the offending field; `code` is stable and documented in the README.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The request bytes are not valid UTF-8.
    #[error("the request is not valid utf-8")]
    InvalidUtf8 {
        /// Always `$`.
        path: JsonPath,
    },
    /// The request is larger than the engine accepts.
    #[error("the request has {size} bytes, more than the {limit} accepted")]
    TooLarge {
        /// Always `$`.
        path: JsonPath,
        /// Size received.
        size: usize,
        /// Largest size accepted.
        limit: usize,
    },
    /// The bytes are not JSON.
    #[error("invalid json: {detail}")]
    InvalidJson {
        /// Where parsing stopped.
        path: JsonPath,
        /// What the parser saw.
        detail: String,
    },
    /// A list holds more entries than the engine reads; refused before any is read.
    #[error("the {what} has `{count}` {items}, more than the {limit} accepted")]
    TooMany {
        /// The list.
        path: JsonPath,
        /// What holds the list, such as `key set`.
        what: &'static str,
        /// What the entries are, such as `keys`.
        items: &'static str,
        /// How many entries it has.
        count: usize,
        /// The most accepted.
        limit: usize,
    },
    /// The errors an answer does not list: more than [`MAX_ERRORS`] were
    /// found, or more than [`MAX_ERRORS_BYTES`] of them.
    #[error("`{omitted}` more errors are not listed: an answer lists at most {MAX_ERRORS}")]
    TooManyErrors {
        /// Always `$`.
        path: JsonPath,
        /// How many errors are not listed.
        omitted: usize,
    },
    /// The JSON nests deeper than the engine accepts.
    #[error("the document nests deeper than {limit} levels")]
    TooDeep {
        /// Where the limit was reached.
        path: JsonPath,
        /// Deepest nesting accepted.
        limit: usize,
    },
    /// A field holds a value of the wrong JSON type or shape.
    #[error("{detail}")]
    WrongType {
        /// The field.
        path: JsonPath,
        /// What was expected and found.
        detail: String,
    },
    /// A number does not fit the range the field allows.
    #[error("{detail}")]
    OutOfRange {
        /// The field.
        path: JsonPath,
        /// What the range is.
        detail: String,
    },
    /// A required field is missing.
    #[error("missing field `{field}`")]
    MissingField {
        /// The object that lacks the field.
        path: JsonPath,
        /// The missing field's name.
        field: String,
    },
    /// A field the schema does not know; rejected so that a typo never passes silently.
    #[error("unknown field `{field}`")]
    UnknownField {
        /// The unknown field.
        path: JsonPath,
        /// Its name.
        field: String,
    },
    /// The same key appears twice in one object; the engine never keeps one silently.
    #[error("duplicate key `{key}`")]
    DuplicateKey {
        /// The repeated key.
        path: JsonPath,
        /// Its name.
        key: String,
    },
    /// A timestamp that is not RFC 3339 with an offset.
    #[error("invalid timestamp `{value}`")]
    InvalidTimestamp {
        /// The field.
        path: JsonPath,
        /// The text received.
        value: String,
    },
    /// A calendar date that is not `YYYY-MM-DD`.
    #[error("invalid date `{value}`")]
    InvalidDate {
        /// The field.
        path: JsonPath,
        /// The text received.
        value: String,
    },
    /// A time zone that is not in the IANA database.
    #[error("unknown time zone `{value}`")]
    UnknownTimeZone {
        /// The field.
        path: JsonPath,
        /// The text received.
        value: String,
    },
    /// A decimal amount that cannot be read exactly.
    #[error("invalid decimal `{value}`")]
    InvalidDecimal {
        /// The field.
        path: JsonPath,
        /// The text received.
        value: String,
    },
    /// A currency code that is not ISO 4217.
    #[error("unknown currency `{value}`")]
    UnknownCurrency {
        /// The field.
        path: JsonPath,
        /// The text received.
        value: String,
    },
    /// A reference to something the bundle does not declare.
    #[error("unknown {kind} `{name}`")]
    UnknownReference {
        /// The referring field.
        path: JsonPath,
        /// What kind of thing was referenced.
        kind: RefKind,
        /// The name used.
        name: String,
    },
    /// A quantity that must be above zero is zero or negative.
    #[error("{what} must be greater than zero, got `{value}`")]
    NotPositive {
        /// The field.
        path: JsonPath,
        /// What the quantity is.
        what: String,
        /// The value received.
        value: String,
    },
    /// A quantity that must not be negative is.
    #[error("{what} must not be negative, got `{value}`")]
    Negative {
        /// The field.
        path: JsonPath,
        /// What the quantity is.
        what: String,
        /// The value received.
        value: String,
    },
    /// Pricing bands leave units unpriced between two bands.
    #[error(
        "bands leave a gap: the band before ends at `{previous_to}`, this one starts at `{from}`"
    )]
    BandGap {
        /// The band that starts too late.
        path: JsonPath,
        /// Where the previous band ends.
        previous_to: String,
        /// Where this band starts.
        from: String,
    },
    /// Pricing bands price some units twice.
    #[error("bands overlap: the band before ends at `{previous_to}`, this one starts at `{from}`")]
    BandOverlap {
        /// The band that starts too early.
        path: JsonPath,
        /// Where the previous band ends.
        previous_to: String,
        /// Where this band starts.
        from: String,
    },
    /// A band other than the last has no upper bound, or the last has one.
    #[error("{detail}")]
    BandBounds {
        /// The offending band.
        path: JsonPath,
        /// What is wrong with its bounds.
        detail: String,
    },
    /// Two terms of one document contradict each other.
    #[error("{detail}")]
    Contradiction {
        /// The later of the two fields.
        path: JsonPath,
        /// The two terms and how they clash.
        detail: String,
        /// Stable code naming the contradiction.
        code: Conflict,
    },
    /// Two items that must be unique share a value.
    #[error("duplicate {what} `{value}`")]
    Duplicate {
        /// The second occurrence.
        path: JsonPath,
        /// What must be unique.
        what: String,
        /// The shared value.
        value: String,
    },
    /// A number overflowed while computing an answer.
    #[error("the amounts are too large to compute `{what}`")]
    Overflow {
        /// The field whose value made the arithmetic overflow.
        path: JsonPath,
        /// What was being computed.
        what: String,
    },
    /// A calendar, or a target measured on one, finds no business time
    /// within the search horizon.
    #[error("{detail}")]
    NoBusinessTime {
        /// The calendar, or the target that cannot be reached on it.
        path: JsonPath,
        /// Which search found nothing.
        detail: String,
    },
    /// The request names a bundle handle that is not loaded.
    #[error("no bundle is loaded under handle `{handle}`")]
    UnknownBundleHandle {
        /// Always `$`.
        path: JsonPath,
        /// The handle received.
        handle: u32,
    },
    /// A signed document, or a key meant to check one, that cannot be trusted.
    #[error("{detail}")]
    Signature {
        /// The envelope's field (or the key's) that fails.
        path: JsonPath,
        /// What is wrong, naming the key or kind involved.
        detail: String,
        /// Stable code naming the problem.
        code: Rejection,
    },
}

/// The kinds of thing a document can refer to by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// A tier of the bundle.
    Tier,
    /// A feature of the bundle.
    Feature,
    /// A metered feature (a metric) of the bundle.
    Metric,
    /// An add-on of the bundle.
    AddOn,
    /// An operation of the engine.
    Operation,
    /// A governance control of the bundle.
    Control,
    /// A license loaded into a preloaded bundle.
    License,
    /// A route of the bundle's gateway map.
    Route,
    /// A business calendar of the bundle.
    Calendar,
    /// A severity of the bundle's support policy.
    Severity,
    /// A case category of the escalation matrix.
    Category,
    /// A phase of a case category.
    Phase,
    /// A kind of evidence the escalation matrix names.
    Evidence,
}

impl fmt::Display for RefKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefKind::Tier => "tier",
            RefKind::Feature => "feature",
            RefKind::Metric => "metric",
            RefKind::AddOn => "add-on",
            RefKind::Operation => "operation",
            RefKind::Control => "control",
            RefKind::License => "license",
            RefKind::Route => "route",
            RefKind::Calendar => "calendar",
            RefKind::Severity => "severity",
            RefKind::Category => "case category",
            RefKind::Phase => "phase",
            RefKind::Evidence => "evidence",
        })
    }
}

impl Error {
    /// The stable, documented code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidUtf8 { .. } => ErrorCode::InvalidUtf8,
            Error::TooLarge { .. } => ErrorCode::TooLarge,
            Error::InvalidJson { .. } => ErrorCode::InvalidJson,
            Error::TooDeep { .. } => ErrorCode::TooDeep,
            Error::TooMany { .. } => ErrorCode::TooMany,
            Error::TooManyErrors { .. } => ErrorCode::TooManyErrors,
            Error::WrongType { .. } => ErrorCode::WrongType,
            Error::OutOfRange { .. } => ErrorCode::OutOfRange,
            Error::MissingField { .. } => ErrorCode::MissingField,
            Error::UnknownField { .. } => ErrorCode::UnknownField,
            Error::DuplicateKey { .. } => ErrorCode::DuplicateKey,
            Error::InvalidTimestamp { .. } => ErrorCode::InvalidTimestamp,
            Error::InvalidDate { .. } => ErrorCode::InvalidDate,
            Error::UnknownTimeZone { .. } => ErrorCode::UnknownTimeZone,
            Error::InvalidDecimal { .. } => ErrorCode::InvalidDecimal,
            Error::UnknownCurrency { .. } => ErrorCode::UnknownCurrency,
            Error::UnknownReference { kind, .. } => match kind {
                RefKind::Tier => ErrorCode::UnknownTier,
                RefKind::Feature => ErrorCode::UnknownFeature,
                RefKind::Metric => ErrorCode::UnknownMetric,
                RefKind::AddOn => ErrorCode::UnknownAddon,
                RefKind::Operation => ErrorCode::UnknownOperation,
                RefKind::Control => ErrorCode::UnknownControl,
                RefKind::License => ErrorCode::UnknownLicense,
                RefKind::Route => ErrorCode::UnknownRoute,
                RefKind::Calendar => ErrorCode::UnknownCalendar,
                RefKind::Severity => ErrorCode::UnknownSeverity,
                RefKind::Category => ErrorCode::UnknownCategory,
                RefKind::Phase => ErrorCode::UnknownPhase,
                RefKind::Evidence => ErrorCode::UnknownEvidence,
            },
            Error::NotPositive { .. } => ErrorCode::NotPositive,
            Error::Negative { .. } => ErrorCode::Negative,
            Error::BandGap { .. } => ErrorCode::BandGap,
            Error::BandOverlap { .. } => ErrorCode::BandOverlap,
            Error::BandBounds { .. } => ErrorCode::BandBounds,
            Error::Contradiction { code, .. } => code.code(),
            Error::Duplicate { .. } => ErrorCode::Duplicate,
            Error::Overflow { .. } => ErrorCode::Overflow,
            Error::NoBusinessTime { .. } => ErrorCode::NoBusinessTime,
            Error::UnknownBundleHandle { .. } => ErrorCode::UnknownBundleHandle,
            Error::Signature { code, .. } => code.code(),
        }
    }

    /// The JSON path of the offending field.
    pub fn path(&self) -> &JsonPath {
        match self {
            Error::InvalidUtf8 { path }
            | Error::TooLarge { path, .. }
            | Error::InvalidJson { path, .. }
            | Error::TooDeep { path, .. }
            | Error::TooMany { path, .. }
            | Error::TooManyErrors { path, .. }
            | Error::WrongType { path, .. }
            | Error::OutOfRange { path, .. }
            | Error::MissingField { path, .. }
            | Error::UnknownField { path, .. }
            | Error::DuplicateKey { path, .. }
            | Error::InvalidTimestamp { path, .. }
            | Error::InvalidDate { path, .. }
            | Error::UnknownTimeZone { path, .. }
            | Error::InvalidDecimal { path, .. }
            | Error::UnknownCurrency { path, .. }
            | Error::UnknownReference { path, .. }
            | Error::NotPositive { path, .. }
            | Error::Negative { path, .. }
            | Error::BandGap { path, .. }
            | Error::BandOverlap { path, .. }
            | Error::BandBounds { path, .. }
            | Error::Contradiction { path, .. }
            | Error::Duplicate { path, .. }
            | Error::Overflow { path, .. }
            | Error::NoBusinessTime { path, .. }
            | Error::UnknownBundleHandle { path, .. }
            | Error::Signature { path, .. } => path,
        }
    }

    /// One line telling the author how to fix the input.
    pub fn help(&self) -> String {
        match self {
            Error::InvalidUtf8 { .. } => "send the request as utf-8 encoded json".into(),
            Error::TooLarge { limit, .. } => format!("send at most {limit} bytes"),
            Error::InvalidJson { .. } => "check the document with a json validator".into(),
            Error::TooDeep { .. } => {
                "flatten the document; no field of the schema nests that deep".into()
            }
            Error::TooMany { items, limit, .. } => format!("send at most {limit} {items}"),
            Error::TooManyErrors { .. } => {
                "fix the errors listed and send the request again to see the rest".into()
            }
            Error::WrongType { .. } => {
                "see the schema for this field's type: schemas/ (docs/errors.md)".into()
            }
            Error::OutOfRange { .. } => "use a value inside the field's range".into(),
            Error::MissingField { field, .. } => format!("add the field `{field}`"),
            Error::UnknownField { .. } => "remove the field or fix its spelling".into(),
            Error::DuplicateKey { .. } => "keep one of the two entries".into(),
            Error::InvalidTimestamp { .. } => {
                "use rfc 3339 with an offset, e.g. `2026-01-31T09:00:00Z`".into()
            }
            Error::InvalidDate { .. } => "use `YYYY-MM-DD`, e.g. `2026-01-31`".into(),
            Error::UnknownTimeZone { .. } => {
                "use an iana time zone name, e.g. `Europe/London`".into()
            }
            Error::InvalidDecimal { .. } => {
                "write amounts as decimal strings, e.g. `\"0.0015\"`".into()
            }
            Error::UnknownCurrency { .. } => "use an iso 4217 code, e.g. `USD`".into(),
            Error::UnknownReference {
                kind: RefKind::Route,
                ..
            } => "map the path in the bundle's `gateway.routes`, or name the `feature` or `metric` in the request".into(),
            Error::UnknownReference { kind, .. } => {
                format!("declare the {kind} in the bundle or fix the name")
            }
            Error::NotPositive { .. } => "use a value greater than zero".into(),
            Error::Negative { .. } => "use zero or a positive value".into(),
            Error::BandGap { .. } | Error::BandOverlap { .. } => {
                "start each band right where the previous one ends".into()
            }
            Error::BandBounds { .. } => "bound every band but the last, which is open".into(),
            Error::Contradiction { code, .. } => code.help().into(),
            Error::Duplicate { .. } => "make each value unique".into(),
            Error::Overflow { .. } => "use smaller amounts".into(),
            Error::NoBusinessTime { .. } => {
                "give the calendar business hours that its holidays do not cover".into()
            }
            Error::UnknownBundleHandle { .. } => {
                "load the bundle first and use the handle it returned".into()
            }
            Error::Signature { code, .. } => code.help().into(),
        }
    }
}
