//! Exact addition and multiplication over random values and scales, each
//! checked against the same sum or product worked out in plain `i128`
//! integers: both operands brought to a common scale by hand, then the
//! result's trailing zeros dropped only as far as the decimal type needs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use entitle_core::model::money::{exact_add, exact_mul};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// The largest mantissa the decimal type holds, `2^96 − 1`.
const MAX_MANTISSA: i128 = (1 << 96) - 1;

fn pow10(exponent: u32) -> i128 {
    (0..exponent).fold(1_i128, |power, _| power * 10)
}

/// The value `mantissa × 10^−scale` as the decimal type would hold it, with
/// as many of its `scale` decimals as fit: trailing zeros are dropped only
/// while there are more than 28 decimals or the mantissa needs more than 96
/// bits; `None` when a digit that is not zero would have to go.
fn expected(mantissa: i128, scale: u32) -> Option<(i128, u32)> {
    let (mut mantissa, mut scale) = (mantissa, scale);
    while scale > 28 || mantissa.abs() > MAX_MANTISSA {
        if scale == 0 || mantissa % 10 != 0 {
            return None;
        }
        mantissa /= 10;
        scale -= 1;
    }
    Some((mantissa, scale))
}

fn parts(value: Option<Decimal>) -> Option<(i128, u32)> {
    value.map(|d| (d.mantissa(), d.scale()))
}

/// `a + b` by hand: both at the larger scale, then added.
fn sum_by_hand((ma, sa): (i128, u32), (mb, sb): (i128, u32)) -> Option<(i128, u32)> {
    let scale = sa.max(sb);
    let total = ma * pow10(scale - sa) + mb * pow10(scale - sb);
    expected(total, scale)
}

/// `a × b` by hand: mantissas multiplied, scales added.
fn product_by_hand((ma, sa): (i128, u32), (mb, sb): (i128, u32)) -> Option<(i128, u32)> {
    expected(ma * mb, sa + sb)
}

fn decimal((mantissa, scale): (i128, u32)) -> Decimal {
    Decimal::from_i128_with_scale(mantissa, scale)
}

/// Any scale the decimal type allows.
fn scale() -> impl Strategy<Value = u32> {
    0_u32..=28
}

/// A value whose mantissa is below 10^9, at any scale; zero a quarter of
/// the time. Aligned to any other scale it stays below 10^37.
fn small() -> impl Strategy<Value = (i128, u32)> {
    prop_oneof![
        1 => scale().prop_map(|s| (0, s)),
        3 => (-999_999_999_i128..=999_999_999, scale()),
    ]
}

/// A mantissa anywhere in the decimal type's 96 bits, with a scale, and a
/// second scale at most 9 from the first: aligned, below 2^96 × 10^9.
fn wide_pair() -> impl Strategy<Value = ((i128, u32), (i128, u32))> {
    let mantissa = prop_oneof![
        Just(0_i128),
        Just(MAX_MANTISSA),
        Just(-MAX_MANTISSA),
        -MAX_MANTISSA..=MAX_MANTISSA,
        (-MAX_MANTISSA..=MAX_MANTISSA).prop_map(|m| m / 1000 * 1000),
    ];
    (
        mantissa.clone(),
        mantissa,
        scale(),
        0_u32..=9,
        any::<bool>(),
    )
        .prop_map(|(ma, mb, sa, gap, up)| {
            let sb = if up {
                (sa + gap).min(28)
            } else {
                sa.saturating_sub(gap)
            };
            ((ma, sa), (mb, sb))
        })
}

/// A value whose mantissa is below 10^18 (products stay below 10^36).
fn factor() -> impl Strategy<Value = (i128, u32)> {
    prop_oneof![
        1 => scale().prop_map(|s| (0, s)),
        1 => (-999_i128..=999, scale()),
        3 => (-999_999_999_999_999_999_i128..=999_999_999_999_999_999, scale()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn addition_of_small_values_at_any_scales(a in small(), b in small()) {
        let got = exact_add(decimal(a), decimal(b));
        prop_assert_eq!(parts(got), sum_by_hand(a, b), "{:?} + {:?}", a, b);
        prop_assert_eq!(got, exact_add(decimal(b), decimal(a)));
    }

    #[test]
    fn addition_of_wide_values(pair in wide_pair()) {
        let (a, b) = pair;
        let got = exact_add(decimal(a), decimal(b));
        prop_assert_eq!(parts(got), sum_by_hand(a, b), "{:?} + {:?}", a, b);
    }

    /// Zero of any scale beside any value is that value, with the larger scale
    /// when it fits.
    #[test]
    fn adding_zero_of_any_scale(a in small(), zero_scale in scale()) {
        let got = exact_add(decimal(a), decimal((0, zero_scale)));
        prop_assert_eq!(parts(got), sum_by_hand(a, (0, zero_scale)));
        prop_assert_eq!(got, Some(decimal(a)));
    }

    #[test]
    fn multiplication_at_any_scales(a in factor(), b in factor()) {
        let got = exact_mul(decimal(a), decimal(b));
        prop_assert_eq!(parts(got), product_by_hand(a, b), "{:?} × {:?}", a, b);
        prop_assert_eq!(got, exact_mul(decimal(b), decimal(a)));
    }

    /// A wide mantissa times a small one (the product stays below 2^127).
    #[test]
    fn multiplication_of_wide_values(
        a in (-MAX_MANTISSA..=MAX_MANTISSA, scale()),
        b in (-(1_i128 << 30)..=(1_i128 << 30), scale()),
    ) {
        let got = exact_mul(decimal(a), decimal(b));
        prop_assert_eq!(parts(got), product_by_hand(a, b), "{:?} × {:?}", a, b);
    }
}
