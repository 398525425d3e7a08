//! `diff`: one scenario replayed under two bundles, and every entry of
//! either timeline the other does not have, in time order.

use serde::Serialize;

use super::{simulate, Entry, Simulation};
use crate::error::Error;
use crate::model::bundle::Bundle;
use crate::model::license::License;
use crate::model::order;
use crate::simulate::scenario::Scenario;

/// An entry one bundle's timeline has and the other's does not.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// Which timeline has it: `bundle` or `against`.
    pub only_in: &'static str,
    /// The entry.
    #[serde(flatten)]
    pub entry: Entry,
}

/// Both timelines and their differences.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// The scenario under the request's `bundle`.
    pub bundle: Simulation,
    /// The scenario under `against`.
    pub against: Simulation,
    /// Every entry only one of them has, in time order (`bundle`'s first at
    /// one instant).
    pub differences: Vec<Difference>,
}

/// Replays the scenario under both bundles and compares the timelines
/// entry by entry: the same change at the same instant is no difference.
pub fn diff(
    bundle: &Bundle,
    against: &Bundle,
    license: &License,
    scenario: &Scenario,
) -> Result<Diff, Vec<Error>> {
    let a = simulate(bundle, license, scenario)?;
    let b = simulate(against, license, scenario)?;
    let only = |side: &'static str, mine: &Simulation, theirs: &Simulation| {
        mine.timeline
            .iter()
            .filter(|e| !theirs.timeline.contains(e))
            .map(|e| Difference {
                only_in: side,
                entry: e.clone(),
            })
            .collect::<Vec<_>>()
    };
    let mut differences = only("bundle", &a, &b);
    differences.extend(only("against", &b, &a));
    order::sort_by_key(&mut differences, |d| d.entry.at);
    Ok(Diff {
        bundle: a,
        against: b,
        differences,
    })
}
