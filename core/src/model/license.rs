//! The license: one customer's grant (tier, add-ons, seats, term, status,
//! zone, anchor date and exceptions), and the usage counted against it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::ids::{AddOnId, CustomerId, ExceptionId, FeatureId, LicenseId, TierId};
use crate::model::time::{Date, Timestamp, Zone};

/// One customer's grant.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct License {
    /// The license's id.
    pub license: LicenseId,
    /// Who holds it.
    pub customer: CustomerId,
    /// The tier it grants.
    pub tier: TierId,
    /// Add-ons bought with the tier.
    #[serde(default)]
    pub addons: Vec<AddOnId>,
    /// Seats bought.
    pub seats: u64,
    /// When it starts and ends.
    pub term: Term,
    /// Whether the vendor has suspended or terminated it.
    pub status: LicenseStatus,
    /// The zone its periods and days are counted in.
    pub time_zone: Zone,
    /// The date its monthly and yearly periods reset on.
    pub anchor_date: Date,
    /// Time-bound grants outside the standard terms.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
    /// When the vendor issued this document; a check refuses it while `now`
    /// is more than the bundle's clock skew before this instant.
    #[serde(default)]
    pub issued_at: Option<Timestamp>,
    /// When the license may be used offline, apart from its term.
    #[serde(default)]
    pub offline: Option<OfflineWindow>,
}

/// The span in which a license may be used offline: from `not_before`
/// (inclusive) to `not_after` (exclusive, the first instant it may not),
/// like a term. Set by the vendor so that a copy kept offline stops working
/// unless it is refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OfflineWindow {
    /// First instant the license may be used offline.
    pub not_before: Timestamp,
    /// First instant it may no longer be.
    pub not_after: Timestamp,
}

/// A license's term: from `start` (inclusive) to `end` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// First instant of the term.
    pub start: Timestamp,
    /// First instant after the term.
    pub end: Timestamp,
}

/// The status the vendor sets; expiry is derived from the term, not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    /// In force.
    Active,
    /// Paused by the vendor; nothing is allowed until reactivated.
    Suspended,
    /// Ended by the vendor; nothing is allowed.
    Terminated,
}

/// A time-bound grant outside the standard terms, in force from `starts_at`
/// (inclusive) to `expires_at` (exclusive) unless revoked earlier.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// The exception's id.
    pub id: ExceptionId,
    /// What it grants.
    pub grants: Grants,
    /// First instant it applies.
    pub starts_at: Timestamp,
    /// First instant it no longer applies.
    pub expires_at: Timestamp,
    /// Who approved it.
    pub approver: String,
    /// Why it was granted.
    pub reason: String,
    /// When it was revoked, if it was; it grants nothing from then on.
    #[serde(default)]
    pub revoked_at: Option<Timestamp>,
}

/// What an exception grants.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Grants {
    /// Extra features.
    #[serde(default)]
    pub features: Vec<FeatureId>,
    /// Extra units per metric, added to the quota's limit.
    #[serde(default)]
    pub quota_increments: BTreeMap<FeatureId, u64>,
    /// Extra hours of soft-limit grace per metric.
    #[serde(default)]
    pub grace_hours: BTreeMap<FeatureId, u32>,
    /// Extra seats, added to the license's while the exception is in force.
    #[serde(default)]
    pub seats: u64,
}

/// Whether an exception is in force at an instant, and if not, why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionState {
    /// Before `starts_at`.
    NotStarted,
    /// In its window and not revoked.
    Active,
    /// At or after `expires_at`.
    Expired,
    /// At or after `revoked_at`.
    Revoked,
}

impl Exception {
    /// The exception's state at `now`; revocation wins over every other state.
    pub fn state(&self, now: Timestamp) -> ExceptionState {
        match self.revoked_at {
            Some(revoked) if now >= revoked => ExceptionState::Revoked,
            _ if now < self.starts_at => ExceptionState::NotStarted,
            _ if now >= self.expires_at => ExceptionState::Expired,
            _ => ExceptionState::Active,
        }
    }

    /// The instant the exception stops being in force: its expiry, or its
    /// revocation when that comes first.
    pub fn ends_at(&self) -> Timestamp {
        self.revoked_at
            .map_or(self.expires_at, |r| r.min(self.expires_at))
    }

    /// The instants after which the exception's state can change.
    pub fn boundaries(&self) -> impl Iterator<Item = Timestamp> {
        [Some(self.starts_at), Some(self.expires_at), self.revoked_at]
            .into_iter()
            .flatten()
    }

    /// Whether the exception touches a feature or metric at all.
    pub fn concerns(&self, feature: &FeatureId) -> bool {
        self.grants.features.contains(feature)
            || self.grants.quota_increments.contains_key(feature)
            || self.grants.grace_hours.contains_key(feature)
    }
}

/// Usage counted for a license in the current period of each quota.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// Counts per metric; a metric left out has used nothing.
    #[serde(default)]
    pub metrics: BTreeMap<FeatureId, MetricUsage>,
    /// Seats in use; a `seat` request counts those held by other clients.
    #[serde(default)]
    pub active_seats: u64,
}

impl Usage {
    /// The seats a tier must hold for `license`: those bought or those in
    /// use, whichever is more. `transition` refuses a tier that holds fewer,
    /// and plan advice never proposes one.
    pub fn seats_needed(&self, license: &License) -> u64 {
        license.seats.max(self.active_seats)
    }
}

/// One metric's count in its current period.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MetricUsage {
    /// Units consumed in the current period.
    pub used: u64,
    /// When a soft limit was first crossed in this period, which starts its grace.
    #[serde(default)]
    pub soft_exceeded_at: Option<Timestamp>,
    /// The start of the period these counts were recorded in, as a check's
    /// `record` gives it. When given and it is not the start of the current
    /// period, the counts belong to a past period and count as nothing: a
    /// meter store need not know when periods roll over.
    #[serde(default)]
    pub period_start: Option<Timestamp>,
    /// Earlier readings of the count, oldest first, for the portal's plot;
    /// each after the one before and none after `now`; drawn by `status` only.
    #[serde(default)]
    pub history: Vec<Reading>,
}

/// One earlier reading of a metric's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Reading {
    /// When the count was read.
    pub at: Timestamp,
    /// The count then.
    pub used: u64,
}
