//! The `escalate` operation: a case's severity, level and owner, every SLA
//! and phase clock, missing evidence, the next action and message due, and
//! the next instant any of it changes, all re-derived from its events.

mod answer;
mod replay;
mod report;

use crate::error::{Conflict, Error, JsonPath};
use crate::model::bundle::Bundle;
use crate::model::license::License;
use crate::model::time::Timestamp;
use crate::support::case::{self, Case};
use crate::support::matrix;

use replay::{Replay, Setup};
pub use report::Escalation;

/// Evaluates a case under the bundle at `now`. A case opened under another
/// version of the bundle is refused unless `reevaluate` asks for this one.
pub fn escalate(
    bundle: &Bundle,
    license: &License,
    case: &Case,
    reevaluate: bool,
    now: Timestamp,
) -> Result<Escalation, Vec<Error>> {
    let root = JsonPath::root();
    let Some(support) = &bundle.support else {
        return Err(vec![Error::MissingField {
            path: root.key("bundle").key("support"),
            field: "support".into(),
        }]);
    };
    let at = root.key("case");
    let mut errors = Vec::new();
    if case.bundle_version != bundle.version && !reevaluate {
        errors.push(Error::Contradiction {
            path: at.key("bundle_version"),
            detail: format!(
                "the case was opened under bundle version `{}`, not `{}`; evaluate it under its own version, or set `reevaluate`",
                case.bundle_version, bundle.version
            ),
            code: Conflict::BundleVersionMismatch,
        });
    }
    let category = case::check(case, support, now, &at, &mut errors);
    let Some(category) = category.filter(|_| errors.is_empty()) else {
        return Err(errors);
    };
    let severity = matrix::severity(support, case);
    let policies = root.key("bundle").key("support").key("sla").key("policies");
    let policy = support.policy(&license.tier, &severity.severity).map(|p| {
        let path = policies
            .key(license.tier.as_str())
            .key(severity.severity.as_str());
        (p, path)
    });
    let setup = Setup {
        support,
        calendars: &bundle.calendars,
        category,
        policy,
        category_path: root
            .key("bundle")
            .key("support")
            .key("categories")
            .key(case.category.as_str()),
    };
    let replay = Replay::run(&setup, case, now).map_err(|e| vec![e])?;
    answer::assemble(
        bundle, support, license, case, &setup, &replay, severity, reevaluate, now,
    )
}
