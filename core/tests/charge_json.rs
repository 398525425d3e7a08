//! Charge models and money as JSON: the documented shapes read and write back
//! unchanged, and every malformed field is refused with its code and path.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use entitle_core::billing::charge::ChargeModel;
use entitle_core::error::{Error, JsonPath};
use entitle_core::model::money::{Currency, Money, Price};
use entitle_core::reading::json::{parse, typed};

fn read<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    let root = JsonPath::root().key("charges").key("api_calls");
    let value = parse(text.as_bytes(), &root)?;
    typed::<T>(value, &root)
}

fn refused(text: &str) -> (&'static str, String) {
    let error = read::<ChargeModel>(text).unwrap_err();
    (error.code().as_str(), error.path().as_str().to_string())
}

fn at(path: &str) -> String {
    format!("$.charges.api_calls{path}")
}

#[test]
fn documented_shapes_read_and_write_back_unchanged() {
    for text in [
        r#"{"model":"per_unit","unit_price":"0.002"}"#,
        r#"{"model":"package","package_size":100,"package_price":"5.00","free_units":100}"#,
        concat!(
            r#"{"model":"graduated","bands":["#,
            r#"{"from_value":0,"to_value":100,"per_unit_amount":"1.00","flat_amount":"0"},"#,
            r#"{"from_value":101,"to_value":null,"per_unit_amount":"0.50","flat_amount":"2.50"}]}"#
        ),
        concat!(
            r#"{"model":"volume","bands":["#,
            r#"{"from_value":0,"to_value":10000,"per_unit_amount":"0.0010","flat_amount":"10"},"#,
            r#"{"from_value":10001,"to_value":null,"per_unit_amount":"0.0008","flat_amount":"10"}]}"#
        ),
    ] {
        let model: ChargeModel = read(text).unwrap();
        assert_eq!(serde_json::to_string(&model).unwrap(), text);
    }
}

#[test]
fn optional_fields_take_their_documented_defaults() {
    let model: ChargeModel =
        read(r#"{"model":"package","package_size":10,"package_price":"1"}"#).unwrap();
    assert_eq!(
        model,
        ChargeModel::Package {
            package_size: 10,
            package_price: Price::parse("1", &JsonPath::root()).unwrap(),
            free_units: 0,
        }
    );
    let model: ChargeModel = read(
        r#"{"model":"graduated","bands":[{"from_value":0,"to_value":null,"per_unit_amount":"1"}]}"#,
    )
    .unwrap();
    let ChargeModel::Graduated { bands } = model else {
        panic!("graduated expected")
    };
    assert_eq!(bands[0].flat_amount, Price::ZERO);
}

#[test]
fn prices_must_be_decimal_strings() {
    assert_eq!(
        refused(r#"{"model":"per_unit","unit_price":0.002}"#),
        ("wrong_type", at(".unit_price"))
    );
    assert_eq!(
        refused(r#"{"model":"per_unit","unit_price":2}"#),
        ("wrong_type", at(".unit_price"))
    );
    assert_eq!(
        refused(r#"{"model":"per_unit","unit_price":"2e-3"}"#),
        ("invalid_decimal", at(".unit_price"))
    );
    assert_eq!(
        refused(r#"{"model":"per_unit","unit_price":"-0.002"}"#),
        ("out_of_range", at(".unit_price"))
    );
    let banded = r#"{"model":"volume","bands":[
        {"from_value":0,"to_value":10,"per_unit_amount":"1"},
        {"from_value":11,"to_value":null,"per_unit_amount":"1","flat_amount":"ten"}]}"#;
    assert_eq!(
        refused(banded),
        ("invalid_decimal", at(".bands[1].flat_amount"))
    );
    let banded = r#"{"model":"graduated","bands":[
        {"from_value":0,"to_value":10,"per_unit_amount":"-1"},
        {"from_value":11,"to_value":null,"per_unit_amount":"1"}]}"#;
    assert_eq!(
        refused(banded),
        ("out_of_range", at(".bands[0].per_unit_amount"))
    );
    let error = read::<ChargeModel>(r#"{"model":"per_unit","unit_price":0.5}"#).unwrap_err();
    assert!(error.to_string().contains("decimal string"), "{error}");
}

#[test]
fn unit_counts_must_be_whole_and_not_negative() {
    assert_eq!(
        refused(r#"{"model":"package","package_size":-1,"package_price":"5"}"#),
        ("out_of_range", at(".package_size"))
    );
    assert_eq!(
        refused(r#"{"model":"package","package_size":1.5,"package_price":"5"}"#),
        ("wrong_type", at(".package_size"))
    );
    assert_eq!(
        refused(r#"{"model":"package","package_size":"100","package_price":"5"}"#),
        ("wrong_type", at(".package_size"))
    );
    assert_eq!(
        refused(r#"{"model":"package","package_size":18446744073709551616,"package_price":"5"}"#).0,
        "out_of_range" // beyond u64: a count out of range, though serde_json reads it as a float
    );
    let banded = r#"{"model":"graduated","bands":[{"from_value":-1,"to_value":null,"per_unit_amount":"1"}]}"#;
    assert_eq!(
        refused(banded),
        ("out_of_range", at(".bands[0].from_value"))
    );
}

#[test]
fn structure_errors_name_the_field() {
    assert_eq!(
        refused(r#"{"unit_price":"1"}"#),
        ("missing_field", at(".model"))
    );
    assert_eq!(
        refused(r#"{"model":"standard","unit_price":"1"}"#),
        ("wrong_type", at(".model"))
    );
    assert_eq!(
        refused(r#"{"model":"per_unit","unit_price":"1","unit":"call"}"#),
        ("unknown_field", at(".unit"))
    );
    assert_eq!(
        refused(r#"{"model":"package","package_price":"5"}"#),
        ("missing_field", at(".package_size"))
    );
    assert_eq!(
        refused(r#"{"model":"volume"}"#),
        ("missing_field", at(".bands"))
    );
    // A field of another model is refused, naming the field in the message.
    let error =
        read::<ChargeModel>(r#"{"model":"per_unit","unit_price":"1","bands":[]}"#).unwrap_err();
    assert_eq!(error.code(), "unknown_field");
    assert!(error.to_string().contains("`bands`"), "{error}");
    // `to_value` must be written, even as null.
    let banded = r#"{"model":"graduated","bands":[{"from_value":0,"per_unit_amount":"1"}]}"#;
    assert_eq!(refused(banded), ("missing_field", at(".bands[0].to_value")));
    let banded = r#"{"model":"graduated","bands":[{"from_value":0,"to_value":null,"per_unit_amount":"1","from":0}]}"#;
    assert_eq!(refused(banded), ("unknown_field", at(".bands[0].from")));
    assert_eq!(
        refused(r#"{"model":"per_unit","unit_price":"1","unit_price":"2"}"#).0,
        "duplicate_key"
    );
}

#[test]
fn currencies_and_money_read_with_paths() {
    let usd: Currency = read(r#""USD""#).unwrap();
    assert_eq!(usd.minor_units(), 2);
    let error = read::<Currency>(r#""EURO""#).unwrap_err();
    assert_eq!(
        (error.code().as_str(), error.path().as_str()),
        ("unknown_currency", "$.charges.api_calls")
    );
    let error = read::<Currency>("978").unwrap_err();
    assert_eq!(error.code(), "wrong_type");
    let money: Money = read(r#"{"currency":"BHD","minor":4900,"amount":"4.900"}"#).unwrap();
    assert_eq!(
        serde_json::to_string(&money).unwrap(),
        r#"{"currency":"BHD","minor":4900,"amount":"4.900"}"#
    );
}
