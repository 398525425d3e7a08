//! Service credits: what a billing period's measured uptime earns back under
//! the tier's schedule ("below 99.9 percent, credit 10 percent"), taken off
//! the period's recurring charges (base, add-ons, support), never overage.

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::conflict::Conflict;
use crate::error::{coded, Error, JsonPath};
use crate::model::money::{exact_mul, Money, Price, PriceProblem};

/// A percentage from 0 to 100, written as a plain decimal string
/// (`"99.95"`): read like a price (no exponent, never negative) and never
/// above 100, so a value of this type is always a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Percent(Price);

impl Percent {
    /// The value, 0 to 100.
    pub fn value(self) -> Decimal {
        self.0.value()
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Percent, D::Error> {
        struct PercentVisitor;

        impl Visitor<'_> for PercentVisitor {
            type Value = Percent;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage from 0 to 100 as a decimal string, e.g. \"99.9\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Percent, E> {
                match Price::read(text) {
                    Ok(share) if share.value() <= Decimal::ONE_HUNDRED => Ok(Percent(share)),
                    Ok(_) => Err(coded(
                        "out_of_range",
                        &format!("a percentage is at most 100, got `{text}`"),
                    )),
                    Err(PriceProblem::Invalid) => Err(coded("invalid_decimal", text)),
                    Err(PriceProblem::Negative) => Err(coded(
                        "out_of_range",
                        &format!("a percentage is not negative, got `{text}`"),
                    )),
                }
            }
        }

        deserializer.deserialize_str(PercentVisitor)
    }
}

/// One band of a tier's schedule: uptime below `below` percent earns
/// `credit_percent` percent of the period's recurring charges back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreditBand {
    /// Uptime under this share (exclusive) falls in the band.
    pub below: Percent,
    /// The share of the recurring charges credited.
    pub credit_percent: Percent,
}

/// What a period's uptime earns: the band it falls in (none when it meets
/// every threshold or the tier has no schedule) and the credit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceCredit {
    /// The measured uptime of the period, as given.
    pub uptime: Percent,
    /// The band the uptime falls in: the one with the lowest threshold still
    /// above it.
    pub band: Option<CreditBand>,
    /// The recurring charges the credit is a share of: base, add-ons, support.
    pub basis: Money,
    /// The credit, rounded half-up once; zero without a band.
    pub credit: Money,
}

/// The credit `uptime` earns under `bands` on `basis`. The band is the one
/// with the lowest `below` that the uptime is still under, so the schedule's
/// order does not matter here (validation insists on it for readers).
pub fn credit(
    bands: &[CreditBand],
    uptime: Percent,
    basis: Money,
    path: &JsonPath,
) -> Result<ServiceCredit, Error> {
    let band = bands
        .iter()
        .filter(|b| uptime < b.below)
        .min_by_key(|b| b.below)
        .copied();
    let credit = match band {
        None => Money::zero(basis.currency),
        Some(b) => {
            // Percent to fraction by moving the decimal point, and an exact
            // product: the one rounding is the half-up to minor units below.
            let mut fraction = b.credit_percent.value();
            let share = fraction
                .set_scale(fraction.scale().saturating_add(2))
                .ok()
                .and_then(|()| exact_mul(basis.amount(), fraction))
                .ok_or_else(|| Error::Overflow {
                    path: path.clone(),
                    what: String::from("a service credit"),
                })?;
            Money::round_half_up(share, basis.currency, path)?
        }
    };
    Ok(ServiceCredit {
        uptime,
        band,
        basis,
        credit,
    })
}

/// Every problem of a tier's schedule at `path`: thresholds and credits above
/// zero (reading keeps them at most 100), thresholds strictly falling from
/// band to band, and credits never falling as uptime gets worse.
pub fn validate(bands: &[CreditBand], path: &JsonPath) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut before: Option<&CreditBand> = None;
    for (i, band) in bands.iter().enumerate() {
        let at = path.index(i);
        for (field, value) in [
            ("below", band.below),
            ("credit_percent", band.credit_percent),
        ] {
            if value.value().is_zero() {
                errors.push(Error::NotPositive {
                    path: at.key(field),
                    what: field.into(),
                    value: value.0.to_string(),
                });
            }
        }
        if let Some(prev) = before {
            if band.below >= prev.below {
                errors.push(Error::Contradiction {
                    path: at.key("below"),
                    code: Conflict::CreditBandOrder,
                    detail: format!(
                        "band {i} is below `{}`, not under the band before it (below `{}`)",
                        band.below.0, prev.below.0
                    ),
                });
            }
            if band.credit_percent < prev.credit_percent {
                errors.push(Error::Contradiction {
                    path: at.key("credit_percent"),
                    code: Conflict::CreditDecreases,
                    detail: format!(
                        "band {i} credits `{}` percent, less than the better uptime before it (`{}`)",
                        band.credit_percent.0, prev.credit_percent.0
                    ),
                });
            }
        }
        before = Some(band);
    }
    errors
}
