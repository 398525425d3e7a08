//! `exception`: an exception request assessed under the bundle's exception
//! policy: intake, risk, track, approvers, the record to add, its lifecycle.

use serde_json::{Map, Value};

use super::Decide;
use crate::error::Error;
use crate::exceptions::assess::{self, ExceptionAnswer};

/// Answers an `exception` request.
pub(crate) fn answer(
    fields: &mut Map<String, Value>,
    at: &Decide<'_>,
) -> Result<ExceptionAnswer, Vec<Error>> {
    assess::exception(at.bundle, at.license, fields, at.now)
}
