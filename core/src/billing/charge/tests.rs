//! Table-driven tests of `charge`, each figure worked out by hand.

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
    assert_eq!(
        (e.code().as_str(), e.path().as_str()),
        ("overflow", "$.unit_price")
    );
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
        (e.code().as_str(), e.path().as_str()),
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
        (e.code().as_str(), e.path().as_str()),
        ("overflow", "$.bands[0].flat_amount")
    );
}

fn problems(model: &ChargeModel) -> Vec<(&'static str, String)> {
    model
        .validate(&JsonPath::root().key("charges").key("api_calls"))
        .iter()
        .map(|e| (e.code().as_str(), e.path().as_str().to_string()))
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

mod bands;
