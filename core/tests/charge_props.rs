//! Properties of the charge models over random valid models and usages,
//! each checked against a figure computed independently of the engine.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use entitle_core::billing::charge::{Band, ChargeLine, ChargeModel};
use entitle_core::error::JsonPath;
use entitle_core::model::money::{Currency, Price};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// A price with up to 5 decimals, as Lago allows, below 1000.
fn price() -> impl Strategy<Value = Price> {
    (0_i64..100_000_000, 0_u32..=5).prop_map(|(mantissa, scale)| {
        Price::new(Decimal::new(mantissa % 10_i64.pow(3 + scale), scale)).unwrap()
    })
}

/// A flat fee: zero half of the time, written with 0 to 6 decimals (`"0"`,
/// `"0.00"`, `"0.000000"`), else up to 1000 with 0 to 5 decimals.
fn flat() -> impl Strategy<Value = Price> {
    prop_oneof![
        (0_u32..=6).prop_map(|scale| Price::new(Decimal::new(0, scale)).unwrap()),
        (0_i64..100_000, 0_u32..=5).prop_map(|(c, scale)| {
            Price::new(Decimal::new(c % 10_i64.pow(3 + scale), scale)).unwrap()
        })
    ]
}

/// Valid bands by Lago's rules, in either of Lago's conventions: from 0,
/// each bounded band at least one unit wide (`to > from`), the last open,
/// each next band starting at the previous `to_value + 1` (inclusive) or at
/// the previous `to_value` (adjacent).
fn bands() -> impl Strategy<Value = Vec<Band>> {
    (
        prop::collection::vec((1_u64..2_000, price(), flat()), 1..6),
        any::<bool>(),
    )
        .prop_map(|(spec, adjacent)| {
            let count = spec.len();
            let mut from = 0;
            let mut bands = Vec::new();
            for (index, (width, per_unit_amount, flat_amount)) in spec.into_iter().enumerate() {
                let to_value = (index + 1 < count).then(|| from + width);
                bands.push(Band {
                    from_value: from,
                    to_value,
                    per_unit_amount,
                    flat_amount,
                });
                from = to_value.map_or(0, |to| if adjacent { to } else { to + 1 });
            }
            bands
        })
}

/// The units each band holds, by its neighbours' `to_value` alone (so
/// whatever the convention): the first unit after the previous band's
/// `to_value` (unit 1 for the first band), up to its own `to_value`.
fn edges(bands: &[Band]) -> Vec<(u64, Option<u64>)> {
    let mut previous_to = 0;
    bands
        .iter()
        .map(|band| {
            let edge = (previous_to + 1, band.to_value);
            previous_to = band.to_value.unwrap_or(u64::MAX);
            edge
        })
        .collect()
}

fn model() -> impl Strategy<Value = ChargeModel> {
    prop_oneof![
        price().prop_map(|unit_price| ChargeModel::PerUnit { unit_price }),
        (1_u64..500, price(), 0_u64..500).prop_map(|(package_size, package_price, free_units)| {
            ChargeModel::Package {
                package_size,
                package_price,
                free_units,
            }
        }),
        bands().prop_map(|bands| ChargeModel::Graduated { bands }),
        bands().prop_map(|bands| ChargeModel::Volume { bands }),
    ]
}

fn total(model: &ChargeModel, units: u64) -> Decimal {
    model.price(units).unwrap().total
}

/// The graduated figure computed another way: a band holds the units above
/// the previous band's end and up to its own, `min(u, to) − min(u, previous to)`.
fn graduated_by_hand(bands: &[Band], units: u64) -> Decimal {
    let mut sum = Decimal::ZERO;
    let mut previous_to = 0;
    for band in bands {
        let upper = band.to_value.unwrap_or(u64::MAX).min(units);
        let held = upper.saturating_sub(previous_to.min(units));
        if held > 0 {
            sum += Decimal::from(held) * band.per_unit_amount.value() + band.flat_amount.value();
        }
        previous_to = band.to_value.unwrap_or(u64::MAX);
    }
    sum
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_models_are_valid(model in model()) {
        prop_assert!(model.validate(&JsonPath::root()).is_empty(), "{:?}", model);
    }

    /// More units never cost less, for every model but volume (whose price can
    /// drop when the total reaches a cheaper band; see the next property).
    #[test]
    fn price_is_monotone_in_units(model in model(), units in 0_u64..20_000, more in 0_u64..5_000) {
        if !matches!(model, ChargeModel::Volume { .. }) {
            prop_assert!(total(&model, units) <= total(&model, units + more));
        }
    }

    /// Within one volume band, more units never cost less.
    #[test]
    fn volume_is_monotone_within_a_band(bands in bands(), pick in any::<prop::sample::Index>(), a in any::<u64>(), b in any::<u64>()) {
        let (first, to) = edges(&bands)[pick.index(bands.len())];
        let last = to.unwrap_or(first + 100_000);
        let span = last - first + 1;
        let (low, high) = (first + a % span, first + b % span);
        let (low, high) = (low.min(high), low.max(high));
        let model = ChargeModel::Volume { bands: bands.clone() };
        prop_assert!(total(&model, low) <= total(&model, high));
    }

    #[test]
    fn graduated_equals_the_sum_over_bands(bands in bands(), units in 0_u64..20_000) {
        let model = ChargeModel::Graduated { bands: bands.clone() };
        let charge = model.price(units).unwrap();
        prop_assert_eq!(charge.total, graduated_by_hand(&bands, units));
        let held: u64 = charge.lines.iter().map(ChargeLine::units).sum();
        prop_assert_eq!(held, units);
    }

    /// At a band's first unit the volume price is that many units at the
    /// band's price plus its flat fee (the first band's first unit is unit 1).
    #[test]
    fn volume_at_a_lower_edge(bands in bands(), pick in any::<prop::sample::Index>()) {
        let index = pick.index(bands.len());
        let band = &bands[index];
        let (units, _) = edges(&bands)[index];
        let expected = Decimal::from(units) * band.per_unit_amount.value() + band.flat_amount.value();
        prop_assert_eq!(total(&ChargeModel::Volume { bands: bands.clone() }, units), expected);
    }

    #[test]
    fn package_counts_started_packages(size in 1_u64..500, free in 0_u64..500, units in 0_u64..20_000, each in price()) {
        let model = ChargeModel::Package { package_size: size, package_price: each, free_units: free };
        let billed = units.saturating_sub(free);
        let packages = billed.div_ceil(size);
        prop_assert_eq!(total(&model, units), Decimal::from(packages) * each.value());
    }

    /// Every band line's amount is exact, with the larger of the unit price's
    /// and the flat fee's scales, zero fees of any scale included: worked out
    /// in integers, `units × price + flat` at that common scale.
    #[test]
    fn band_amounts_are_exact_in_integers(bands in bands(), units in 0_u64..20_000, volume in any::<bool>()) {
        let model = if volume {
            ChargeModel::Volume { bands: bands.clone() }
        } else {
            ChargeModel::Graduated { bands: bands.clone() }
        };
        let charge = model.price(units).unwrap();
        let mut total = 0_i128;
        for line in &charge.lines {
            let ChargeLine::Band { band, units, amount, .. } = line else {
                panic!("not a band line: {line:?}");
            };
            let price = bands[*band].per_unit_amount.value();
            let flat = bands[*band].flat_amount.value();
            let scale = price.scale().max(flat.scale());
            let at = |d: Decimal| d.mantissa() * 10_i128.pow(scale - d.scale());
            let expected = i128::from(*units) * at(price) + at(flat);
            prop_assert_eq!((amount.mantissa(), amount.scale()), (expected, scale));
            total += expected * 10_i128.pow(6 - scale);
        }
        // Every scale here is at most 6: the total, at scale 6.
        let total_at_6 = charge.total.mantissa() * 10_i128.pow(6 - charge.total.scale());
        prop_assert_eq!(total_at_6, total);
    }

    /// Lines add up to the total, and the rounded amount is within half a
    /// minor unit of it, rounding a half away from zero.
    #[test]
    fn rounding_is_once_and_half_up(model in model(), units in 0_u64..20_000, code in prop::sample::select(vec!["USD", "JPY", "BHD", "CLF"])) {
        let currency = Currency::from_code(code, &JsonPath::root()).unwrap();
        let charge = model.price(units).unwrap();
        let lines: Decimal = charge.lines.iter().map(ChargeLine::amount).sum();
        prop_assert_eq!(lines, charge.total);
        let money = charge.to_money(currency, &JsonPath::root()).unwrap();
        let step = Decimal::new(1, currency.minor_units());
        let half = step / Decimal::from(2);
        let diff = money.amount() - charge.total;
        prop_assert!(diff <= half && diff > -half, "{} vs {}", money.amount(), charge.total);
    }

    /// Any unit count up to u64::MAX gives a figure or an overflow error.
    #[test]
    fn huge_units_never_panic(model in model(), units in any::<u64>()) {
        match model.price(units) {
            Ok(charge) => {
                let usd = Currency::from_code("USD", &JsonPath::root()).unwrap();
                if let Err(error) = charge.to_money(usd, &JsonPath::root()) {
                    prop_assert_eq!(error.code(), "overflow");
                }
            }
            Err(error) => prop_assert_eq!(error.code(), "overflow"),
        }
        let _ = model.price(u64::MAX - units % 3);
    }
}
