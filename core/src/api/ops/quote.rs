//! `quote`: the price of the license's current period, with the service
//! credits the request's optional `uptime` earns.

use serde_json::{Map, Value};

use super::Decide;
use crate::billing::credit::Percent;
use crate::billing::quote::{self, Quote};
use crate::error::{Error, JsonPath};
use crate::reading::json;

/// Answers a `quote` request.
pub(crate) fn answer(
    fields: &mut Map<String, Value>,
    at: &Decide<'_>,
) -> Result<Quote, Vec<Error>> {
    let uptime = fields
        .remove("uptime")
        .map(|v| json::typed::<Percent>(v, &JsonPath::root().key("uptime")))
        .transpose()
        .map_err(|e| vec![e])?;
    quote::quote(at.bundle, at.license, at.usage, at.now, uptime).map_err(|e| vec![e])
}
