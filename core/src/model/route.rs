//! Routes: which feature or metric an HTTP request to the vendor's API asks
//! for, as the bundle maps it, and what a gateway does when it cannot decide.
//!
//! A route's `path` is a prefix that matches whole segments: `/v1/reports`
//! matches `/v1/reports` and `/v1/reports/42`, never `/v1/reportsx`. The
//! longest matching prefix wins; at equal length a route naming the request's
//! method wins over one for any method.

use serde::{Deserialize, Serialize};

use crate::error::{Error, JsonPath, RefKind};
use crate::model::ids::FeatureId;

/// What a gateway does with a request when the module cannot answer (a trap,
/// the deadline): refuse it, or let it through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// Refuse (the default): a fault never grants access.
    #[default]
    Closed,
    /// Allow: for features whose outage would cost more than their misuse.
    Open,
}

/// What a gateway of a fleet does with a consuming check of a metered
/// feature when the store the fleet counts in cannot be reached
/// (docs/fleet.md): `{"mode": "deny"}` (the default), `{"mode":
/// "lease_only"}` or `{"mode": "bounded_open", "units": N}`; `validate`
/// holds `units` to `bounded_open`. Feature checks need no store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StoreFailure {
    /// What the gateway does.
    pub mode: StoreFailureMode,
    /// For `bounded_open`: the most units one gateway admits per license
    /// while the store is away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<u64>,
}

/// The modes of [`StoreFailure`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StoreFailureMode {
    /// Refuse at once (the default): nothing is admitted that the fleet
    /// has not counted.
    #[default]
    Deny,
    /// Spend what the gateway's lease still holds (past its time to live
    /// while the store is away); refuse once it is spent.
    LeaseOnly,
    /// Admit what the rules allow on the count the gateway last saw, up to
    /// `units` per license a gateway, journaled, and counted in the store
    /// once it is back.
    BoundedOpen,
}

/// The bundle's settings for gateways.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// The map from HTTP routes to what they use, checked in order of specificity.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// What to do when the module cannot answer a request whose feature is
    /// not known (a route the module did not get to resolve).
    #[serde(default)]
    pub on_failure: FailureMode,
}

/// One route of the vendor's API and what a request to it uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RouteJson")]
pub struct Route {
    /// The HTTP method, upper case; `None` matches every method.
    pub method: Option<String>,
    /// The path prefix, starting with `/`, matched on whole segments.
    pub path: String,
    /// The feature checked or the units consumed.
    pub uses: RouteUse,
}

/// What a request to a route uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteUse {
    /// A feature check.
    Feature(FeatureId),
    /// Consumption of `amount` units of a metric.
    Consume {
        /// The metered feature.
        metric: FeatureId,
        /// Units each request consumes.
        amount: u64,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteJson {
    #[serde(default)]
    method: Option<String>,
    path: String,
    #[serde(default)]
    feature: Option<FeatureId>,
    #[serde(default)]
    metric: Option<FeatureId>,
    #[serde(default)]
    amount: Option<u64>,
}

impl TryFrom<RouteJson> for Route {
    type Error = String;

    fn try_from(json: RouteJson) -> Result<Self, String> {
        let uses = match (json.feature, json.metric, json.amount) {
            (Some(feature), None, None) => RouteUse::Feature(feature),
            (None, Some(metric), Some(amount)) => RouteUse::Consume { metric, amount },
            (None, Some(_), None) => return Err(String::from("missing field `amount`")),
            (None, None, _) => return Err(String::from("missing field `feature`")),
            (Some(_), _, _) => {
                return Err(format!(
                    "{m}ambiguous_check{m}a route names a `feature`, or a `metric` with an `amount`, not both",
                    m = crate::error::MARK
                ))
            }
        };
        Ok(Route {
            method: json.method,
            path: json.path,
            uses,
        })
    }
}

/// The request a route is resolved for: its method and its path as sent,
/// with or without a query.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteAsk {
    /// The HTTP method, any case.
    pub method: String,
    /// The request target: a path, possibly with `?query` or `#fragment`.
    pub path: String,
}

/// Problems with a route's declaration, for bundle validation: a path that
/// is not a clean absolute path, a method that is not an HTTP token, or a
/// feature or metric the bundle does not declare as such.
pub fn validate(
    gateway: &Gateway,
    is_feature: impl Fn(&FeatureId) -> Option<bool>,
    root: &JsonPath,
) -> Vec<Error> {
    let mut errors = Vec::new();
    for (i, route) in gateway.routes.iter().enumerate() {
        let at = root.key("routes").index(i);
        if let Err(detail) = clean_path(&route.path) {
            errors.push(Error::WrongType {
                path: at.key("path"),
                detail,
            });
        }
        if let Some(method) = &route.method {
            let token = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
            if !token {
                errors.push(Error::WrongType {
                    path: at.key("method"),
                    detail: format!(
                        "a method is an upper-case HTTP method such as `GET`, got `{method}`"
                    ),
                });
            }
        }
        match &route.uses {
            RouteUse::Feature(feature) if is_feature(feature).is_none() => {
                errors.push(Error::UnknownReference {
                    path: at.key("feature"),
                    kind: RefKind::Feature,
                    name: feature.to_string(),
                });
            }
            RouteUse::Consume { metric, .. } if is_feature(metric) != Some(true) => {
                errors.push(Error::UnknownReference {
                    path: at.key("metric"),
                    kind: RefKind::Metric,
                    name: metric.to_string(),
                });
            }
            RouteUse::Consume { amount: 0, .. } => errors.push(Error::NotPositive {
                path: at.key("amount"),
                what: String::from("a route's amount"),
                value: String::from("0"),
            }),
            _ => {}
        }
    }
    errors
}

/// The route a request takes, or the error naming `$.route.path` when no
/// route matches or the path is not one a route could match safely.
pub fn resolve<'a>(gateway: &'a Gateway, ask: &RouteAsk) -> Result<&'a Route, Error> {
    let at = JsonPath::root().key("route").key("path");
    let path = ask.path.split(['?', '#']).next().unwrap_or_default();
    clean_path(path).map_err(|detail| Error::WrongType {
        path: at.clone(),
        detail,
    })?;
    let method = ask.method.to_ascii_uppercase();
    gateway
        .routes
        .iter()
        .filter(|route| route.method.as_ref().is_none_or(|m| *m == method))
        .filter(|route| covers(&route.path, path))
        .max_by_key(|route| {
            (
                route.path.trim_end_matches('/').len(),
                route.method.is_some(),
            )
        })
        .ok_or_else(|| Error::UnknownReference {
            path: at,
            kind: RefKind::Route,
            name: format!("{method} {path}"),
        })
}

/// Whether `prefix` matches `path` on whole segments.
fn covers(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// A path a route may match: absolute, and free of what makes two spellings
/// of one resource (dot segments, encoded slashes or dots, backslashes), so a
/// request cannot reach a route's resource under a path no route names.
fn clean_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("a route path starts with `/`, got `{path}`"));
    }
    let lower = path.to_ascii_lowercase();
    let encoded = ["%2f", "%2e", "%5c"].iter().any(|e| lower.contains(e));
    let dotted = path
        .split('/')
        .any(|segment| segment == "." || segment == "..");
    if encoded || dotted || path.contains('\\') || path.contains("//") {
        return Err(format!(
            "a route path must not hold dot segments, empty segments, backslashes or encoded `/`, `.` or `\\`, got `{path}`"
        ));
    }
    if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(String::from(
            "a route path must not hold spaces or control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(routes: &[(&str, Option<&str>, &str)]) -> Gateway {
        Gateway {
            routes: routes
                .iter()
                .map(|(path, method, feature)| Route {
                    method: method.map(String::from),
                    path: (*path).to_string(),
                    uses: RouteUse::Feature(
                        serde_json::from_value(serde_json::json!(feature))
                            .unwrap_or_else(|_| unreachable!()),
                    ),
                })
                .collect(),
            on_failure: FailureMode::Closed,
        }
    }

    fn resolved(g: &Gateway, method: &str, path: &str) -> Option<String> {
        let ask = RouteAsk {
            method: method.to_string(),
            path: path.to_string(),
        };
        resolve(g, &ask).ok().map(|r| match &r.uses {
            RouteUse::Feature(f) => f.to_string(),
            RouteUse::Consume { metric, .. } => metric.to_string(),
        })
    }

    #[test]
    fn prefixes_match_whole_segments_and_the_longest_wins() {
        let g = gateway(&[
            ("/v1", None, "base"),
            ("/v1/reports", None, "reports"),
            ("/v1/reports", Some("POST"), "report_write"),
        ]);
        let table = [
            ("GET", "/v1/reports", Some("reports")),
            ("get", "/v1/reports/42?x=1", Some("reports")),
            ("POST", "/v1/reports/42", Some("report_write")),
            ("GET", "/v1/reportsx", Some("base")),
            ("GET", "/v1", Some("base")),
            ("GET", "/v2", None),
            ("GET", "/v1/../admin", None),
            ("GET", "/v1/%2e%2e/admin", None),
            ("GET", "v1/reports", None),
        ];
        for (method, path, want) in table {
            assert_eq!(
                resolved(&g, method, path).as_deref(),
                want,
                "{method} {path}"
            );
        }
    }
}
