//! The bundle's exception policy: which facts a request must give, the
//! longest exception, the weights of the four risk dimensions and what feeds
//! them, the fast-track threshold, the approver roles per score band and the
//! review reminders before expiry. Checked by [`validate`]; see
//! `docs/exceptions.md`.

use serde::{Deserialize, Serialize};

use crate::model::ids::{FeatureId, RoleId};

mod validate;

pub use validate::validate;

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
