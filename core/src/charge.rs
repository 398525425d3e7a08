//! Charge models that price metered overage — per unit, package, graduated
//! and volume — with Lago's semantics, so finance teams see the figures they know.
//!
//! A model is validated once (every problem at once, with JSON paths), then
//! priced: [`ChargeModel::price`] returns the exact, unrounded total with one
//! line per band or package group, and [`Charge::to_money`] rounds that total
//! half-up to the currency's minor unit, once per line item.
//!
//! Band bounds follow Lago's `from_value`/`to_value` convention: bounds are
//! inclusive, the first band starts at `0`, each next band starts at the
//! previous band's `to_value + 1`, every band but the last has a `to_value`
//! greater than its `from_value`, and the last band is open (`to_value: null`).
//! A first band `0..=100` prices units 1 to 100 (100 units) and the next band
//! `101..=200` units 101 to 200; Lago's documentation tables show the same
//! bands as "first unit 0, last unit 1,000; first unit 1,001, …".

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, JsonPath};
use crate::money::{exact_add, exact_mul, Currency, Money, Price};

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
#[serde(deny_unknown_fields)]
pub struct Band {
    /// First unit of the band, inclusive: 0 for the first band (whose first
    /// priced unit is unit 1), else the previous band's `to_value + 1`.
    pub from_value: u64,
    /// Last unit of the band, inclusive; `null` for the last band, which is
    /// open. Required even when `null`, so an open band is always deliberate.
    #[serde(deserialize_with = "required")]
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
            return Err(format!("{m}unknown_field{m}{field}", m = crate::json::MARK));
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
            Some(before) if before.to_value.and_then(|to| to.checked_add(1)) == Some(from) => {}
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
                if before_to.checked_add(1).is_some_and(|next| from > next) {
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
    let mut total = Decimal::ZERO;
    let mut lines = Vec::new();
    for (index, band) in bands.iter().enumerate() {
        // `from_value` 0 stands for the first unit, unit 1.
        let first = band.from_value.max(1);
        if units < first {
            break;
        }
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
    let found = bands
        .iter()
        .enumerate()
        .find(|(_, band)| band.from_value <= units && band.to_value.is_none_or(|to| units <= to));
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
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use std::str::FromStr;

    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn price(text: &str) -> Price {
        Price::parse(text, &JsonPath::root()).unwrap()
    }

    fn band(from: u64, to: Option<u64>, unit: &str, flat: &str) -> Band {
        Band {
            from_value: from,
            to_value: to,
            per_unit_amount: price(unit),
            flat_amount: price(flat),
        }
    }

    fn usd() -> Currency {
        Currency::from_code("USD", &JsonPath::root()).unwrap()
    }

    /// Checks each `(units, expected exact total)` and that the lines add up.
    fn table(model: &ChargeModel, cases: &[(u64, &str)]) {
        for (units, expected) in cases {
            let charge = model.price(*units).unwrap();
            assert_eq!(charge.total, dec(expected), "{units} units of {model:?}");
            let sum: Decimal = charge.lines.iter().map(ChargeLine::amount).sum();
            assert_eq!(sum, charge.total, "lines of {units} units");
            assert_eq!(charge.units, *units);
        }
    }

    /// Lago's graduated documentation example: $1 a unit for the first 100
    /// units, $0.50 for the next 100, $0.10 for every unit after that.
    fn lago_graduated() -> ChargeModel {
        ChargeModel::Graduated {
            bands: vec![
                band(0, Some(100), "1", "0"),
                band(101, Some(200), "0.50", "0"),
                band(201, None, "0.10", "0"),
            ],
        }
    }

    /// Graduated with a flat fee on every band.
    fn graduated_with_fees() -> ChargeModel {
        ChargeModel::Graduated {
            bands: vec![
                band(0, Some(1000), "0.01", "5"),
                band(1001, Some(10000), "0.008", "10"),
                band(10001, None, "0.005", "20"),
            ],
        }
    }

    /// Lago's volume documentation example: four tiers, each with a $10 fee.
    fn lago_volume() -> ChargeModel {
        ChargeModel::Volume {
            bands: vec![
                band(0, Some(10_000), "0.0010", "10"),
                band(10_001, Some(50_000), "0.0008", "10"),
                band(50_001, Some(100_000), "0.0006", "10"),
                band(100_001, None, "0.0004", "10"),
            ],
        }
    }

    /// Lago's package documentation example: $5 per 100 units, first 100 free.
    fn lago_package() -> ChargeModel {
        ChargeModel::Package {
            package_size: 100,
            package_price: price("5"),
            free_units: 100,
        }
    }

    #[test]
    fn per_unit_edges() {
        let model = ChargeModel::PerUnit {
            unit_price: price("0.002"),
        };
        table(
            &model,
            &[
                (0, "0"),        // nothing used, nothing owed
                (1, "0.002"),    // 1 × 0.002
                (1000, "2"),     // 1000 × 0.002 = 2.000
                (1001, "2.002"), // 1001 × 0.002
            ],
        );
        assert!(model.price(0).unwrap().lines.is_empty());
    }

    #[test]
    fn lago_standard_example() {
        // Lago's standard-model page: $0.05 per API call, 1,000 calls -> $50.
        let model = ChargeModel::PerUnit {
            unit_price: price("0.05"),
        };
        table(&model, &[(1000, "50")]);
        assert_eq!(
            model
                .price(1000)
                .unwrap()
                .to_money(usd(), &JsonPath::root())
                .unwrap()
                .minor,
            5000
        );
    }

    #[test]
    fn package_edges_with_free_units() {
        table(
            &lago_package(),
            &[
                (0, "0"),    // nothing used
                (1, "0"),    // within the 100 free units
                (100, "0"),  // last free unit
                (101, "5"),  // 1 billed unit starts package 1: ceil(1/100) = 1 × 5
                (200, "5"),  // 100 billed units fill package 1 exactly
                (201, "10"), // Lago's page: 101 billed -> ceil(101/100) = 2 × 5 = $10
                (300, "10"), // 200 billed -> 2 packages
                (301, "15"), // 201 billed -> 3 packages
            ],
        );
        let lines = lago_package().price(201).unwrap().lines;
        assert_eq!(
            lines,
            vec![
                ChargeLine::FreeUnits {
                    units: 100,
                    amount: Decimal::ZERO
                },
                ChargeLine::Packages {
                    units: 101,
                    packages: 2,
                    package_size: 100,
                    package_price: dec("5"),
                    amount: dec("10"),
                },
            ]
        );
        // Fewer units than the allowance: the free line shows the units used.
        assert_eq!(
            lago_package().price(40).unwrap().lines,
            vec![ChargeLine::FreeUnits {
                units: 40,
                amount: Decimal::ZERO
            }]
        );
    }

    #[test]
    fn package_edges_without_free_units() {
        let model = ChargeModel::Package {
            package_size: 100,
            package_price: price("5.00"),
            free_units: 0,
        };
        table(
            &model,
            &[
                (0, "0"),       // no package started
                (1, "5.00"),    // first unit starts package 1
                (100, "5.00"),  // last unit of package 1
                (101, "10.00"), // first unit of package 2
            ],
        );
        let size_one = ChargeModel::Package {
            package_size: 1,
            package_price: price("0.25"),
            free_units: 0,
        };
        table(&size_one, &[(3, "0.75")]); // 3 packages of 1 × 0.25
    }

    #[test]
    fn graduated_edges_of_lagos_example() {
        table(
            &lago_graduated(),
            &[
                (0, "0"),       // no band entered
                (1, "1"),       // first unit: 1 × $1
                (100, "100"),   // last unit of band 0: 100 × $1
                (101, "100.5"), // first unit of band 1: 100 + 1 × 0.50
                (200, "150"),   // last unit of band 1: 100 + 100 × 0.50
                (201, "150.1"), // first unit of band 2: 150 + 1 × 0.10
                (250, "155"),   // 150 + 50 × 0.10
                (1000, "230"),  // 150 + 800 × 0.10
            ],
        );
    }

    #[test]
    fn graduated_flat_fees_are_charged_once_per_band_entered() {
        table(
            &graduated_with_fees(),
            &[
                (0, "0"),           // no band entered, so no fee either
                (1, "5.01"),        // 1 × 0.01 + fee 5
                (1000, "15"),       // 1000 × 0.01 + 5 = 15
                (1001, "25.008"),   // 15 + (1 × 0.008 + fee 10)
                (10000, "97"),      // 15 + (9000 × 0.008 + 10) = 15 + 82
                (10001, "117.005"), // 97 + (1 × 0.005 + fee 20)
                (15000, "142"),     // 97 + (5000 × 0.005 + 20) = 97 + 45
            ],
        );
        let charge = graduated_with_fees().price(1001).unwrap();
        assert_eq!(
            charge.lines,
            vec![
                ChargeLine::Band {
                    band: 0,
                    from_value: 0,
                    to_value: Some(1000),
                    units: 1000,
                    unit_price: dec("0.01"),
                    flat_fee: dec("5"),
                    amount: dec("15"),
                },
                ChargeLine::Band {
                    band: 1,
                    from_value: 1001,
                    to_value: Some(10000),
                    units: 1,
                    unit_price: dec("0.008"),
                    flat_fee: dec("10"),
                    amount: dec("10.008"),
                },
            ]
        );
    }

    #[test]
    fn graduated_single_open_band_is_per_unit() {
        let model = ChargeModel::Graduated {
            bands: vec![band(0, None, "0.003", "1")],
        };
        table(&model, &[(0, "0"), (1, "1.003"), (1000, "4")]); // 1000 × 0.003 + 1
    }

    #[test]
    fn volume_edges_of_lagos_example() {
        table(
            &lago_volume(),
            &[
                (0, "0"),             // no band entered: no fee
                (1, "10.001"),        // 1 × 0.0010 + 10
                (10_000, "20"),       // 10000 × 0.0010 + 10, last unit of tier 1
                (10_001, "18.0008"),  // all 10001 at tier 2: 8.0008 + 10
                (50_000, "50"),       // 50000 × 0.0008 + 10
                (50_001, "40.0006"),  // 50001 × 0.0006 + 10
                (65_000, "49"),       // Lago's page: 65000 × 0.0006 + 10 = $49
                (100_000, "70"),      // 100000 × 0.0006 + 10
                (100_001, "50.0004"), // 100001 × 0.0004 + 10
            ],
        );
        let charge = lago_volume().price(65_000).unwrap();
        assert_eq!(
            charge.lines,
            vec![ChargeLine::Band {
                band: 2,
                from_value: 50_001,
                to_value: Some(100_000),
                units: 65_000,
                unit_price: dec("0.0006"),
                flat_fee: dec("10"),
                amount: dec("49"),
            }]
        );
        assert!(lago_volume().price(0).unwrap().lines.is_empty());
    }

    #[test]
    fn volume_is_not_monotone_across_band_edges() {
        // The price of the 10,001st unit is negative: 20 -> 18.0008. Lago
        // bills volume this way; the engine reproduces it rather than smoothing it.
        let below = lago_volume().price(10_000).unwrap().total;
        let above = lago_volume().price(10_001).unwrap().total;
        assert!(above < below);
    }

    #[test]
    fn rounding_happens_once_per_line_item() {
        let money = |model: &ChargeModel, units: u64, code: &str| {
            let currency = Currency::from_code(code, &JsonPath::root()).unwrap();
            model
                .price(units)
                .unwrap()
                .to_money(currency, &JsonPath::root())
                .unwrap()
                .minor
        };
        // Two bands of half a cent each: rounded per band it would be 1 + 1 cents;
        // the exact total 0.010 is 1 cent.
        let halves = ChargeModel::Graduated {
            bands: vec![band(0, Some(1), "0.005", "0"), band(2, None, "0.005", "0")],
        };
        assert_eq!(halves.price(2).unwrap().lines.len(), 2);
        assert_eq!(money(&halves, 2, "USD"), 1);
        // 1 × 0.005 = half a cent -> rounds up to 1 cent.
        assert_eq!(money(&halves, 1, "USD"), 1);
        let per_unit = ChargeModel::PerUnit {
            unit_price: price("0.0015"),
        };
        assert_eq!(money(&per_unit, 3, "USD"), 0); // 0.0045 = 0.45 cent -> 0
        assert_eq!(money(&per_unit, 7, "USD"), 1); // 0.0105 = 1.05 cents -> 1
        assert_eq!(money(&per_unit, 1, "USD"), 0); // 0.15 cent -> 0
                                                   // Volume 10,001 units: 18.0008 in three currencies.
        assert_eq!(money(&lago_volume(), 10_001, "USD"), 1800); // 18.0008 -> 18.00
        assert_eq!(money(&lago_volume(), 10_001, "JPY"), 18); // -> 18
        assert_eq!(money(&lago_volume(), 10_001, "BHD"), 18001); // -> 18.001
                                                                 // Half-up edges: 0.125 USD -> 13 cents; 2.5 JPY -> 3 yen; 0.0005 BHD -> 1 fils.
        let one = |p: &str| ChargeModel::PerUnit {
            unit_price: price(p),
        };
        assert_eq!(money(&one("0.125"), 1, "USD"), 13);
        assert_eq!(money(&one("0.124"), 1, "USD"), 12);
        assert_eq!(money(&one("2.5"), 1, "JPY"), 3);
        assert_eq!(money(&one("2.49"), 1, "JPY"), 2);
        assert_eq!(money(&one("0.0005"), 1, "BHD"), 1);
        assert_eq!(money(&one("0.0004"), 1, "BHD"), 0);
    }

    #[test]
    fn huge_units_give_figures_or_overflow_never_a_panic() {
        let max = u64::MAX; // 18446744073709551615
        let root = JsonPath::root();
        // 18446744073709551615 × 0.002 = 36893488147419103.23 dollars: fits in cents.
        let cheap = ChargeModel::PerUnit {
            unit_price: price("0.002"),
        };
        let charge = cheap.price(max).unwrap();
        assert_eq!(charge.total, dec("36893488147419103.230"));
        assert_eq!(
            charge.to_money(usd(), &root).unwrap().minor,
            3_689_348_814_741_910_323
        );
        // At $1 a unit the exact total is fine, but 1.8e21 cents exceed i64.
        let dear = ChargeModel::PerUnit {
            unit_price: price("1"),
        };
        let charge = dear.price(max).unwrap();
        assert_eq!(charge.total, Decimal::from(max));
        assert_eq!(
            charge.to_money(usd(), &root).unwrap_err().code(),
            "overflow"
        );
        // At 1e10 a unit the exact total (1.8e29) exceeds the decimal range.
        let e = ChargeModel::PerUnit {
            unit_price: price("10000000000"),
        }
        .price(max)
        .unwrap_err();
        assert_eq!((e.code(), e.path().as_str()), ("overflow", "$.unit_price"));
        // Graduated: 150 + (max − 200) × 0.10 = 1844674407370955291.5 dollars.
        let charge = lago_graduated().price(max).unwrap();
        assert_eq!(charge.total, dec("1844674407370955291.5"));
        assert_eq!(charge.lines[2].units(), max - 200);
        assert_eq!(
            charge.to_money(usd(), &root).unwrap_err().code(),
            "overflow"
        );
        // Volume: max × 0.0004 + 10 = 7378697629483830.646 -> 7378697629483830.65.
        let charge = lago_volume().price(max).unwrap();
        assert_eq!(charge.total, dec("7378697629483830.6460"));
        assert_eq!(
            charge.to_money(usd(), &root).unwrap().minor,
            737_869_762_948_383_065
        );
        // Package: max packages of 1 at 1e11 overflows, named by its price field.
        let e = ChargeModel::Package {
            package_size: 1,
            package_price: price("100000000000"),
            free_units: 0,
        }
        .price_at(max, &root.key("charges").key("api_calls"))
        .unwrap_err();
        assert_eq!(
            (e.code(), e.path().as_str()),
            ("overflow", "$.charges.api_calls.package_price")
        );
        // Package with every unit free but one short.
        let almost_free = ChargeModel::Package {
            package_size: 1000,
            package_price: price("5"),
            free_units: max - 1,
        };
        table(&almost_free, &[(max - 1, "0"), (max, "5")]);
        // A graduated band whose flat fee overflows is named too.
        let e = ChargeModel::Graduated {
            bands: vec![band(0, None, "79228162514264337593543950335", "1")],
        }
        .price(1)
        .unwrap_err();
        assert_eq!(
            (e.code(), e.path().as_str()),
            ("overflow", "$.bands[0].flat_amount")
        );
    }

    fn problems(model: &ChargeModel) -> Vec<(&'static str, String)> {
        model
            .validate(&JsonPath::root().key("charges").key("api_calls"))
            .iter()
            .map(|e| (e.code(), e.path().as_str().to_string()))
            .collect()
    }

    fn at(path: &str) -> String {
        format!("$.charges.api_calls{path}")
    }

    #[test]
    fn valid_models_have_no_problems() {
        for model in [
            lago_graduated(),
            graduated_with_fees(),
            lago_volume(),
            lago_package(),
        ] {
            assert_eq!(problems(&model), vec![]);
        }
        let one_unit_first_band = ChargeModel::Graduated {
            bands: vec![band(0, Some(1), "1", "0"), band(2, None, "1", "0")],
        };
        assert_eq!(problems(&one_unit_first_band), vec![]);
    }

    #[test]
    fn zero_package_size_is_refused() {
        let model = ChargeModel::Package {
            package_size: 0,
            package_price: price("5"),
            free_units: 0,
        };
        assert_eq!(
            problems(&model),
            vec![("not_positive", at(".package_size"))]
        );
        assert_eq!(model.price(10).unwrap_err().code(), "not_positive");
    }

    #[test]
    fn band_problems_are_each_reported() {
        let graduated = |bands| ChargeModel::Graduated { bands };
        let volume = |bands| ChargeModel::Volume { bands };
        type Case = (Vec<Band>, Vec<(&'static str, String)>);
        let cases: Vec<Case> = vec![
            // no bands at all
            (vec![], vec![("band_bounds", at(".bands"))]),
            // the first band must start at 0
            (
                vec![band(1, Some(100), "1", "0"), band(101, None, "1", "0")],
                vec![("band_bounds", at(".bands[0].from_value"))],
            ),
            // a gap: 101 is priced by no band
            (
                vec![band(0, Some(100), "1", "0"), band(102, None, "1", "0")],
                vec![("band_gap", at(".bands[1].from_value"))],
            ),
            // an overlap: unit 100 would be in two bands
            (
                vec![band(0, Some(100), "1", "0"), band(100, None, "1", "0")],
                vec![("band_overlap", at(".bands[1].from_value"))],
            ),
            // an open band before the last
            (
                vec![band(0, None, "1", "0"), band(101, None, "1", "0")],
                vec![("band_bounds", at(".bands[0].to_value"))],
            ),
            // a bounded last band: units above 200 would have no price
            (
                vec![band(0, Some(100), "1", "0"), band(101, Some(200), "1", "0")],
                vec![("band_bounds", at(".bands[1].to_value"))],
            ),
            // to_value must be greater than from_value (Lago's rule)
            (
                vec![band(0, Some(0), "1", "0"), band(1, None, "1", "0")],
                vec![("band_bounds", at(".bands[0].to_value"))],
            ),
            (
                vec![
                    band(0, Some(100), "1", "0"),
                    band(101, Some(101), "1", "0"),
                    band(102, None, "1", "0"),
                ],
                vec![("band_bounds", at(".bands[1].to_value"))],
            ),
            // bands listed in the wrong order
            (
                vec![band(101, None, "1", "0"), band(0, Some(100), "1", "0")],
                vec![
                    ("band_bounds", at(".bands[0].from_value")),
                    ("band_bounds", at(".bands[0].to_value")),
                    ("band_bounds", at(".bands[1].from_value")),
                    ("band_bounds", at(".bands[1].to_value")),
                ],
            ),
            // nothing can follow a band ending at the last representable unit
            (
                vec![
                    band(0, Some(u64::MAX), "1", "0"),
                    band(u64::MAX, None, "1", "0"),
                ],
                vec![("band_overlap", at(".bands[1].from_value"))],
            ),
            // every problem at once
            (
                vec![
                    band(5, Some(100), "1", "0"),
                    band(150, Some(120), "1", "0"),
                    band(121, None, "1", "0"),
                    band(300, Some(400), "1", "0"),
                ],
                vec![
                    ("band_bounds", at(".bands[0].from_value")),
                    ("band_gap", at(".bands[1].from_value")),
                    ("band_bounds", at(".bands[1].to_value")),
                    ("band_bounds", at(".bands[2].to_value")),
                    ("band_bounds", at(".bands[3].to_value")),
                ],
            ),
        ];
        for (bands, expected) in cases {
            assert_eq!(
                problems(&graduated(bands.clone())),
                expected,
                "graduated {bands:?}"
            );
            assert_eq!(
                problems(&volume(bands.clone())),
                expected,
                "volume {bands:?}"
            );
            // An invalid model is never priced.
            let first = expected[0].0;
            assert_eq!(
                graduated(bands.clone()).price(50).unwrap_err().code(),
                first
            );
            assert_eq!(volume(bands).price(50).unwrap_err().code(), first);
        }
    }

    #[test]
    fn charges_serialize_with_exact_amounts_as_strings() {
        let charge = graduated_with_fees().price(1001).unwrap();
        assert_eq!(
            serde_json::to_string(&charge).unwrap(),
            concat!(
                r#"{"units":1001,"total":"25.008","lines":["#,
                r#"{"kind":"band","band":0,"from_value":0,"to_value":1000,"units":1000,"#,
                r#""unit_price":"0.01","flat_fee":"5","amount":"15.00"},"#,
                r#"{"kind":"band","band":1,"from_value":1001,"to_value":10000,"units":1,"#,
                r#""unit_price":"0.008","flat_fee":"10","amount":"10.008"}]}"#
            )
        );
        let charge = lago_package().price(201).unwrap();
        assert_eq!(
            serde_json::to_string(&charge).unwrap(),
            concat!(
                r#"{"units":201,"total":"10","lines":[{"kind":"free_units","units":100,"amount":"0"},"#,
                r#"{"kind":"packages","units":101,"packages":2,"package_size":100,"package_price":"5","amount":"10"}]}"#
            )
        );
    }
}
