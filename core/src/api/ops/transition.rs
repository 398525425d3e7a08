//! `transition`: what moving the license to the tier `to` changes and costs.

use serde_json::{Map, Value};

use super::{required, Decide};
use crate::entitlement::transition::{self, TransitionAnswer};
use crate::error::{Error, JsonPath, RefKind};
use crate::model::ids::TierId;
use crate::reading::json;

/// Answers a `transition` request.
pub(crate) fn answer(
    fields: &mut Map<String, Value>,
    at: &Decide<'_>,
) -> Result<TransitionAnswer, Vec<Error>> {
    let path = JsonPath::root().key("to");
    let to: TierId = json::typed(required(fields, "to")?, &path).map_err(|e| vec![e])?;
    if !at.bundle.tiers.contains_key(&to) {
        return Err(vec![Error::UnknownReference {
            path,
            kind: RefKind::Tier,
            name: to.to_string(),
        }]);
    }
    transition::transition(at.bundle, at.license, at.usage, &to, at.now).map_err(|e| vec![e])
}
