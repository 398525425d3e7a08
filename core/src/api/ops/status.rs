//! `status`: the license's standing, entitlements, quotas and bill so far,
//! after the request's optional `what_if`.

use serde_json::{Map, Value};

use super::Decide;
use crate::entitlement::status::{self, Status};
use crate::error::Error;

/// Answers a `status` request.
pub(crate) fn answer(
    fields: &mut Map<String, Value>,
    at: &Decide<'_>,
) -> Result<Status, Vec<Error>> {
    status::respond(fields, at.bundle, at.license, at.usage, at.now)
}

/// The license's status at `at.now`, with no `what_if`.
pub(crate) fn decide(at: &Decide<'_>) -> Result<Status, Vec<Error>> {
    status::status(at.bundle, at.license, at.usage, at.now).map_err(|e| vec![e])
}
