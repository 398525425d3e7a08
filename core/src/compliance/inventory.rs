//! The documents a compliance scan reads besides the bundle: the licenses,
//! the customer's declared deployments, the telemetry seen (installations
//! and daily usage series) and contract events, each checked with its JSON
//! path. See `docs/compliance.md`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Conflict, Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;
use crate::model::ids::{FeatureId, InstallationId, LicenseId};
use crate::model::license::License;
use crate::model::time::{Date, Timestamp};
use crate::reading::json;
use crate::reading::signed::{self, DocumentKind, KeySet};

/// An installation the customer declared.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// The installation's id, as telemetry reports it.
    pub installation: InstallationId,
    /// The license it is declared under.
    pub license: LicenseId,
}

/// An installation or host telemetry saw.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Installation {
    /// Its id.
    pub id: InstallationId,
    /// The license it runs under.
    pub license: LicenseId,
    /// When it was first seen.
    pub first_seen: Timestamp,
    /// When it was last seen.
    pub last_seen: Timestamp,
}

/// One day's usage of a metric.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// The day, in the license's time zone.
    pub date: Date,
    /// Units used that day.
    pub value: u64,
}

/// The daily usage of one metric under one license.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// The license.
    pub license: LicenseId,
    /// The metered feature.
    pub metric: FeatureId,
    /// Days in increasing order.
    pub points: Vec<Point>,
}

/// What telemetry saw.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Telemetry {
    /// Installations or hosts seen.
    #[serde(default)]
    pub installations: Vec<Installation>,
    /// Daily usage series.
    #[serde(default)]
    pub usage: Vec<Series>,
}

/// What happened to a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The vendor ended the license at `at`.
    Termination,
    /// The vendor suspended it from `at` until `until` (open when absent).
    Suspension,
}

/// A contract event.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ContractEvent {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// To which license.
    pub license: LicenseId,
    /// From when.
    pub at: Timestamp,
    /// Until when, for a suspension lifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
}

/// Everything a scan reads besides the bundle and `now`.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The licenses scanned, in request order.
    pub licenses: Vec<License>,
    /// Declared deployments.
    pub deployments: Vec<Deployment>,
    /// What telemetry saw.
    pub telemetry: Telemetry,
    /// Contract events.
    pub events: Vec<ContractEvent>,
}

fn field<T: serde::de::DeserializeOwned + Default>(
    fields: &mut Map<String, Value>,
    name: &str,
    errors: &mut Vec<Error>,
) -> T {
    match fields.remove(name) {
        Some(value) => json::typed(value, &JsonPath::root().key(name)).unwrap_or_else(|e| {
            errors.push(e);
            T::default()
        }),
        None => T::default(),
    }
}

/// Reads and checks a scan's documents; every problem goes to `errors`.
pub fn read(
    fields: &mut Map<String, Value>,
    bundle: &Bundle,
    keys: Option<&KeySet>,
    now: Option<Timestamp>,
    errors: &mut Vec<Error>,
) -> Inventory {
    let root = JsonPath::root();
    let mut licenses = Vec::new();
    match fields.remove("licenses") {
        Some(Value::Array(items)) => {
            for (i, item) in items.into_iter().enumerate() {
                let at = root.key("licenses").index(i);
                let read = signed::unwrap(item, keys, DocumentKind::License, &at)
                    .and_then(|(doc, at, _)| json::typed::<License>(doc, &at).map(|l| (l, at)));
                match read {
                    Ok((license, at)) => {
                        errors.extend(crate::reading::validate::license(bundle, &license, &at));
                        if licenses
                            .iter()
                            .any(|l: &License| l.license == license.license)
                        {
                            errors.push(Error::Duplicate {
                                path: at.key("license"),
                                what: "license".into(),
                                value: license.license.to_string(),
                            });
                        }
                        licenses.push(license);
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        Some(_) => errors.push(Error::WrongType {
            path: root.key("licenses"),
            detail: "`licenses` is a list of licenses".into(),
        }),
        None => errors.push(Error::MissingField {
            path: root.key("licenses"),
            field: "licenses".into(),
        }),
    }
    let inventory = Inventory {
        licenses,
        deployments: field(fields, "deployments", errors),
        telemetry: field(fields, "telemetry", errors),
        events: field(fields, "events", errors),
    };
    if let Some(now) = now {
        check(&inventory, bundle, now, errors);
    }
    inventory
}

fn after_now(path: JsonPath, what: &str, now: Timestamp) -> Error {
    Error::Contradiction {
        path,
        detail: format!("{what} is after `now` ({now})"),
        code: Conflict::EventAfterNow,
    }
}

fn check(inventory: &Inventory, bundle: &Bundle, now: Timestamp, errors: &mut Vec<Error>) {
    let root = JsonPath::root();
    // Inserted one by one: collecting sorts first, a copy of the sort in
    // the module for this type alone.
    let mut known: BTreeSet<&LicenseId> = BTreeSet::new();
    for l in &inventory.licenses {
        known.insert(&l.license);
    }
    let license_ref = |id: &LicenseId, path: JsonPath, errors: &mut Vec<Error>| {
        if !known.contains(id) {
            errors.push(Error::unknown(path, RefKind::License, id.as_str()));
        }
    };
    let mut declared = BTreeSet::new();
    for (i, d) in inventory.deployments.iter().enumerate() {
        let at = root.key("deployments").index(i);
        license_ref(&d.license, at.key("license"), errors);
        if !declared.insert(&d.installation) {
            errors.push(Error::Duplicate {
                path: at.key("installation"),
                what: "installation".into(),
                value: d.installation.to_string(),
            });
        }
    }
    let mut seen = BTreeSet::new();
    for (i, inst) in inventory.telemetry.installations.iter().enumerate() {
        let at = root.key("telemetry").key("installations").index(i);
        license_ref(&inst.license, at.key("license"), errors);
        if !seen.insert(&inst.id) {
            errors.push(Error::Duplicate {
                path: at.key("id"),
                what: "installation".into(),
                value: inst.id.to_string(),
            });
        }
        if inst.last_seen < inst.first_seen {
            errors.push(Error::Contradiction {
                path: at.key("last_seen"),
                detail: format!(
                    "installation `{}` was last seen ({}) before it was first seen ({})",
                    inst.id, inst.last_seen, inst.first_seen
                ),
                code: Conflict::LastSeenBeforeFirstSeen,
            });
        }
        if inst.last_seen > now {
            errors.push(after_now(at.key("last_seen"), "`last_seen`", now));
        }
    }
    let mut series: BTreeMap<(&LicenseId, &FeatureId), usize> = BTreeMap::new();
    for (i, s) in inventory.telemetry.usage.iter().enumerate() {
        let at = root.key("telemetry").key("usage").index(i);
        license_ref(&s.license, at.key("license"), errors);
        if !bundle.features.contains_key(&s.metric) {
            errors.push(Error::unknown(
                at.key("metric"),
                RefKind::Metric,
                s.metric.as_str(),
            ));
        }
        if series.insert((&s.license, &s.metric), i).is_some() {
            errors.push(Error::Duplicate {
                path: at.key("metric"),
                what: "usage series".into(),
                value: format!("{} {}", s.license, s.metric),
            });
        }
        let zone = inventory
            .licenses
            .iter()
            .find(|l| l.license == s.license)
            .map(|l| l.time_zone);
        let today = zone.map(|z| z.local(now).date());
        for (j, pair) in s.points.windows(2).enumerate() {
            if let [a, b] = pair {
                if b.date.0 <= a.date.0 {
                    errors.push(Error::Contradiction {
                        path: at.key("points").index(j + 1).key("date"),
                        detail: format!(
                            "the point of `{}` comes after the point of `{}`",
                            b.date.0, a.date.0
                        ),
                        code: Conflict::PointsOutOfOrder,
                    });
                }
            }
        }
        for (j, p) in s.points.iter().enumerate() {
            if today.is_some_and(|t| p.date.0 > t) {
                errors.push(after_now(
                    at.key("points").index(j).key("date"),
                    &format!("the day `{}`", p.date.0),
                    now,
                ));
            }
        }
    }
    for (i, e) in inventory.events.iter().enumerate() {
        let at = root.key("events").index(i);
        license_ref(&e.license, at.key("license"), errors);
        if e.at > now {
            errors.push(after_now(at.key("at"), "the event", now));
        }
        match (e.kind, e.until) {
            (EventKind::Termination, Some(_)) => errors.push(Error::UnknownField {
                path: at.key("until"),
                field: "until".into(),
            }),
            (EventKind::Suspension, Some(until)) if until <= e.at => {
                errors.push(Error::Contradiction {
                    path: at.key("until"),
                    detail: format!("the suspension ends ({until}) before it starts ({})", e.at),
                    code: Conflict::EventsOutOfOrder,
                });
            }
            _ => {}
        }
    }
}
