//! Checks of the exception policy against itself and the rest of the
//! bundle: facts and reminders named once, weights that add up to 100,
//! declared features, approver bands from score 0 upwards.

use std::collections::BTreeSet;

use crate::error::{Conflict, Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;

use super::ExceptionPolicy;

/// Every problem of an exception policy; `root` is where it sits.
pub fn validate(bundle: &Bundle, policy: &ExceptionPolicy, root: &JsonPath) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut facts = BTreeSet::new();
    for (i, fact) in policy.required_facts.iter().enumerate() {
        if !facts.insert(fact) {
            errors.push(Error::duplicate(
                root.key("required_facts").index(i),
                "fact",
                fact.field(),
            ));
        }
    }
    if policy.max_duration_days == 0 {
        errors.push(Error::NotPositive {
            path: root.key("max_duration_days"),
            what: "max_duration_days".into(),
            value: "0".into(),
        });
    }
    let w = policy.weights;
    let sum = u64::from(w.commercial)
        + u64::from(w.legal)
        + u64::from(w.technical)
        + u64::from(w.reputational);
    if sum != 100 {
        errors.push(Error::contradiction(
            root.key("weights"),
            Conflict::WeightsNotHundred,
            format!("the weights add up to `{sum}`, not 100"),
        ));
    }
    for (i, f) in policy.legal_sensitive_features.iter().enumerate() {
        if !bundle.features.contains_key(f) {
            let path = root.key("legal_sensitive_features").index(i);
            errors.push(Error::unknown(path, RefKind::Feature, f.as_str()));
        }
    }
    if policy.fast_track_below > 101 {
        errors.push(Error::OutOfRange {
            path: root.key("fast_track_below"),
            detail: format!(
                "a threshold is a total from 0 to 101, got `{}`",
                policy.fast_track_below
            ),
        });
    }
    bands(policy, &root.key("approver_bands"), &mut errors);
    let mut days = BTreeSet::new();
    for (i, d) in policy.reminder_days_before_expiry.iter().enumerate() {
        let path = root.key("reminder_days_before_expiry").index(i);
        if *d == 0 {
            errors.push(Error::NotPositive {
                path,
                what: "a reminder offset".into(),
                value: "0".into(),
            });
        } else if !days.insert(d) {
            errors.push(Error::duplicate(path, "reminder offset", &d.to_string()));
        }
    }
    errors
}

fn bands(policy: &ExceptionPolicy, at: &JsonPath, errors: &mut Vec<Error>) {
    if policy.approver_bands.is_empty() {
        errors.push(Error::BandBounds {
            path: at.clone(),
            detail: "the policy gives no approver band; the first starts at score 0".into(),
        });
    }
    let mut previous: Option<u32> = None;
    for (i, band) in policy.approver_bands.iter().enumerate() {
        let path = at.index(i);
        match previous {
            None if band.from_score != 0 => errors.push(Error::BandBounds {
                path: path.key("from_score"),
                detail: format!(
                    "the first approver band starts at `{}`, not at 0",
                    band.from_score
                ),
            }),
            Some(before) if band.from_score <= before => errors.push(Error::BandOverlap {
                path: path.key("from_score"),
                previous_to: before.to_string(),
                from: band.from_score.to_string(),
            }),
            _ => {}
        }
        if band.from_score > 100 {
            errors.push(Error::OutOfRange {
                path: path.key("from_score"),
                detail: format!("a score is from 0 to 100, got `{}`", band.from_score),
            });
        }
        previous = Some(band.from_score);
        if band.roles.is_empty() {
            errors.push(Error::contradiction(
                path.key("roles"),
                Conflict::MissingApprover,
                "an approver band names no role".into(),
            ));
        }
        let mut seen = BTreeSet::new();
        for (j, role) in band.roles.iter().enumerate() {
            if !seen.insert(role) {
                errors.push(Error::duplicate(
                    path.key("roles").index(j),
                    "role",
                    role.as_str(),
                ));
            }
        }
    }
}
