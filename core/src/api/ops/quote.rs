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
    let uptime = fields.remove("uptime").map(read_uptime).transpose()?;
    decide(at, uptime)
}

/// A quote's `uptime`: a percentage from 0 to 100.
pub(crate) fn read_uptime(value: Value) -> Result<Percent, Vec<Error>> {
    json::typed::<Percent>(value, &JsonPath::root().key("uptime")).map_err(|e| vec![e])
}

/// The price of the license's current period at `at.now`, with the
/// service credits `uptime` earns.
pub(crate) fn decide(at: &Decide<'_>, uptime: Option<Percent>) -> Result<Quote, Vec<Error>> {
    quote::quote(at.bundle, at.license, at.usage, at.now, uptime).map_err(|e| vec![e])
}
