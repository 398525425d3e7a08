//! The exception request: what a customer's team asks for outside the
//! standard terms (features, extra quota, longer grace), for how long, why,
//! at what revenue risk, and the approvals or denial recorded so far.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::exceptions::policy::Fact;
use crate::model::ids::{ExceptionId, FeatureId, RoleId};
use crate::model::money::Price;
use crate::model::time::Timestamp;

/// An exception request, `$.request` of an `exception` operation.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExceptionRequest {
    /// The request's id; the exception it produces keeps it.
    pub id: ExceptionId,
    /// Who asks for it.
    #[serde(default)]
    pub requester: Option<String>,
    /// What the customer needs it for.
    #[serde(default)]
    pub use_case: Option<String>,
    /// Why it should be granted; the record's `reason` (else the use case).
    #[serde(default)]
    pub reason: Option<String>,
    /// Extra boolean features.
    #[serde(default)]
    pub features: Vec<FeatureId>,
    /// Extra units per metric.
    #[serde(default)]
    pub quota_increments: BTreeMap<FeatureId, u64>,
    /// Extra soft-limit grace hours per metric.
    #[serde(default)]
    pub grace_hours: BTreeMap<FeatureId, u32>,
    /// First instant the exception would apply.
    #[serde(default)]
    pub starts_at: Option<Timestamp>,
    /// First instant it would no longer apply.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// Its length in days of 24 hours, instead of `expires_at`.
    #[serde(default)]
    pub duration_days: Option<u32>,
    /// The revenue the exception puts at risk, in the bundle's currency.
    #[serde(default)]
    pub expected_revenue_impact: Option<Price>,
    /// Approvals recorded so far.
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// The denial, if one was made.
    #[serde(default)]
    pub denied: Option<Denial>,
    /// When the granted exception was revoked (or will be).
    #[serde(default)]
    pub revoked_at: Option<Timestamp>,
}

/// One role's approval.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The approving role.
    pub role: RoleId,
    /// When it approved.
    pub at: Timestamp,
}

/// A denial ends the request.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Denial {
    /// The denying role.
    pub role: RoleId,
    /// When it denied.
    pub at: Timestamp,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ExceptionRequest {
    /// Whether the request gives a fact: present and not blank.
    pub fn gives(&self, fact: Fact) -> bool {
        let text = |t: &Option<String>| t.as_deref().is_some_and(|t| !t.trim().is_empty());
        match fact {
            Fact::Requester => text(&self.requester),
            Fact::UseCase => text(&self.use_case),
            Fact::Reason => text(&self.reason),
            Fact::ExpectedRevenueImpact => self.expected_revenue_impact.is_some(),
        }
    }
}
