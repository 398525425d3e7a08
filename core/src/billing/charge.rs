//! Charge models that price metered overage — per unit, package, graduated
//! and volume — with Lago's semantics, so finance teams see the figures they know.
//!
//! A model is validated once (every problem at once, with JSON paths), then
//! priced: [`ChargeModel::price`] returns the exact, unrounded total with one
//! line per band or package group, and [`Charge::to_money`] rounds that total
//! half-up to the currency's minor unit, once per line item.
//!
//! Band bounds follow Lago's `from_value`/`to_value` conventions, both of
//! them. The first band starts at `0`, every band but the last has a
//! `to_value` greater than its `from_value`, and the last band is open
//! (`to_value: null`). A band's `to_value` is its last unit in both; where
//! the next band starts tells them apart:
//!
//! - *inclusive*: each next band starts at the previous band's `to_value + 1`.
//!   A first band `0..=100` prices units 1 to 100 and the next band `101..=200`
//!   units 101 to 200, as Lago's documentation tables show them ("first unit
//!   0, last unit 1,000; first unit 1,001, …").
//! - *adjacent*: each next band starts at the previous band's `to_value`, as
//!   Lago writes adjacent tiers. Bands `0–10, 10–20, 20–` price units 1 to
//!   10, 11 to 20, and 21 on: a band holds the units above its `from_value`.
//!
//! The second band's `from_value` sets the convention for the whole list;
//! a later band written the other way leaves a gap (`band_gap`) or an overlap
//! (`band_overlap`) in it. Both conventions give the same figures for the
//! same units per band. See `docs/charges.md`.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, JsonPath};
use crate::model::money::{exact_add, exact_mul, Currency, Money, Price};

/// How a metric's overage is priced, tagged by `"model"`.
///
/// ```json
/// {"model":"per_unit","unit_price":"0.002"}
/// {"model":"package","package_size":100,"package_price":"5.00","free_units":100}
/// {"model":"graduated","bands":[
///   {"from_value":0,"to_value":100,"per_unit_amount":"1.00","flat_amount":"0"},
///   {"from_value":101,"to_value":null,"per_unit_amount":"0.50"}]}
/// {"model":"volume","bands":[
///   {"from_value":0,"to_value":10000,"per_unit_amount":"0.0010","flat_amount":"10"},
///   {"from_value":10001,"to_value":null,"per_unit_amount":"0.0008","flat_amount":"10"}]}
/// ```
///
/// Prices are decimal strings in major units; unit counts are JSON integers.
/// Unknown fields, and fields of another model, are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", try_from = "ChargeModelJson")]
pub enum ChargeModel {
    /// Lago's *standard* model: every unit at one price, `units × unit_price`.
    PerUnit {
        /// Price of one unit.
        unit_price: Price,
    },
    /// Lago's *package* model: units are sold in groups of `package_size` at
    /// `package_price` each, after the first `free_units` are taken off. A
    /// started package is billed whole: with 100 free units and packages of
    /// 100, unit 201 starts (and pays for) the second package.
    Package {
        /// Units in one package; at least 1.
        package_size: u64,
        /// Price of one package, started or full.
        package_price: Price,
        /// Units given free before packages are counted; 0 when absent.
        free_units: u64,
    },
    /// Lago's *graduated* model: each unit is priced by the band it falls in,
    /// and each band entered (holding at least one unit) adds its flat fee once.
    Graduated {
        /// The bands, from the first unit up; see the module doc for bounds.
        bands: Vec<Band>,
    },
    /// Lago's *volume* model: the total falls in one band, and every unit is
    /// priced at that band's unit price, plus that band's flat fee once. Zero
    /// units cost nothing (no band is entered, so no flat fee). Crossing into a
    /// cheaper band can lower the total: volume pricing is not monotone.
    Volume {
        /// The bands, from the first unit up; see the module doc for bounds.
        bands: Vec<Band>,
    },
}

/// One band of a graduated or volume model, in Lago's field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Where the band starts: 0 for the first band (whose first priced unit
    /// is unit 1), else the previous band's `to_value + 1` (inclusive bands,
    /// this is the band's first unit) or its `to_value` (adjacent bands, the
    /// band's first unit is the next one); see the module doc.
    pub from_value: u64,
    /// Last unit of the band, inclusive in both conventions; `null` for the
    /// last band, which is open. Required even when `null`, so an open band
    /// is always deliberate.
    #[serde(deserialize_with = "required")]
    #[cfg_attr(
        feature = "schema",
        schemars(required, extend("type" = ["integer", "null"]))
    )]
    pub to_value: Option<u64>,
    /// Price of each unit in the band.
    pub per_unit_amount: Price,
    /// Fee charged once when the band holds at least one unit; 0 when absent.
    #[serde(default)]
    pub flat_amount: Price,
}

/// Reads an `Option` field that must be present (possibly `null`).
fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Option::<u64>::deserialize(deserializer)
}

/// The models' names, as the `"model"` tag spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ModelName {
    PerUnit,
    Package,
    Graduated,
    Volume,
}

/// The JSON form of a [`ChargeModel`], read as one flat object so that every
/// field's errors keep their JSON path; the model then takes only its fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChargeModelJson {
    model: ModelName,
    #[serde(default)]
    unit_price: Option<Price>,
    #[serde(default)]
    package_size: Option<u64>,
    #[serde(default)]
    package_price: Option<Price>,
    #[serde(default)]
    free_units: Option<u64>,
    #[serde(default)]
    bands: Option<Vec<Band>>,
}

/// Serde's own wording, so the JSON reader reports these like any other
/// missing or unknown field.
fn missing(field: &str) -> String {
    format!("missing field `{field}`")
}

impl TryFrom<ChargeModelJson> for ChargeModel {
    type Error = String;

    fn try_from(json: ChargeModelJson) -> Result<ChargeModel, String> {
        let allowed: &[&str] = match json.model {
            ModelName::PerUnit => &["unit_price"],
            ModelName::Package => &["package_size", "package_price", "free_units"],
            ModelName::Graduated | ModelName::Volume => &["bands"],
        };
        let present = [
            ("unit_price", json.unit_price.is_some()),
            ("package_size", json.package_size.is_some()),
            ("package_price", json.package_price.is_some()),
            ("free_units", json.free_units.is_some()),
            ("bands", json.bands.is_some()),
        ];
        if let Some((field, _)) = present
            .iter()
            .find(|(field, here)| *here && !allowed.contains(field))
        {
            // Refused by name, so the error's path ends at the field.
            return Err(format!(
                "{m}unknown_field{m}{field}",
                m = crate::error::MARK
            ));
        }
        Ok(match json.model {
            ModelName::PerUnit => ChargeModel::PerUnit {
                unit_price: json.unit_price.ok_or_else(|| missing("unit_price"))?,
            },
            ModelName::Package => ChargeModel::Package {
                package_size: json.package_size.ok_or_else(|| missing("package_size"))?,
                package_price: json.package_price.ok_or_else(|| missing("package_price"))?,
                free_units: json.free_units.unwrap_or(0),
            },
            ModelName::Graduated => ChargeModel::Graduated {
                bands: json.bands.ok_or_else(|| missing("bands"))?,
            },
            ModelName::Volume => ChargeModel::Volume {
                bands: json.bands.ok_or_else(|| missing("bands"))?,
            },
        })
    }
}

/// A priced quantity: the exact, unrounded total and the lines that explain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    /// The units priced.
    pub units: u64,
    /// Exact total in major units: the sum of the lines' amounts, not rounded.
    pub total: Decimal,
    /// What makes up the total, in band or package order; empty for zero units.
    pub lines: Vec<ChargeLine>,
}

/// One part of a [`Charge`], tagged by `"kind"`, with its exact amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChargeLine {
    /// Units at one price (the per-unit model).
    Units {
        /// Units on this line.
        units: u64,
        /// Price of each.
        unit_price: Decimal,
        /// `units × unit_price`, exact.
        amount: Decimal,
    },
    /// Units given free before packages are counted (the package model).
    FreeUnits {
        /// Units given free: the smaller of the usage and the allowance.
        units: u64,
        /// Always zero; present so every line has an amount.
        amount: Decimal,
    },
    /// Units billed in packages, the last one possibly started only.
    Packages {
        /// Units billed (usage less free units).
        units: u64,
        /// Packages billed: `units ÷ package_size`, rounded up.
        packages: u64,
        /// Units in one package.
        package_size: u64,
        /// Price of one package.
        package_price: Decimal,
        /// `packages × package_price`, exact.
        amount: Decimal,
    },
    /// Units priced in one band (graduated: the band's share; volume: all units).
    Band {
        /// Position of the band in the model's list, from 0.
        band: usize,
        /// The band's first unit, as declared.
        from_value: u64,
        /// The band's last unit, as declared; `null` for the open band.
        to_value: Option<u64>,
        /// Units priced at this band's price.
        units: u64,
        /// The band's price per unit.
        unit_price: Decimal,
        /// The band's flat fee, charged once since the band holds units.
        flat_fee: Decimal,
        /// `units × unit_price + flat_fee`, exact.
        amount: Decimal,
    },
}

impl ChargeLine {
    /// Units the line covers.
    pub fn units(&self) -> u64 {
        match self {
            ChargeLine::Units { units, .. }
            | ChargeLine::FreeUnits { units, .. }
            | ChargeLine::Packages { units, .. }
            | ChargeLine::Band { units, .. } => *units,
        }
    }

    /// The line's exact amount in major units.
    pub fn amount(&self) -> Decimal {
        match self {
            ChargeLine::Units { amount, .. }
            | ChargeLine::FreeUnits { amount, .. }
            | ChargeLine::Packages { amount, .. }
            | ChargeLine::Band { amount, .. } => *amount,
        }
    }
}

impl Charge {
    /// The charge as money: the exact total rounded half-up to `currency`'s
    /// minor unit, once, for the whole line item (bands are never rounded one
    /// by one, so no band's fraction of a cent is lost or doubled). `Overflow`
    /// at `path` when the amount does not fit in 64-bit minor units.
    pub fn to_money(&self, currency: Currency, path: &JsonPath) -> Result<Money, Error> {
        Money::round_half_up(self.total, currency, path)
    }
}

fn overflow(path: JsonPath, what: &str) -> Error {
    Error::Overflow {
        path,
        what: what.to_string(),
    }
}

fn band_bounds(path: JsonPath, detail: String) -> Error {
    Error::BandBounds { path, detail }
}

/// How a list of bands marks where each band after the first starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Convention {
    /// At the previous band's `to_value + 1`: `0–100, 101–200, 201–`.
    Inclusive,
    /// At the previous band's `to_value`: `0–10, 10–20, 20–`.
    Adjacent,
}

impl Convention {
    /// The convention of `bands`, set by where the second band starts:
    /// adjacent when at the first band's `to_value`, else inclusive.
    fn of(bands: &[Band]) -> Convention {
        let first_to = bands.first().and_then(|band| band.to_value);
        let second_from = bands.get(1).map(|band| band.from_value);
        if first_to.is_some_and(|to| to < u64::MAX) && first_to == second_from {
            Convention::Adjacent
        } else {
            Convention::Inclusive
        }
    }

    /// Where the band after one ending at `to` must start; `None` when no
    /// unit is left for it (`to` is the last countable unit).
    fn next_from(self, to: u64) -> Option<u64> {
        match self {
            Convention::Inclusive => to.checked_add(1),
            Convention::Adjacent => (to < u64::MAX).then_some(to),
        }
    }

    /// The first unit `band` prices: unit 1 for the first band, else its
    /// `from_value` (inclusive) or the unit after it (adjacent).
    fn first_unit(self, band: &Band) -> Option<u64> {
        match self {
            Convention::Inclusive => Some(band.from_value.max(1)),
            Convention::Adjacent => band.from_value.checked_add(1),
        }
    }
}

/// Every problem with a list of bands, by Lago's rules (see the module doc).
fn validate_bands(bands: &[Band], path: &JsonPath) -> Vec<Error> {
    let mut errors = Vec::new();
    let at = |index: usize, field: &str| path.key("bands").index(index).key(field);
    if bands.is_empty() {
        errors.push(band_bounds(
            path.key("bands"),
            String::from("at least one band is needed, the last one open (`to_value: null`)"),
        ));
        return errors;
    }
    let last = bands.len() - 1;
    let convention = Convention::of(bands);
    let mut previous: Option<&Band> = None;
    for (index, band) in bands.iter().enumerate() {
        let from = band.from_value;
        match previous {
            None if from != 0 => errors.push(band_bounds(
                at(index, "from_value"),
                format!("the first band must start at `0`, got `{from}`"),
            )),
            None => {}
            // Starting right after the band before is always in order, even
            // when that band's own bounds are wrong (reported on that band).
            Some(before)
                if before.to_value.and_then(|to| convention.next_from(to)) == Some(from) => {}
            Some(before) if from <= before.from_value => errors.push(band_bounds(
                at(index, "from_value"),
                format!(
                    "bands must be listed by ascending `from_value`: this one starts at `{from}`, \
                     the one before at `{}`",
                    before.from_value
                ),
            )),
            // The band before is open: reported on that band below.
            Some(Band { to_value: None, .. }) => {}
            Some(Band {
                to_value: Some(before_to),
                ..
            }) => {
                let before_to = *before_to;
                if convention
                    .next_from(before_to)
                    .is_some_and(|next| from > next)
                {
                    errors.push(Error::BandGap {
                        path: at(index, "from_value"),
                        previous_to: before_to.to_string(),
                        from: from.to_string(),
                    });
                } else {
                    errors.push(Error::BandOverlap {
                        path: at(index, "from_value"),
                        previous_to: before_to.to_string(),
                        from: from.to_string(),
                    });
                }
            }
        }
        match band.to_value {
            None if index < last => errors.push(band_bounds(
                at(index, "to_value"),
                String::from("only the last band may be open (`to_value: null`)"),
            )),
            Some(to) if index == last => errors.push(band_bounds(
                at(index, "to_value"),
                format!("the last band must be open (`to_value: null`), got `{to}`"),
            )),
            Some(to) if to <= from => errors.push(band_bounds(
                at(index, "to_value"),
                format!("`to_value` `{to}` must be greater than `from_value` `{from}`"),
            )),
            _ => {}
        }
        previous = Some(band);
    }
    errors
}

impl ChargeModel {
    /// Every problem with this model at once, each at its JSON path under
    /// `path`: a zero package size (`not_positive`); no bands, a first band
    /// not starting at 0, bands out of order, an open band before the last, a
    /// bounded last band, or a `to_value` not above its `from_value`
    /// (`band_bounds`); a band starting after the previous `to_value + 1`
    /// (`band_gap`) or at or before it (`band_overlap`). Negative prices never
    /// get here: they are refused when the document is read.
    pub fn validate(&self, path: &JsonPath) -> Vec<Error> {
        match self {
            ChargeModel::PerUnit { .. } => Vec::new(),
            ChargeModel::Package { package_size, .. } => {
                if *package_size == 0 {
                    vec![Error::NotPositive {
                        path: path.key("package_size"),
                        what: String::from("package size"),
                        value: String::from("0"),
                    }]
                } else {
                    Vec::new()
                }
            }
            ChargeModel::Graduated { bands } | ChargeModel::Volume { bands } => {
                validate_bands(bands, path)
            }
        }
    }

    /// Prices `units` exactly; see [`ChargeModel::price_at`], with errors
    /// reported under the path `$`.
    pub fn price(&self, units: u64) -> Result<Charge, Error> {
        self.price_at(units, &JsonPath::root())
    }

    /// Prices `units` exactly, with one line per band or package group. An
    /// invalid model is refused with its first [`ChargeModel::validate`]
    /// error; an amount too large to hold exactly is an `Overflow` naming the
    /// price field that made it so. Errors are reported under `path`, the
    /// model's place in its document.
    pub fn price_at(&self, units: u64, path: &JsonPath) -> Result<Charge, Error> {
        if let Some(error) = self.validate(path).into_iter().next() {
            return Err(error);
        }
        let (total, lines) = match self {
            ChargeModel::PerUnit { unit_price } => price_per_unit(units, *unit_price, path)?,
            ChargeModel::Package {
                package_size,
                package_price,
                free_units,
            } => price_package(units, *package_size, *package_price, *free_units, path)?,
            ChargeModel::Graduated { bands } => price_graduated(units, bands, path)?,
            ChargeModel::Volume { bands } => price_volume(units, bands, path)?,
        };
        Ok(Charge {
            units,
            total,
            lines,
        })
    }
}

type Priced = (Decimal, Vec<ChargeLine>);

fn price_per_unit(units: u64, unit_price: Price, path: &JsonPath) -> Result<Priced, Error> {
    if units == 0 {
        return Ok((Decimal::ZERO, Vec::new()));
    }
    let amount = exact_mul(Decimal::from(units), unit_price.value())
        .ok_or_else(|| overflow(path.key("unit_price"), "units × unit_price"))?;
    let line = ChargeLine::Units {
        units,
        unit_price: unit_price.value(),
        amount,
    };
    Ok((amount, vec![line]))
}

fn price_package(
    units: u64,
    package_size: u64,
    package_price: Price,
    free_units: u64,
    path: &JsonPath,
) -> Result<Priced, Error> {
    let mut lines = Vec::new();
    let free = units.min(free_units);
    if free > 0 {
        lines.push(ChargeLine::FreeUnits {
            units: free,
            amount: Decimal::ZERO,
        });
    }
    let billed = units - free;
    if billed == 0 || package_size == 0 {
        return Ok((Decimal::ZERO, lines));
    }
    // A started package is billed whole: round the division up.
    let packages = billed.div_ceil(package_size);
    let amount = exact_mul(Decimal::from(packages), package_price.value())
        .ok_or_else(|| overflow(path.key("package_price"), "packages × package_price"))?;
    lines.push(ChargeLine::Packages {
        units: billed,
        packages,
        package_size,
        package_price: package_price.value(),
        amount,
    });
    Ok((amount, lines))
}

/// One band's line: `units × per_unit_amount + flat_amount`, exact.
fn band_line(index: usize, band: &Band, units: u64, path: &JsonPath) -> Result<ChargeLine, Error> {
    let at = |field: &str| path.key("bands").index(index).key(field);
    let per_units = exact_mul(Decimal::from(units), band.per_unit_amount.value())
        .ok_or_else(|| overflow(at("per_unit_amount"), "units × per_unit_amount"))?;
    let amount = exact_add(per_units, band.flat_amount.value())
        .ok_or_else(|| overflow(at("flat_amount"), "a band's amount with its flat fee"))?;
    Ok(ChargeLine::Band {
        band: index,
        from_value: band.from_value,
        to_value: band.to_value,
        units,
        unit_price: band.per_unit_amount.value(),
        flat_fee: band.flat_amount.value(),
        amount,
    })
}

fn price_graduated(units: u64, bands: &[Band], path: &JsonPath) -> Result<Priced, Error> {
    let convention = Convention::of(bands);
    let mut total = Decimal::ZERO;
    let mut lines = Vec::new();
    for (index, band) in bands.iter().enumerate() {
        let Some(first) = convention.first_unit(band).filter(|first| *first <= units) else {
            break;
        };
        let last = band.to_value.map_or(units, |to| to.min(units));
        let Some(in_band) = last.checked_sub(first).and_then(|span| span.checked_add(1)) else {
            return Err(overflow(path.key("bands").index(index), "units in a band"));
        };
        let line = band_line(index, band, in_band, path)?;
        total = exact_add(total, line.amount())
            .ok_or_else(|| overflow(path.key("bands").index(index), "the sum of the bands"))?;
        lines.push(line);
    }
    Ok((total, lines))
}

fn price_volume(units: u64, bands: &[Band], path: &JsonPath) -> Result<Priced, Error> {
    if units == 0 {
        return Ok((Decimal::ZERO, Vec::new()));
    }
    let convention = Convention::of(bands);
    let found = bands.iter().enumerate().find(|(_, band)| {
        convention
            .first_unit(band)
            .is_some_and(|first| first <= units)
            && band.to_value.is_none_or(|to| units <= to)
    });
    let Some((index, band)) = found else {
        // Unreachable for a validated model, whose bands cover every unit.
        return Err(band_bounds(
            path.key("bands"),
            format!("no band holds `{units}` units"),
        ));
    };
    let line = band_line(index, band, units, path)?;
    Ok((line.amount(), vec![line]))
}

#[cfg(test)]
mod tests;
