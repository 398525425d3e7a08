//! The bundle's compliance section: the thresholds of each scan detector,
//! the severity and queue its findings get, and the per-seat prices a
//! true-up is quoted at. Checked by [`validate`]; see `docs/compliance.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::ids::{CategoryId, SeverityId, TierId};
use crate::model::money::Price;

mod validate;

pub use validate::validate;

/// The compliance section of a bundle. A detector whose entry is absent
/// does not run.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Compliance {
    /// Usage against its trailing baseline.
    #[serde(default)]
    pub spike: Option<Spike>,
    /// More installations than seats.
    #[serde(default)]
    pub over_deployment: Option<OverDeployment>,
    /// Installations seen but never declared.
    #[serde(default)]
    pub undeclared: Option<Undeclared>,
    /// Use after the term ended, after termination, or while suspended.
    #[serde(default)]
    pub after_termination: Option<AfterTermination>,
    /// Price of one seat per billing period, per tier, for seat true-ups.
    #[serde(default)]
    pub seat_prices: BTreeMap<TierId, Price>,
}

/// A severity a finding takes once its measure reaches `at_least`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The lowest measure the step applies to (decimal text).
    pub at_least: Price,
    /// The severity it gives.
    pub severity: SeverityId,
}

/// Where a detector's findings go and how severe they are.
pub struct Route<'a> {
    /// The severity of a finding no step raises.
    pub severity: &'a SeverityId,
    /// The escalation category findings are queued in.
    pub queue: &'a CategoryId,
    /// Severities by how far the measure goes.
    pub steps: &'a [Step],
}

macro_rules! routed {
    ($name:ident { $($(#[$doc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        #[doc = concat!("The `", stringify!($name), "` detector's settings.")]
        #[derive(Debug, Clone, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$doc])* pub $field: $ty,)*
            /// The severity of a finding no step raises.
            pub severity: SeverityId,
            /// The escalation category its findings are queued in.
            pub queue: CategoryId,
            /// Higher severities by the finding's measure.
            #[serde(default)]
            pub severity_steps: Vec<Step>,
        }

        impl $name {
            /// Where its findings go.
            pub fn route(&self) -> Route<'_> {
                Route {
                    severity: &self.severity,
                    queue: &self.queue,
                    steps: &self.severity_steps,
                }
            }
        }
    };
}

routed!(Spike {
    /// Days of baseline before the latest day (1 to 366).
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 366)))]
    window_days: u32,
    /// The latest day is a spike when it is at least this many times the
    /// baseline mean; more than 1.
    #[cfg_attr(
        feature = "schema",
        schemars(extend("type" = "string", "pattern" = "^0*(?:1\\.[0-9]*[1-9][0-9]*|(?:[2-9]|[1-9][0-9]+)(?:\\.[0-9]+)?)$"))
    )]
    factor: Price,
});

routed!(OverDeployment {
    /// Installations may exceed seats by less than this percent of the seats.
    threshold_percent: u32,
});

routed!(Undeclared {
    /// Whole days an undeclared installation must have been seen over.
    #[serde(default)]
    min_days_seen: u32,
});

routed!(AfterTermination {
    /// Whole days of use tolerated after the end.
    #[serde(default)]
    grace_days: u32,
});

/// The severity of a finding whose measure is `measure`: the most severe of
/// the route's severity and every step the measure reaches.
pub fn severity(
    support: &crate::support::policy::Support,
    route: &Route<'_>,
    reaches: impl Fn(&Step) -> bool,
) -> SeverityId {
    route
        .steps
        .iter()
        .filter(|s| reaches(s))
        .map(|s| &s.severity)
        .chain(std::iter::once(route.severity))
        .min_by_key(|s| support.rank(s).unwrap_or(usize::MAX))
        .unwrap_or(route.severity)
        .clone()
}
