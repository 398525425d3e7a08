//! Table-driven tests of `money`, each figure worked out by hand.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::str::FromStr;

use super::*;

fn cur(code: &str) -> Currency {
    Currency::from_code(code, &JsonPath::root()).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn round(amount: &str, code: &str) -> i64 {
    Money::round_half_up(dec(amount), cur(code), &JsonPath::root())
        .unwrap()
        .minor
}

#[test]
fn currencies_carry_their_minor_unit() {
    for (code, places) in [
        ("USD", 2),
        ("EUR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("TND", 3),
        ("CLF", 4),
    ] {
        assert_eq!(cur(code).minor_units(), places, "{code}");
        assert_eq!(cur(code).code(), code);
    }
}

#[test]
fn unknown_and_unusable_currencies_are_refused() {
    let path = JsonPath::root().key("currency");
    for code in ["usd", "US", "USDX", "ABC", "", "XAU", "XDR", "XTS", "XXX"] {
        let error = Currency::from_code(code, &path).unwrap_err();
        assert_eq!(error.code(), "unknown_currency", "{code}");
        assert_eq!(error.path().as_str(), "$.currency");
    }
}

#[test]
fn currency_reads_and_writes_its_code() {
    let c: Currency = serde_json::from_str(r#""BHD""#).unwrap();
    assert_eq!(c.minor_units(), 3);
    assert_eq!(serde_json::to_string(&c).unwrap(), r#""BHD""#);
    let e = serde_json::from_str::<Currency>(r#""ZZZ""#).unwrap_err();
    assert!(
        e.to_string().contains("\u{1f}unknown_currency\u{1f}ZZZ"),
        "{e}"
    );
    assert!(serde_json::from_str::<Currency>("840").is_err());
}

#[test]
fn half_up_rounding_in_usd() {
    // Two decimals: the third decimal decides, 5 and above goes away from zero.
    assert_eq!(round("0.125", "USD"), 13); // 12.5 cents -> 13
    assert_eq!(round("-0.125", "USD"), -13); // away from zero, not towards +inf
    assert_eq!(round("0.124999", "USD"), 12); // below the half -> down
    assert_eq!(round("0.115", "USD"), 12); // half-up, not half-even (which gives 12 too)
    assert_eq!(round("0.105", "USD"), 11); // half-even would give 10: proves half-up
    assert_eq!(round("-0.105", "USD"), -11);
    assert_eq!(round("0.004", "USD"), 0);
    assert_eq!(round("0.005", "USD"), 1); // the smallest amount that rounds to a cent
    assert_eq!(round("-0.001", "USD"), 0); // rounds to zero, never "-0"
    assert_eq!(round("49", "USD"), 4900); // a whole amount gains its two zeros
    assert_eq!(round("49.00", "USD"), 4900);
}

#[test]
fn half_up_rounding_in_jpy() {
    // No decimals: the first decimal decides.
    assert_eq!(round("0.5", "JPY"), 1);
    assert_eq!(round("2.5", "JPY"), 3); // half-even would give 2
    assert_eq!(round("-2.5", "JPY"), -3);
    assert_eq!(round("2.4999", "JPY"), 2);
    assert_eq!(round("4900", "JPY"), 4900);
}

#[test]
fn half_up_rounding_in_bhd() {
    // Three decimals (fils): the fourth decimal decides.
    assert_eq!(round("0.0005", "BHD"), 1);
    assert_eq!(round("1.2345", "BHD"), 1235); // half-even would give 1234
    assert_eq!(round("-1.2345", "BHD"), -1235);
    assert_eq!(round("1.23449", "BHD"), 1234);
    assert_eq!(round("4.9", "BHD"), 4900);
}

#[test]
fn rounding_overflow_is_an_error() {
    // i64::MAX cents is 92233720368547758.07 dollars; one cent more does not fit.
    assert_eq!(round("92233720368547758.07", "USD"), i64::MAX);
    let e = Money::round_half_up(dec("92233720368547758.08"), cur("USD"), &JsonPath::root())
        .unwrap_err();
    assert_eq!(e.code(), "overflow");
    // Rounding itself can carry over the limit: .065 rounds up to .07, .075 to .08.
    assert_eq!(round("92233720368547758.065", "USD"), i64::MAX);
    assert!(
        Money::round_half_up(dec("92233720368547758.075"), cur("USD"), &JsonPath::root()).is_err()
    );
    assert_eq!(round("-92233720368547758.08", "USD"), i64::MIN);
    let huge = Decimal::MAX;
    assert_eq!(
        Money::round_half_up(huge, cur("JPY"), &JsonPath::root())
            .unwrap_err()
            .code(),
        "overflow"
    );
}

#[test]
fn money_serializes_with_its_exact_amount() {
    let json = |minor: i64, code: &str| {
        serde_json::to_string(&Money::from_minor(minor, cur(code))).unwrap()
    };
    assert_eq!(
        json(4900, "USD"),
        r#"{"currency":"USD","minor":4900,"amount":"49.00"}"#
    );
    assert_eq!(
        json(5, "USD"),
        r#"{"currency":"USD","minor":5,"amount":"0.05"}"#
    );
    assert_eq!(
        json(-13, "USD"),
        r#"{"currency":"USD","minor":-13,"amount":"-0.13"}"#
    );
    assert_eq!(
        json(0, "USD"),
        r#"{"currency":"USD","minor":0,"amount":"0.00"}"#
    );
    assert_eq!(
        json(4900, "JPY"),
        r#"{"currency":"JPY","minor":4900,"amount":"4900"}"#
    );
    assert_eq!(
        json(4900, "BHD"),
        r#"{"currency":"BHD","minor":4900,"amount":"4.900"}"#
    );
    assert_eq!(
        json(1, "CLF"),
        r#"{"currency":"CLF","minor":1,"amount":"0.0001"}"#
    );
    assert_eq!(
        json(i64::MIN, "USD"),
        r#"{"currency":"USD","minor":-9223372036854775808,"amount":"-92233720368547758.08"}"#
    );
}

#[test]
fn money_reads_back_and_checks_its_amount() {
    let m: Money =
        serde_json::from_str(r#"{"currency":"USD","minor":4900,"amount":"49.00"}"#).unwrap();
    assert_eq!(m, Money::from_minor(4900, cur("USD")));
    let m: Money = serde_json::from_str(r#"{"currency":"JPY","minor":7}"#).unwrap();
    assert_eq!(m.amount(), dec("7"));
    assert!(
        serde_json::from_str::<Money>(r#"{"currency":"USD","minor":4900,"amount":"49.0"}"#)
            .is_err()
    );
    assert!(serde_json::from_str::<Money>(r#"{"currency":"USD","minor":4900,"x":1}"#).is_err());
}

#[test]
fn arithmetic_is_checked() {
    let usd = cur("USD");
    let p = JsonPath::root().key("total");
    let a = Money::from_minor(i64::MAX, usd);
    let one = Money::from_minor(1, usd);
    assert_eq!(a.checked_add(one, &p).unwrap_err().code(), "overflow");
    assert_eq!(
        a.checked_add(one, &p).unwrap_err().path().as_str(),
        "$.total"
    );
    assert_eq!(
        Money::from_minor(i64::MIN, usd)
            .checked_sub(one, &p)
            .unwrap_err()
            .code(),
        "overflow"
    );
    assert_eq!(
        Money::from_minor(i64::MIN, usd)
            .checked_neg(&p)
            .unwrap_err()
            .code(),
        "overflow"
    );
    assert_eq!(a.checked_mul(2, &p).unwrap_err().code(), "overflow");
    assert_eq!(one.checked_add(one, &p).unwrap().minor, 2);
    assert_eq!(one.checked_sub(one, &p).unwrap().minor, 0);
    assert_eq!(
        Money::from_minor(250, usd)
            .checked_mul(3, &p)
            .unwrap()
            .minor,
        750
    );
    let yen = Money::from_minor(1, cur("JPY"));
    let e = one.checked_add(yen, &p).unwrap_err();
    assert_eq!(e.code(), "currency_mismatch");
    let total = Money::sum([one, one, Money::from_minor(98, usd)], usd, &p).unwrap();
    assert_eq!(total.to_string(), "1.00 USD");
    assert_eq!(Money::sum([], usd, &p).unwrap().minor, 0);
    assert_eq!(
        Money::sum([yen], usd, &p).unwrap_err().code(),
        "currency_mismatch"
    );
}

#[test]
fn prices_read_from_plain_decimal_strings_only() {
    let p = JsonPath::root().key("price");
    for (text, value) in [
        ("0.0015", "0.0015"),
        ("5.00", "5.00"),
        ("0", "0"),
        ("-0", "0"),
        ("007.5", "7.5"),
    ] {
        let price = Price::parse(text, &p).unwrap();
        assert_eq!(price.to_string(), value, "{text}");
    }
    for text in [
        "",
        "-",
        ".5",
        "5.",
        "+1",
        "1e3",
        "1_000",
        " 1",
        "1 ",
        "0x10",
        "1.2.3",
        "NaN",
        "inf",
        "--1",
        "0.00000000000000000000000000001",
        "79228162514264337593543950336",
    ] {
        let e = Price::parse(text, &p).unwrap_err();
        assert_eq!(
            (e.code().as_str(), e.path().as_str()),
            ("invalid_decimal", "$.price"),
            "{text:?}"
        );
    }
    assert_eq!(Price::parse("-0.01", &p).unwrap_err().code(), "negative");
    assert_eq!(Price::new(dec("-1")), None);
    assert_eq!(Price::new(dec("1.5")).unwrap().value(), dec("1.5"));
}

#[test]
fn prices_refuse_json_numbers() {
    for text in ["0.5", "5", "-1", "1e2", "true", "null", "[]"] {
        let e = serde_json::from_str::<Price>(text).unwrap_err().to_string();
        assert!(
            e.contains("expected a price as a decimal string"),
            "{text}: {e}"
        );
    }
    let e = serde_json::from_str::<Price>(r#""-1.5""#)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\u{1f}out_of_range\u{1f}price must not be negative, got `-1.5`"),
        "{e}"
    );
    let e = serde_json::from_str::<Price>(r#""1,5""#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("\u{1f}invalid_decimal\u{1f}1,5"), "{e}");
    let p: Price = serde_json::from_str(r#""0.0015""#).unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), r#""0.0015""#);
}

#[test]
fn exact_arithmetic_refuses_what_it_would_round() {
    assert_eq!(exact_mul(dec("3"), dec("0.0015")), Some(dec("0.0045")));
    // 18446744073709551615 × 0.1234567890123 has 33 significant digits:
    // the decimal type would round it; exact_mul refuses.
    assert_eq!(
        exact_mul(Decimal::from(u64::MAX), dec("0.1234567890123")),
        None
    );
    assert_eq!(exact_mul(Decimal::MAX, dec("2")), None);
    assert_eq!(exact_add(dec("0.1"), dec("0.02")), Some(dec("0.12")));
    // 7922816251426433759354395033.5 + 0.25 needs 30 digits: refused, not rounded.
    assert_eq!(
        exact_add(dec("7922816251426433759354395033.5"), dec("0.25")),
        None
    );
    assert_eq!(exact_add(Decimal::MAX, dec("1")), None);
}

/// Zero of any scale beside a value of another scale: the sum is the other
/// value, written with the larger of the two scales.
#[test]
fn adding_zero_of_any_scale_is_exact() {
    for (a, b, sum) in [
        ("5", "0.00", "5.00"),
        ("0.00", "5", "5.00"),
        ("1", "0.0", "1.0"),
        ("0.50", "0.000", "0.500"),
        ("0.000", "0.50", "0.500"),
        ("0", "0.000", "0.000"),
        ("0.0000", "0", "0.0000"),
        ("0.000", "5", "5.000"),
    ] {
        let got = exact_add(dec(a), dec(b));
        assert_eq!(got, Some(dec(sum)), "{a} + {b}");
        assert_eq!(got.unwrap().to_string(), sum, "{a} + {b} keeps the scale");
    }
}

/// A product of zero, whatever the operands' scales, is zero with the sum of
/// their scales (at most 28).
#[test]
fn multiplying_by_zero_of_any_scale_is_exact() {
    for (a, b, product) in [
        ("3", "0.000", "0.000"),
        ("0.0", "3", "0.0"),
        ("0.00", "0.000", "0.00000"),
    ] {
        let got = exact_mul(dec(a), dec(b));
        assert_eq!(got.unwrap().to_string(), product, "{a} × {b}");
    }
}

/// Exact results the decimal type writes with fewer decimals than the
/// operands have (it sheds trailing zeros to make room) are still exact.
#[test]
fn exact_results_at_a_smaller_scale_are_kept() {
    // 7922816251426433759354395033.5 + 0.5 = 7922816251426433759354395034,
    // 28 digits: exact, though not at scale 1.
    assert_eq!(
        exact_add(dec("7922816251426433759354395033.5"), dec("0.5")),
        Some(dec("7922816251426433759354395034"))
    );
    // 1.00000000000000000000 × 1.0000000000 = 1, with 30 decimals written:
    // exact at 28.
    assert_eq!(
        exact_mul(dec("1.00000000000000000000"), dec("1.0000000000")),
        Some(dec("1"))
    );
    // 0.0000000000000000000000000005 × 0.2 = 0.0000000000000000000000000001.
    assert_eq!(
        exact_mul(dec("0.0000000000000000000000000005"), dec("0.2")),
        Some(dec("0.0000000000000000000000000001"))
    );
    // ... but a 29th decimal that is not zero is refused.
    assert_eq!(
        exact_mul(dec("0.0000000000000000000000000005"), dec("0.3")),
        None
    );
    // 2^95 + 2^95 = 2^96 needs 97 bits: refused.
    let half = Decimal::from_i128_with_scale(1_i128 << 95, 0);
    assert_eq!(exact_add(half, half), None);
    // Decimal::MAX plus a tenth needs 30 digits; a tenth of it is exact
    // (the same 29 digits, one after the point), three tenths are not.
    assert_eq!(exact_add(Decimal::MAX, dec("0.1")), None);
    assert_eq!(exact_add(dec("-0.1"), Decimal::MIN), None);
    assert_eq!(
        exact_mul(Decimal::MAX, dec("0.1")),
        Some(dec("7922816251426433759354395033.5"))
    );
    assert_eq!(exact_mul(Decimal::MAX, dec("0.3")), None);
    // Signs.
    assert_eq!(exact_add(dec("-1.5"), dec("0.25")), Some(dec("-1.25")));
    assert_eq!(exact_add(dec("1.5"), dec("-1.50")), Some(dec("0.00")));
    assert_eq!(exact_mul(dec("-1.5"), dec("0.2")), Some(dec("-0.30")));
    assert_eq!(exact_mul(dec("-1.5"), dec("-2")), Some(dec("3.0")));
}
