//! The bundle: the vendor's versioned policy of features, tiers, add-ons,
//! charge models, transitions and expiry rules, as typed documents.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::charge::ChargeModel;
use crate::ids::{AddOnId, BundleId, ControlId, FeatureId, TierId};
use crate::money::{Currency, Price};

/// The vendor's policy. Maps are keyed by id; ids are unique by construction
/// and duplicate keys are refused when the JSON is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// The bundle's id, stable across versions.
    pub bundle: BundleId,
    /// The version the vendor published; reported in every answer.
    pub version: String,
    /// The currency of every price in the bundle.
    pub currency: Currency,
    /// How often base and add-on prices are billed.
    pub billing_period: BillingPeriod,
    /// Every feature, boolean or metered.
    pub features: BTreeMap<FeatureId, Feature>,
    /// Governance controls the tiers set, with the type of their values.
    #[serde(default)]
    pub controls: BTreeMap<ControlId, ControlType>,
    /// The catalog of tiers.
    pub tiers: BTreeMap<TierId, Tier>,
    /// Add-ons that extend a tier.
    #[serde(default)]
    pub addons: BTreeMap<AddOnId, AddOn>,
    /// How overage of each metered feature is priced.
    #[serde(default)]
    pub charges: BTreeMap<FeatureId, ChargeModel>,
    /// The tier changes a license may make.
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// What happens when a license's term ends.
    pub expiry: ExpiryPolicy,
}

/// Whether base and add-on prices are per month or per year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingPeriod {
    /// Billed monthly on the license's anchor day.
    Month,
    /// Billed yearly on the license's anchor date.
    Year,
}

/// A feature: on or off, or metered in a unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    /// Whether the feature is a switch or counts units.
    pub kind: FeatureKind,
    /// The unit counted, for metered features (`call`, `GB`).
    #[serde(default)]
    pub unit: Option<String>,
    /// A name for people.
    #[serde(default)]
    pub title: Option<String>,
}

/// Boolean or metered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// On or off.
    Boolean,
    /// Counted against quotas and priced by a charge model.
    Metered,
}

/// The type of a governance control's value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "type", rename_all = "snake_case")]
pub enum ControlType {
    /// A switch, such as "SSO required".
    Boolean,
    /// A whole number, such as audit-log retention in days.
    Integer {
        /// What the number counts, for people.
        #[serde(default)]
        unit: Option<String>,
    },
    /// One of a declared set of values, such as a policy-enforcement mode.
    Choice {
        /// The allowed values.
        choices: Vec<String>,
    },
}

/// A value a tier gives a governance control.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ControlValue {
    /// For boolean controls.
    Boolean(bool),
    /// For integer controls.
    Integer(i64),
    /// For choice controls.
    Choice(String),
}

/// A tier of the catalog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Order of the catalog: a higher rank is a higher tier; ranks are unique.
    pub rank: u32,
    /// A name for people.
    #[serde(default)]
    pub title: Option<String>,
    /// Price per billing period.
    pub price: Price,
    /// Features the tier grants; metered features need a quota too.
    #[serde(default)]
    pub features: Vec<FeatureId>,
    /// Quotas per metered feature.
    #[serde(default)]
    pub quotas: BTreeMap<FeatureId, Quota>,
    /// Values of the bundle's governance controls.
    #[serde(default)]
    pub controls: BTreeMap<ControlId, ControlValue>,
    /// Most seats a license of this tier may hold, if bounded.
    #[serde(default)]
    pub max_seats: Option<u64>,
}

/// How much of a metric a tier allows per period and how the limit is enforced.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Units per period.
    pub limit: Limit,
    /// The period the count resets on.
    pub period: PeriodKind,
    /// Hard or soft enforcement.
    pub enforcement: Enforcement,
}

/// A number of units, or no limit at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Limit {
    /// At most this many units.
    Units(u64),
    /// The word `"unlimited"`.
    Unlimited(Unlimited),
}

/// The literal `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unlimited {
    /// No limit.
    Unlimited,
}

/// When a quota's count starts again from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// Every local day, at midnight in the license's zone.
    Day,
    /// Every month on the anchor day (clamped to the month's last day).
    Month,
    /// Every year on the anchor date (29 February clamps to the 28th).
    Year,
    /// Never: the whole term is one period.
    Term,
}

/// Hard stops at the limit; soft allows a grace allowance for a grace time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "mode", rename_all = "snake_case")]
pub enum Enforcement {
    /// Deny anything past the limit.
    Hard,
    /// Allow up to the grace allowance past the limit, for `grace_hours`
    /// from the moment the limit was first crossed.
    Soft {
        /// How far past the limit the grace reaches.
        grace_allowance: GraceAllowance,
        /// How long the grace lasts once the limit is first crossed.
        grace_hours: u32,
    },
}

/// Extra units a soft quota allows, as a share of the limit or a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum GraceAllowance {
    /// A percentage of the limit, rounded down to whole units.
    Percent(#[serde(with = "rust_decimal::serde::str")] Decimal),
    /// A number of units.
    Units(u64),
}

/// An add-on: features and quota increments for the tiers it fits, at a price.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddOn {
    /// A name for people.
    #[serde(default)]
    pub title: Option<String>,
    /// Price per billing period.
    pub price: Price,
    /// Tiers the add-on may be bought with.
    pub tiers: Vec<TierId>,
    /// Features it grants.
    #[serde(default)]
    pub features: Vec<FeatureId>,
    /// Units it adds to quotas of the tier.
    #[serde(default)]
    pub quota_increments: BTreeMap<FeatureId, u64>,
}

/// A declared move from one tier to another.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The current tier.
    pub from: TierId,
    /// The tier that may be moved to.
    pub to: TierId,
}

/// What a license keeps when its term ends, and for how long renewal is open.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryPolicy {
    /// Days after the term's end during which everything still works, in grace.
    pub renewal_grace_days: u32,
    /// Days before the term's end from which the license is `expiring_soon`.
    pub expiring_soon_days: u32,
    /// What is left once renewal grace has passed.
    pub after_grace: AfterGrace,
}

/// Access once the term and its renewal grace are over.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "access", rename_all = "snake_case")]
pub enum AfterGrace {
    /// Nothing is allowed.
    Revoke,
    /// Only the listed features stay on (their quotas still apply).
    Restrict {
        /// Features kept.
        features: Vec<FeatureId>,
    },
    /// Everything stays as it was.
    Keep,
}
