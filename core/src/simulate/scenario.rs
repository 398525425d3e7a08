//! The scenario document `simulate` and `diff` replay: a window of time, the
//! usage at its start, the checks to watch, and a timeline of usage, seat,
//! contract and support-case events, checked so that a replay never meets
//! an impossible step.

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess};
use serde::Deserialize;

use crate::error::{Conflict, Error, JsonPath, RefKind};
use crate::model::bundle::{Bundle, FeatureKind};
use crate::model::ids::{FeatureId, InstallationId};
use crate::model::license::{LicenseStatus, Usage};
use crate::model::time::Timestamp;
use crate::reading::strict::{self, Tagged};
use crate::support::case::{self, Case};

/// A scenario to replay.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Its name, echoed in the answer.
    pub scenario: String,
    /// The first instant replayed.
    pub from: Timestamp,
    /// The first instant not replayed.
    pub until: Timestamp,
    /// The usage at `from`.
    #[serde(default)]
    pub usage: Usage,
    /// The checks whose decisions the timeline follows.
    #[serde(default)]
    pub watch: Watch,
    /// What happens, in time order.
    #[serde(default)]
    pub events: Vec<ScenarioEvent>,
}

/// The checks a simulation follows: a feature check for each feature, and
/// "may one more unit be consumed" for each metric.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Watch {
    /// Features, boolean or metered.
    #[serde(default)]
    pub features: Vec<FeatureId>,
    /// Metered features, checked for one more unit.
    #[serde(default)]
    pub metrics: Vec<FeatureId>,
}

/// One thing that happens in a scenario.
// Read by hand (below) as `#[serde(tag = "type")]` reads it, without
// serde's buffering (`strict::tagged`); the attributes describe it to the
// schema. A plain comment, so the schemas keep their description.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)
)]
pub enum ScenarioEvent {
    /// Units consumed through a consuming check: counted when allowed.
    Usage {
        /// When.
        at: Timestamp,
        /// The metric.
        metric: FeatureId,
        /// How many units.
        amount: u64,
    },
    /// Seats in use from then on.
    Seats {
        /// When.
        at: Timestamp,
        /// Seats in use.
        active: u64,
    },
    /// The vendor changes the license's status.
    Contract {
        /// When.
        at: Timestamp,
        /// The status from then on.
        status: LicenseStatus,
    },
    /// An installation of the license is first seen; it stays seen until
    /// `last_seen`, or to the end of the scenario.
    Installation {
        /// When it is first seen.
        at: Timestamp,
        /// Its id.
        installation: InstallationId,
        /// When it was last seen, if it goes away.
        #[cfg_attr(feature = "schema", serde(default))]
        last_seen: Option<Timestamp>,
    },
    /// The customer declares an installation from then on.
    Deployment {
        /// When.
        at: Timestamp,
        /// The installation declared.
        installation: InstallationId,
    },
    /// A support case opens at its `opened_at`; its own events follow it.
    Case {
        /// The case, with every event it will have in the scenario.
        case: Case,
    },
}

impl<'de> Deserialize<'de> for ScenarioEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        strict::tagged(deserializer)
    }
}

impl<'de> Tagged<'de> for ScenarioEvent {
    const TAG: &'static str = "type";
    const EXPECTING: &'static str = "internally tagged enum ScenarioEvent";
    const VARIANTS: &'static [&'static str] = &[
        "usage",
        "seats",
        "contract",
        "installation",
        "deployment",
        "case",
    ];

    fn variant<A: MapAccess<'de>>(name: &'static str, rest: A) -> Result<Self, A::Error> {
        let rest = MapAccessDeserializer::new(rest);
        Ok(match name {
            "usage" => {
                let read::Usage { at, metric, amount } = Deserialize::deserialize(rest)?;
                ScenarioEvent::Usage { at, metric, amount }
            }
            "seats" => {
                let read::Seats { at, active } = Deserialize::deserialize(rest)?;
                ScenarioEvent::Seats { at, active }
            }
            "contract" => {
                let read::Contract { at, status } = Deserialize::deserialize(rest)?;
                ScenarioEvent::Contract { at, status }
            }
            "installation" => {
                let read::Installation {
                    at,
                    installation,
                    last_seen,
                } = Deserialize::deserialize(rest)?;
                ScenarioEvent::Installation {
                    at,
                    installation,
                    last_seen,
                }
            }
            "deployment" => {
                let read::Deployment { at, installation } = Deserialize::deserialize(rest)?;
                ScenarioEvent::Deployment { at, installation }
            }
            "case" => {
                let read::Case { case } = Deserialize::deserialize(rest)?;
                ScenarioEvent::Case { case }
            }
            other => return Err(de::Error::unknown_variant(other, Self::VARIANTS)),
        })
    }
}

/// [`ScenarioEvent`]'s variants as structs, read by serde's derive as the
/// enum's derive read them.
mod read {
    use serde::Deserialize;

    use crate::model::ids::{FeatureId, InstallationId};
    use crate::model::license::LicenseStatus;
    use crate::model::time::Timestamp;
    use crate::support::case;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Usage {
        pub(super) at: Timestamp,
        pub(super) metric: FeatureId,
        pub(super) amount: u64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Seats {
        pub(super) at: Timestamp,
        pub(super) active: u64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Contract {
        pub(super) at: Timestamp,
        pub(super) status: LicenseStatus,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Installation {
        pub(super) at: Timestamp,
        pub(super) installation: InstallationId,
        #[serde(default)]
        pub(super) last_seen: Option<Timestamp>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Deployment {
        pub(super) at: Timestamp,
        pub(super) installation: InstallationId,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Case {
        pub(super) case: case::Case,
    }
}

impl ScenarioEvent {
    /// When the event happens (a case: when it opens).
    pub fn at(&self) -> Timestamp {
        match self {
            ScenarioEvent::Usage { at, .. }
            | ScenarioEvent::Seats { at, .. }
            | ScenarioEvent::Contract { at, .. }
            | ScenarioEvent::Installation { at, .. }
            | ScenarioEvent::Deployment { at, .. } => *at,
            ScenarioEvent::Case { case } => case.opened_at,
        }
    }
}

/// Every problem of a scenario against the bundle: a window that ends
/// before it starts, events out of order or outside the window, names the
/// bundle does not declare, and each case's own problems (checked at
/// `until`). `at` is the scenario's path.
pub fn check(bundle: &Bundle, scenario: &Scenario, at: &JsonPath) -> Vec<Error> {
    let mut errors = Vec::new();
    if scenario.until <= scenario.from {
        errors.push(Error::OutOfRange {
            path: at.key("until"),
            detail: format!(
                "the scenario ends at `{}`, not after it starts at `{}`",
                scenario.until, scenario.from
            ),
        });
    }
    let metered = |f: &FeatureId| {
        bundle
            .features
            .get(f)
            .is_some_and(|x| x.kind == FeatureKind::Metered)
    };
    for (i, f) in scenario.watch.features.iter().enumerate() {
        if !bundle.features.contains_key(f) {
            let path = at.key("watch").key("features").index(i);
            errors.push(Error::unknown(path, RefKind::Feature, f.as_str()));
        }
    }
    for (i, m) in scenario.watch.metrics.iter().enumerate() {
        if !metered(m) {
            let path = at.key("watch").key("metrics").index(i);
            errors.push(Error::unknown(path, RefKind::Metric, m.as_str()));
        }
    }
    let mut last = scenario.from;
    let mut ids = Vec::new();
    let mut installations = Vec::new();
    for (i, event) in scenario.events.iter().enumerate() {
        let path = at.key("events").index(i);
        let t = event.at();
        let time_field = match event {
            ScenarioEvent::Case { .. } => path.key("case").key("opened_at"),
            _ => path.key("at"),
        };
        if t < last {
            errors.push(Error::contradiction(
                time_field,
                Conflict::EventsOutOfOrder,
                format!("the event at `{t}` comes after one at `{last}` (or the scenario's start)"),
            ));
        } else if t >= scenario.until {
            errors.push(Error::OutOfRange {
                path: time_field,
                detail: format!("the event at `{t}` is not before the scenario's `until`"),
            });
        }
        last = last.max(t);
        match event {
            ScenarioEvent::Usage { metric, .. } if !metered(metric) => {
                errors.push(Error::unknown(
                    path.key("metric"),
                    RefKind::Metric,
                    metric.as_str(),
                ));
            }
            ScenarioEvent::Installation {
                installation,
                last_seen,
                ..
            } => {
                if last_seen.is_some_and(|l| l < t) {
                    errors.push(Error::contradiction(
                        path.key("last_seen"),
                        Conflict::LastSeenBeforeFirstSeen,
                        format!(
                            "installation `{installation}` is last seen before it is first seen"
                        ),
                    ));
                }
                if installations.contains(&installation) {
                    errors.push(Error::Duplicate {
                        path: path.key("installation"),
                        what: "installation".into(),
                        value: installation.to_string(),
                    });
                }
                installations.push(installation);
            }
            ScenarioEvent::Case { case } => {
                let case_path = path.key("case");
                if ids.contains(&&case.case) {
                    errors.push(Error::Duplicate {
                        path: case_path.key("case"),
                        what: "case".into(),
                        value: case.case.to_string(),
                    });
                }
                ids.push(&case.case);
                match &bundle.support {
                    Some(support) => {
                        case::check(case, support, scenario.until, &case_path, &mut errors);
                    }
                    None => errors.push(Error::MissingField {
                        path: JsonPath::root().key("bundle").key("support"),
                        field: "support".into(),
                    }),
                }
            }
            _ => {}
        }
    }
    errors
}
