//! Checks of the compliance section against the rest of the bundle: every
//! severity and queue a detector names is declared by the support section,
//! every tier priced is declared, and each threshold is in its range.

use rust_decimal::Decimal;

use crate::error::{Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;

use super::{AfterTermination, Compliance, OverDeployment, Route, Spike, Undeclared};

/// Every problem of a bundle's compliance section; `root` is the bundle's path.
pub fn validate(bundle: &Bundle, compliance: &Compliance, root: &JsonPath) -> Vec<Error> {
    let at = root.key("compliance");
    let mut errors = Vec::new();
    let routes: [(&str, Option<Route<'_>>); 4] = [
        ("spike", compliance.spike.as_ref().map(Spike::route)),
        (
            "over_deployment",
            compliance
                .over_deployment
                .as_ref()
                .map(OverDeployment::route),
        ),
        (
            "undeclared",
            compliance.undeclared.as_ref().map(Undeclared::route),
        ),
        (
            "after_termination",
            compliance
                .after_termination
                .as_ref()
                .map(AfterTermination::route),
        ),
    ];
    let Some(support) = &bundle.support else {
        if routes.iter().any(|(_, r)| r.is_some()) {
            errors.push(Error::MissingField {
                path: root.key("support"),
                field: "support".into(),
            });
        }
        return errors;
    };
    for (name, route) in &routes {
        let Some(route) = route else { continue };
        let here = at.key(name);
        if support.rank(route.severity).is_none() {
            errors.push(Error::unknown(
                here.key("severity"),
                RefKind::Severity,
                route.severity.as_str(),
            ));
        }
        if !support.categories.contains_key(route.queue) {
            errors.push(Error::unknown(
                here.key("queue"),
                RefKind::Category,
                route.queue.as_str(),
            ));
        }
        for (i, step) in route.steps.iter().enumerate() {
            if support.rank(&step.severity).is_none() {
                errors.push(Error::unknown(
                    here.key("severity_steps").index(i).key("severity"),
                    RefKind::Severity,
                    step.severity.as_str(),
                ));
            }
        }
    }
    if let Some(spike) = &compliance.spike {
        let here = at.key("spike");
        if !(1..=366).contains(&spike.window_days) {
            errors.push(Error::OutOfRange {
                path: here.key("window_days"),
                detail: format!("`window_days` is {}, not 1 to 366", spike.window_days),
            });
        }
        if spike.factor.value() <= Decimal::ONE {
            errors.push(Error::OutOfRange {
                path: here.key("factor"),
                detail: format!("a spike `factor` of `{}` is not more than 1", spike.factor),
            });
        }
    }
    for tier in compliance.seat_prices.keys() {
        if !bundle.tiers.contains_key(tier) {
            errors.push(Error::unknown(
                at.key("seat_prices").key(tier.as_str()),
                RefKind::Tier,
                tier.as_str(),
            ));
        }
    }
    errors
}
