//! `transition`: what moving the license to the tier `to` changes and costs.

use serde_json::{Map, Value};

use super::{required, Decide};
use crate::entitlement::transition::{self, TransitionAnswer};
use crate::error::{Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;
use crate::model::ids::TierId;
use crate::reading::json;

/// Answers a `transition` request.
pub(crate) fn answer(
    fields: &mut Map<String, Value>,
    at: &Decide<'_>,
) -> Result<TransitionAnswer, Vec<Error>> {
    let to = read_to(required(fields, "to")?, at.bundle)?;
    decide(at, &to)
}

/// The tier a transition goes `to`: an id of a tier of the bundle.
pub(crate) fn read_to(value: Value, bundle: &Bundle) -> Result<TierId, Vec<Error>> {
    let path = JsonPath::root().key("to");
    let to: TierId = json::typed(value, &path).map_err(|e| vec![e])?;
    if bundle.tiers.contains_key(&to) {
        Ok(to)
    } else {
        Err(vec![Error::UnknownReference {
            path,
            kind: RefKind::Tier,
            name: to.to_string(),
        }])
    }
}

/// What moving the license to `to` changes and costs, at `at.now`.
pub(crate) fn decide(at: &Decide<'_>, to: &TierId) -> Result<TransitionAnswer, Vec<Error>> {
    transition::transition(at.bundle, at.license, at.usage, to, at.now).map_err(|e| vec![e])
}
