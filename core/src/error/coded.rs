//! Codes carried through serde: a type's reader fails with a custom message
//! that holds one of the engine's codes, and the reader of documents turns
//! that message back into the typed error.

use serde::de;

/// Marks the messages of the engine's own leaf types so that the reader of
/// documents (`reading::json`) can turn them back into typed errors.
pub(crate) const MARK: char = '\u{1f}';

/// A serde custom error carrying one of the engine's codes and the offending text.
pub(crate) fn coded<E: de::Error>(code: &str, value: &str) -> E {
    E::custom(format!("{MARK}{code}{MARK}{value}"))
}
