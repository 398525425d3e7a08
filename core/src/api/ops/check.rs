//! `check`: what is asked (a feature, a metric with an amount, or a route
//! the bundle maps to one of those), decided for the license at `now`.

use serde_json::{Map, Value};

use super::Decide;
use crate::entitlement::check::{self, Ask, CheckAnswer};
use crate::error::{Conflict, Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;
use crate::model::ids::FeatureId;
use crate::model::route::{self, RouteAsk, RouteUse};
use crate::reading::json;

/// Answers a `check` request.
pub(crate) fn answer(
    fields: &mut Map<String, Value>,
    at: &Decide<'_>,
) -> Result<CheckAnswer, Vec<Error>> {
    let ask = read_ask(fields, at.bundle)?;
    decide(at, &ask)
}

/// May the license do what `ask` asks at `at.now`?
pub(crate) fn decide(at: &Decide<'_>, ask: &Ask) -> Result<CheckAnswer, Vec<Error>> {
    check::check(at.bundle, at.license, at.usage, ask, at.now).map_err(|e| vec![e])
}

/// Reads what a check asks: exactly one of `feature`, `metric` with
/// `amount`, or a `route` the bundle's gateway map resolves to one of those.
fn read_ask(fields: &mut Map<String, Value>, bundle: &Bundle) -> Result<Ask, Vec<Error>> {
    let root = JsonPath::root();
    if let Some(value) = fields.remove("route") {
        if let Some(other) = ["feature", "metric", "amount"]
            .into_iter()
            .find(|f| fields.contains_key(*f))
        {
            return Err(vec![Error::Contradiction {
                path: root.key(other),
                detail: String::from("ask for a `route`, or for what it uses, not both"),
                code: Conflict::AmbiguousCheck,
            }]);
        }
        let ask = json::typed::<RouteAsk>(value, &root.key("route")).map_err(|e| vec![e])?;
        let route = route::resolve(&bundle.gateway, &ask).map_err(|e| vec![e])?;
        return Ok(match &route.uses {
            RouteUse::Feature(feature) => Ask::Feature(feature.clone()),
            RouteUse::Consume { metric, amount } => Ask::Consume {
                metric: metric.clone(),
                amount: *amount,
            },
        });
    }
    let mut errors = Vec::new();
    let mut read_id = |field: &str, kind: RefKind| -> Option<FeatureId> {
        let value = fields.remove(field)?;
        match json::typed::<FeatureId>(value, &root.key(field)) {
            Ok(id) if bundle.features.contains_key(&id) => Some(id),
            Ok(id) => {
                errors.push(Error::UnknownReference {
                    path: root.key(field),
                    kind,
                    name: id.to_string(),
                });
                None
            }
            Err(e) => {
                errors.push(e);
                None
            }
        }
    };
    let feature = read_id("feature", RefKind::Feature);
    let metric = read_id("metric", RefKind::Metric);
    let amount = match fields.remove("amount") {
        Some(value) => match json::typed::<u64>(value, &root.key("amount")) {
            Ok(amount) => Some(amount),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let metered = |id: &FeatureId| {
        bundle
            .features
            .get(id)
            .is_some_and(|f| f.kind == crate::model::bundle::FeatureKind::Metered)
    };
    match (feature, metric, amount) {
        (Some(feature), None, None) => Ok(Ask::Feature(feature)),
        (None, Some(metric), Some(amount)) if metered(&metric) => {
            Ok(Ask::Consume { metric, amount })
        }
        (None, Some(metric), Some(_)) => Err(vec![Error::Contradiction {
            path: root.key("metric"),
            detail: format!("feature `{metric}` is boolean: check it with `feature`"),
            code: Conflict::NotMetered,
        }]),
        (None, Some(_), None) => Err(vec![Error::MissingField {
            path: root.key("amount"),
            field: String::from("amount"),
        }]),
        (None, None, _) => Err(vec![Error::MissingField {
            path: root.key("feature"),
            field: String::from("feature"),
        }]),
        (Some(_), _, _) => Err(vec![Error::Contradiction {
            path: root.key("feature"),
            detail: String::from(
                "ask for a `feature`, or for a `metric` with an `amount`, not both",
            ),
            code: Conflict::AmbiguousCheck,
        }]),
    }
}
