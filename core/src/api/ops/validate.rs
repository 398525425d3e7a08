//! `validate`: the bundle holds, and so do the license and usage sent with
//! it; every problem was reported while reading them, so the answer lists
//! what was checked.

use serde::Serialize;

/// The answer to a `validate` request that found nothing wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Valid {
    /// Always `true`: a request with problems is answered with them instead.
    pub valid: bool,
    /// The documents checked: `bundle`, then `license` and `usage` when sent.
    pub checked: Vec<&'static str>,
}

/// Answers a `validate` request whose documents all read and hold.
pub(crate) fn answer(license: bool, usage: bool) -> Valid {
    let mut checked = vec!["bundle"];
    if license {
        checked.push("license");
    }
    if usage {
        checked.push("usage");
    }
    Valid {
        valid: true,
        checked,
    }
}
