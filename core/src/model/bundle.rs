//! The bundle: the vendor's versioned policy of features, tiers, add-ons,
//! charge models, transitions and expiry rules, as typed documents.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::billing::charge::ChargeModel;
use crate::error::coded;
use crate::model::ids::{AddOnId, BundleId, CalendarId, ControlId, FeatureId, TierId};
use crate::model::money::{Currency, Price};
use crate::model::route::{FailureMode, Gateway, StoreFailure};
use crate::support::calendar::Calendar;

mod control;

/// The vendor's policy. Maps are keyed by id; ids are unique by construction
/// and duplicate keys are refused when the JSON is read.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// When the vendor issued this version; see `docs/signing.md`.
    #[serde(default)]
    pub issued_at: Option<crate::model::time::Timestamp>,
    /// How far a document's `issued_at` may be ahead of `now` before a check
    /// refuses it (a clock set back); 300 seconds when absent.
    #[serde(default)]
    pub clock_skew_seconds: Option<u32>,
    /// Routes of the vendor's API and failure handling, for gateways.
    #[serde(default)]
    pub gateway: Gateway,
    /// Business calendars, named, for SLA clocks, escalation phases and
    /// business-time requests; see `docs/calendars.md`.
    #[serde(default)]
    pub calendars: BTreeMap<CalendarId, Calendar>,
    /// Severities, SLA targets and the escalation matrix, for `escalate`;
    /// see `docs/escalation.md`.
    #[serde(default)]
    pub support: Option<crate::support::policy::Support>,
    /// Intake, risk weights, tracks and approvers for `exception`; see `docs/exceptions.md`.
    #[serde(default)]
    pub exception_policy: Option<crate::exceptions::policy::ExceptionPolicy>,
    /// Compliance scan detectors, for `scan`; see `docs/compliance.md`.
    #[serde(default)]
    pub compliance: Option<crate::compliance::policy::Compliance>,
}

/// Whether base and add-on prices are per month or per year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BillingPeriod {
    /// Billed monthly on the license's anchor day.
    Month,
    /// Billed yearly on the license's anchor date.
    Year,
}

/// A feature: on or off, or metered in a unit.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// What a gateway does when the module cannot decide a check of this
    /// feature: `closed` (the default) refuses, `open` allows.
    #[serde(default)]
    pub on_failure: FailureMode,
    /// What a gateway of a fleet does with a consuming check of this
    /// feature when the fleet's store cannot be reached: `deny` (the
    /// default), `lease_only` or `bounded_open` with `units`.
    #[serde(default)]
    pub on_store_failure: StoreFailure,
}

/// Boolean or metered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// On or off.
    Boolean,
    /// Counted against quotas and priced by a charge model.
    Metered,
}

/// The type of a governance control's value.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "ControlTypeJson")]
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
// Read by hand (`control.rs`) exactly as `#[serde(untagged)]` reads it; the
// documentation above is the schema's description, so this note is not in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// The support fee per billing period, billed as its own line.
    #[serde(default)]
    pub support_price: Option<Price>,
    /// Service credits by measured uptime, highest threshold first; see
    /// `docs/reasons.md` (quote).
    #[serde(default)]
    pub service_credits: Vec<crate::billing::credit::CreditBand>,
}

/// How much of a metric a tier allows per period and how the limit is enforced.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// At most this many units.
    Units(u64),
    /// The word `"unlimited"`.
    Unlimited,
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LimitVisitor;
        impl serde::de::Visitor<'_> for LimitVisitor {
            type Value = Limit;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number of units or \"unlimited\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Limit, E> {
                Ok(Limit::Units(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Limit, E> {
                match u64::try_from(v) {
                    Ok(units) => Ok(Limit::Units(units)),
                    Err(_) => Err(coded(
                        "out_of_range",
                        &format!("a limit must not be negative, got `{v}`"),
                    )),
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Limit, E> {
                if v == "unlimited" {
                    Ok(Limit::Unlimited)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
        }
        deserializer.deserialize_any(LimitVisitor)
    }
}

/// When a quota's count starts again from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[serde(try_from = "EnforcementJson")]
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
    /// A percentage of the limit, rounded down to whole units; a plain
    /// decimal string, read like a price.
    Percent(#[serde(deserialize_with = "plain_decimal")] Decimal),
    /// A number of units.
    Units(u64),
}

/// Reads a decimal as every decimal of a document is read: a string in
/// plain notation (no exponent, `_` or `+`), never negative.
fn plain_decimal<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    Price::deserialize(deserializer).map(|price| price.value())
}

/// An add-on: features and quota increments for the tiers it fits, at a price.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The current tier.
    pub from: TierId,
    /// The tier that may be moved to.
    pub to: TierId,
}

/// What a license keeps when its term ends, and for how long renewal is open.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExpiryPolicy {
    /// Days after the term's end during which everything still works, in
    /// grace; at most [`MAX_POLICY_DAYS`].
    #[serde(deserialize_with = "policy_days")]
    #[cfg_attr(feature = "schema", schemars(range(max = 36_500)))]
    pub renewal_grace_days: u32,
    /// Days before the term's end from which the license is
    /// `expiring_soon`; at most [`MAX_POLICY_DAYS`].
    #[serde(deserialize_with = "policy_days")]
    #[cfg_attr(feature = "schema", schemars(range(max = 36_500)))]
    pub expiring_soon_days: u32,
    /// What is left once renewal grace has passed.
    pub after_grace: AfterGrace,
}

/// The most days an expiry policy counts, 100 years: the instants it puts
/// around any term stay within the dates the engine computes with, and a
/// bundle that says more is refused where it says it.
pub const MAX_POLICY_DAYS: u32 = 36_500;

fn policy_days<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let days = u32::deserialize(deserializer)?;
    if days > MAX_POLICY_DAYS {
        return Err(coded(
            "out_of_range",
            &format!("at most {MAX_POLICY_DAYS} days (100 years), got `{days}`"),
        ));
    }
    Ok(days)
}

/// Access once the term and its renewal grace are over.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "AfterGraceJson")]
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

/// Reads a tagged object as one flat struct, so that a field the tag's
/// variant does not take is refused by name, with its path.
fn only(given: &[(&'static str, bool)], allowed: &[&str]) -> Result<(), String> {
    match given
        .iter()
        .find(|(field, here)| *here && !allowed.contains(field))
    {
        Some((field, _)) => Err(format!(
            "{m}unknown_field{m}{field}",
            m = crate::error::MARK
        )),
        None => Ok(()),
    }
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("missing field `{field}`"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlTypeJson {
    #[serde(rename = "type")]
    kind: ControlKind,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    choices: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ControlKind {
    Boolean,
    Integer,
    Choice,
}

impl TryFrom<ControlTypeJson> for ControlType {
    type Error = String;

    fn try_from(json: ControlTypeJson) -> Result<Self, String> {
        let given = [
            ("unit", json.unit.is_some()),
            ("choices", json.choices.is_some()),
        ];
        Ok(match json.kind {
            ControlKind::Boolean => {
                only(&given, &[])?;
                ControlType::Boolean
            }
            ControlKind::Integer => {
                only(&given, &["unit"])?;
                ControlType::Integer { unit: json.unit }
            }
            ControlKind::Choice => {
                only(&given, &["choices"])?;
                ControlType::Choice {
                    choices: required(json.choices, "choices")?,
                }
            }
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnforcementJson {
    mode: EnforcementMode,
    #[serde(default)]
    grace_allowance: Option<GraceAllowance>,
    #[serde(default)]
    grace_hours: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum EnforcementMode {
    Hard,
    Soft,
}

impl TryFrom<EnforcementJson> for Enforcement {
    type Error = String;

    fn try_from(json: EnforcementJson) -> Result<Self, String> {
        let given = [
            ("grace_allowance", json.grace_allowance.is_some()),
            ("grace_hours", json.grace_hours.is_some()),
        ];
        Ok(match json.mode {
            EnforcementMode::Hard => {
                only(&given, &[])?;
                Enforcement::Hard
            }
            EnforcementMode::Soft => Enforcement::Soft {
                grace_allowance: required(json.grace_allowance, "grace_allowance")?,
                grace_hours: required(json.grace_hours, "grace_hours")?,
            },
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AfterGraceJson {
    access: Access,
    #[serde(default)]
    features: Option<Vec<FeatureId>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Access {
    Revoke,
    Restrict,
    Keep,
}

impl TryFrom<AfterGraceJson> for AfterGrace {
    type Error = String;

    fn try_from(json: AfterGraceJson) -> Result<Self, String> {
        let given = [("features", json.features.is_some())];
        Ok(match json.access {
            Access::Revoke => {
                only(&given, &[])?;
                AfterGrace::Revoke
            }
            Access::Keep => {
                only(&given, &[])?;
                AfterGrace::Keep
            }
            Access::Restrict => AfterGrace::Restrict {
                features: required(json.features, "features")?,
            },
        })
    }
}
