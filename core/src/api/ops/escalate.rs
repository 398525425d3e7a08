//! `escalate`: a support case's severity, clocks, level, owner and next
//! action, re-derived from its events at `now`.

use serde_json::{Map, Value};

use super::{required, Decide};
use crate::error::{Error, JsonPath};
use crate::reading::json;
use crate::support::case::Case;
use crate::support::escalate::{self, Escalation};

/// Answers an `escalate` request.
pub(crate) fn answer(
    fields: &mut Map<String, Value>,
    at: &Decide<'_>,
) -> Result<Escalation, Vec<Error>> {
    let root = JsonPath::root();
    let case: Case =
        json::typed(required(fields, "case")?, &root.key("case")).map_err(|e| vec![e])?;
    let reevaluate = match fields.remove("reevaluate") {
        Some(value) => json::typed::<bool>(value, &root.key("reevaluate")).map_err(|e| vec![e])?,
        None => false,
    };
    escalate::escalate(at.bundle, at.license, &case, reevaluate, at.now)
}
