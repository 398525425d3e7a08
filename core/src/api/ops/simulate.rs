//! `simulate` and `diff`: the request's own fields (the scenario, and for
//! `diff` the bundle to compare against) read, and the replay answered.

use serde::Serialize;
use serde_json::{Map, Value};

use super::required;
use crate::api::op::Op;
use crate::error::{Error, JsonPath};
use crate::model::bundle::Bundle;
use crate::model::license::License;
use crate::reading::bundle::{read_bundle_field, BundleMeta};
use crate::reading::json;
use crate::reading::signed::KeySet;
use crate::simulate::scenario::{self, Scenario};
use crate::simulate::{Diff, Simulation};

/// The longest window a scenario may replay: five years (5 x 366 days).
/// A replay evaluates at least once a local day when the bundle scans for
/// compliance, so a longer window is refused before any work is done.
pub const MAX_WINDOW_DAYS: i64 = 5 * 366;

/// The error for a window longer than [`MAX_WINDOW_DAYS`]; `at` is the
/// scenario's path.
fn window_too_long(scenario: &Scenario, at: &JsonPath) -> Option<Error> {
    let days = scenario.until.seconds_since(scenario.from) / 86_400;
    let longer = scenario.until.seconds_since(scenario.from) > MAX_WINDOW_DAYS * 86_400;
    longer.then(|| Error::OutOfRange {
        path: at.key("until"),
        detail: format!(
            "a scenario's window is at most {MAX_WINDOW_DAYS} days (five years) from `from`; this one is {days} days"
        ),
    })
}

/// A replay's answer: one timeline, or two compared.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Replay {
    /// `simulate`: the timeline under the bundle.
    Simulation(Simulation),
    /// `diff`: the bundle compared against and where the timelines differ.
    Diff(Compared),
}

/// A `diff` answer: the other bundle's identity beside the differences.
#[derive(Debug, Serialize)]
pub(crate) struct Compared {
    against_bundle: BundleMeta,
    #[serde(flatten)]
    diff: Diff,
}

/// Answers a `simulate` or `diff` request whose bundle and license are read.
pub(crate) fn answer(
    op: Op,
    fields: &mut Map<String, Value>,
    bundle: &Bundle,
    license: Option<&License>,
    keys: Option<&KeySet>,
) -> Result<Replay, Vec<Error>> {
    let root = JsonPath::root();
    let Some(license) = license else {
        return Err(vec![Error::MissingField {
            path: root.key("license"),
            field: "license".into(),
        }]);
    };
    let against = match op {
        Op::Diff => Some(read_bundle_field(
            required(fields, "against")?,
            keys,
            &root.key("against"),
        )?),
        _ => None,
    };
    let at = root.key("scenario");
    let scenario: Scenario =
        json::typed(required(fields, "scenario")?, &at).map_err(|e| vec![e])?;
    let mut errors = scenario::check(bundle, &scenario, &at);
    if let Some(error) = window_too_long(&scenario, &at) {
        // `until` is read before the watches and events the others name.
        errors.insert(0, error);
    }
    if let Some((other, _, _)) = &against {
        // The other bundle must know every name the scenario uses too.
        errors.extend(scenario::check(other, &scenario, &at));
        errors.dedup();
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    match against {
        None => crate::simulate::simulate(bundle, license, &scenario).map(Replay::Simulation),
        Some((other, against_bundle, _)) => {
            let diff = crate::simulate::diff(bundle, &other, license, &scenario)?;
            Ok(Replay::Diff(Compared {
                against_bundle,
                diff,
            }))
        }
    }
}
