//! The bundle's exception policy: which facts a request must give, the
//! longest exception, the weights of the four risk dimensions and what feeds
//! them, the fast-track threshold, the approver roles per score band and the
//! review reminders before expiry. Checked by [`validate`]; see
//! `docs/exceptions.md`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{Conflict, Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;
use crate::model::ids::{FeatureId, RoleId};
use crate::reading::validate::{contradiction, unknown};

/// The `exception_policy` section of a bundle.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExceptionPolicy {
    /// Facts a request must give, beyond its grants and window.
    #[serde(default)]
    pub required_facts: Vec<Fact>,
    /// The longest exception, in days of 24 hours.
    pub max_duration_days: u32,
    /// Weight of each risk dimension in the total; they add up to 100.
    pub weights: Weights,
    /// Features whose grant carries legal risk.
    #[serde(default)]
    pub legal_sensitive_features: Vec<FeatureId>,
    /// Use cases that carry reputational risk, matched exactly.
    #[serde(default)]
    pub sensitive_use_cases: Vec<String>,
    /// A total below this goes on the fast track; the rest on the standard one.
    pub fast_track_below: u32,
    /// Roles that must approve, by score band, lowest band first.
    pub approver_bands: Vec<ApproverBand>,
    /// Days before `expires_at` at which the exception is reviewed.
    #[serde(default)]
    pub reminder_days_before_expiry: Vec<u32>,
}

/// A fact an exception request may be required to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// Who asks for the exception.
    Requester,
    /// What the customer needs it for.
    UseCase,
    /// Why it should be granted.
    Reason,
    /// The revenue the exception puts at risk.
    ExpectedRevenueImpact,
}

impl Fact {
    /// The request field that gives the fact.
    pub fn field(self) -> &'static str {
        match self {
            Fact::Requester => "requester",
            Fact::UseCase => "use_case",
            Fact::Reason => "reason",
            Fact::ExpectedRevenueImpact => "expected_revenue_impact",
        }
    }
}

/// Weight of each dimension, in percent of the total.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// Revenue at risk.
    pub commercial: u32,
    /// Legal-sensitive features and duration.
    pub legal: u32,
    /// Size of the extra quota, grace and features.
    pub technical: u32,
    /// Sensitive use cases and precedent.
    pub reputational: u32,
}

/// The roles a total from `from_score` (up to the next band) requires.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproverBand {
    /// Lowest total of the band.
    pub from_score: u32,
    /// Every role that must approve.
    pub roles: Vec<RoleId>,
}

impl ExceptionPolicy {
    /// The band a total falls in: the last whose `from_score` it reaches.
    pub fn band(&self, total: u32) -> Option<&ApproverBand> {
        self.approver_bands
            .iter()
            .rev()
            .find(|b| b.from_score <= total)
    }
}

/// The help line of the exception codes.
pub(crate) fn help(code: Conflict) -> Option<&'static str> {
    Some(match code {
        Conflict::MissingFact => "give the fact; the bundle's `exception_policy.required_facts` requires it",
        Conflict::DurationOverMaximum => {
            "shorten the exception to the policy's `max_duration_days`, or split it into reviewed renewals"
        }
        Conflict::OverlappingException => {
            "let the other exception end or revoke it first, or start this one after it"
        }
        Conflict::AlreadyGranted => "drop the feature: the license already has it",
        Conflict::ApprovalNotRequired => "record approvals only by the roles the score requires",
        Conflict::AmbiguousDuration => "give `expires_at` or `duration_days`, not both",
        Conflict::WeightsNotHundred => "make the four weights add up to 100",
        _ => return None,
    })
}

/// Every problem of an exception policy; `root` is where it sits.
pub fn validate(bundle: &Bundle, policy: &ExceptionPolicy, root: &JsonPath) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut facts = BTreeSet::new();
    for (i, fact) in policy.required_facts.iter().enumerate() {
        if !facts.insert(fact) {
            errors.push(duplicate(
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
        errors.push(contradiction(
            root.key("weights"),
            Conflict::WeightsNotHundred,
            format!("the weights add up to `{sum}`, not 100"),
        ));
    }
    for (i, f) in policy.legal_sensitive_features.iter().enumerate() {
        if !bundle.features.contains_key(f) {
            let path = root.key("legal_sensitive_features").index(i);
            errors.push(unknown(path, RefKind::Feature, f.as_str()));
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
            errors.push(duplicate(path, "reminder offset", &d.to_string()));
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
            errors.push(contradiction(
                path.key("roles"),
                Conflict::MissingApprover,
                "an approver band names no role".into(),
            ));
        }
        let mut seen = BTreeSet::new();
        for (j, role) in band.roles.iter().enumerate() {
            if !seen.insert(role) {
                errors.push(duplicate(path.key("roles").index(j), "role", role.as_str()));
            }
        }
    }
}

fn duplicate(path: JsonPath, what: &str, value: &str) -> Error {
    Error::Duplicate {
        path,
        what: what.into(),
        value: value.into(),
    }
}
