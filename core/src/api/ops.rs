//! One reader per operation: each takes the request's own fields and the
//! documents already read, and returns its typed answer, whose envelope the
//! dispatcher in [`super`] writes. `verify` and `business_time`, which may
//! need no bundle at all, read their own documents and write their envelope
//! through [`super::envelope`] too.

pub(crate) mod business_time;
pub(crate) mod check;
pub(crate) mod escalate;
pub(crate) mod exception;
pub(crate) mod quote;
pub(crate) mod scan;
pub(crate) mod seat;
pub(crate) mod simulate;
pub(crate) mod status;
pub(crate) mod transition;
pub(crate) mod validate;
pub(crate) mod verify;

use serde_json::{Map, Value};

use crate::error::{Error, JsonPath};
use crate::model::bundle::Bundle;
use crate::model::license::{License, Usage};
use crate::model::time::Timestamp;

/// What a decision for one license reads: the bundle, the license, its
/// usage as it counts in the current period, and the instant.
pub(crate) struct Decide<'a> {
    /// The bundle, read and validated.
    pub bundle: &'a Bundle,
    /// The license, validated against the bundle.
    pub license: &'a License,
    /// The usage, with counts of past periods dropped.
    pub usage: &'a Usage,
    /// The instant decided at.
    pub now: Timestamp,
}

/// Removes a field an operation cannot do without, or says it is missing.
pub(crate) fn required(fields: &mut Map<String, Value>, field: &str) -> Result<Value, Vec<Error>> {
    fields.remove(field).ok_or_else(|| {
        vec![Error::MissingField {
            path: JsonPath::root().key(field),
            field: field.to_string(),
        }]
    })
}
