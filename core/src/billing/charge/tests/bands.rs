//! Band tests of `charge`: bounds and their problems, both of Lago's band
//! conventions, and flat fees of every scale, each figure worked out by hand.

use super::*;

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
        // an overlap: units 51 to 100 would be in two bands
        (
            vec![band(0, Some(100), "1", "0"), band(50, None, "1", "0")],
            vec![("band_overlap", at(".bands[1].from_value"))],
        ),
        // adjacent bands (band 1 starts at band 0's `to_value`): band 2 must
        // start at 20; at 21 unit 21 has no band, at 15 units 16 to 20 two
        (
            vec![
                band(0, Some(10), "1", "0"),
                band(10, Some(20), "1", "0"),
                band(21, None, "1", "0"),
            ],
            vec![("band_gap", at(".bands[2].from_value"))],
        ),
        (
            vec![
                band(0, Some(10), "1", "0"),
                band(10, Some(20), "1", "0"),
                band(15, None, "1", "0"),
            ],
            vec![("band_overlap", at(".bands[2].from_value"))],
        ),
        // inclusive bands (band 1 starts at band 0's `to_value + 1`): band 2
        // starting at band 1's `to_value` prices unit 20 twice
        (
            vec![
                band(0, Some(10), "1", "0"),
                band(11, Some(20), "1", "0"),
                band(20, None, "1", "0"),
            ],
            vec![("band_overlap", at(".bands[2].from_value"))],
        ),
        // adjacent bands leave no unit after the last countable one
        (
            vec![
                band(0, Some(10), "1", "0"),
                band(10, Some(u64::MAX), "1", "0"),
                band(u64::MAX, None, "1", "0"),
            ],
            vec![("band_overlap", at(".bands[2].from_value"))],
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

/// The same bands written adjacent, as Lago writes adjacent tiers: each band
/// after the first starts at the previous band's `to_value`.
fn adjacent(model: &ChargeModel) -> ChargeModel {
    let shift = |bands: &[Band]| {
        let mut shifted = bands.to_vec();
        for index in 1..shifted.len() {
            shifted[index].from_value = shifted[index - 1].to_value.unwrap();
        }
        shifted
    };
    match model {
        ChargeModel::Graduated { bands } => ChargeModel::Graduated {
            bands: shift(bands),
        },
        ChargeModel::Volume { bands } => ChargeModel::Volume {
            bands: shift(bands),
        },
        other => other.clone(),
    }
}

#[test]
fn adjacent_bands_price_as_inclusive_ones() {
    // Lago's graduated example written 0–100, 100–200, 200–: band 1 holds
    // units 101 to 200, so every figure is the inclusive one.
    let graduated = adjacent(&lago_graduated());
    assert!(graduated.validate(&JsonPath::root()).is_empty());
    table(
        &graduated,
        &[
            (0, "0"),
            (1, "1"),
            (100, "100"),   // last unit of band 0
            (101, "100.5"), // band 1's first unit, the one after its from_value
            (200, "150"),
            (201, "150.1"),
            (1000, "230"),
        ],
    );
    let fees = adjacent(&graduated_with_fees());
    table(
        &fees,
        &[
            (0, "0"),
            (1000, "15"),
            (1001, "25.008"), // band 1 entered: its fee of 10 is charged
            (10000, "97"),
            (10001, "117.005"),
        ],
    );
    let lines = fees.price(1001).unwrap().lines;
    assert_eq!(
        lines.iter().map(ChargeLine::units).collect::<Vec<_>>(),
        [1000, 1]
    );
    table(
        &adjacent(&lago_volume()),
        &[
            (0, "0"),
            (10_000, "20"),      // last unit of band 0
            (10_001, "18.0008"), // band 1
            (65_000, "49"),
            (100_001, "50.0004"),
        ],
    );
}

/// A zero flat fee adds nothing whatever its scale, beside unit prices of
/// fewer decimals, in either model.
#[test]
fn zero_flat_fees_of_every_scale_add_nothing() {
    for flat in ["0", "0.0", "0.00", "0.000", "0.0000000000"] {
        for (unit, units, expected) in [("1", 5, "5"), ("0.10", 20, "2"), ("0", 3, "0")] {
            let bands = vec![band(0, None, unit, flat)];
            for model in [
                ChargeModel::Graduated {
                    bands: bands.clone(),
                },
                ChargeModel::Volume { bands },
            ] {
                let charge = model.price(units).unwrap();
                assert_eq!(charge.total, dec(expected), "{units} × {unit} + {flat}");
                let scale = dec(unit).scale().max(dec(flat).scale());
                assert_eq!(charge.total.scale(), scale, "{unit} + {flat}");
            }
        }
    }
    // 5 × 0.000 + 5: the fee alone, with the price's decimals.
    let free = ChargeModel::Graduated {
        bands: vec![band(0, Some(10), "0.000", "5"), band(11, None, "1", "0")],
    };
    assert_eq!(free.price(5).unwrap().total.to_string(), "5.000");
}
