//! Constructors of the errors that validation reports across documents, so
//! that each section's checks build them without importing one another.

use super::{Conflict, Error, JsonPath, RefKind};

impl Error {
    /// A contradiction between two terms, with its code.
    pub(crate) fn contradiction(path: JsonPath, code: Conflict, detail: String) -> Error {
        Error::Contradiction { path, detail, code }
    }

    /// A name that refers to nothing declared.
    pub(crate) fn unknown(path: JsonPath, kind: RefKind, name: &str) -> Error {
        Error::UnknownReference {
            path,
            kind,
            name: name.to_string(),
        }
    }

    /// A quantity that must be greater than zero and is `value`.
    pub(crate) fn not_positive(path: JsonPath, what: &str, value: &str) -> Error {
        Error::NotPositive {
            path,
            what: what.to_string(),
            value: value.to_string(),
        }
    }

    /// A second `value` where each `what` must be unique.
    pub(crate) fn duplicate(path: JsonPath, what: &str, value: &str) -> Error {
        Error::Duplicate {
            path,
            what: what.into(),
            value: value.into(),
        }
    }
}
