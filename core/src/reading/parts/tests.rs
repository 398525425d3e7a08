//! The part-by-part reader against serde's whole read: the same fields, the
//! same first problem, and a problem for every part.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{json, Value};

use super::*;

const DOCUMENTS: &[(&str, &str)] = &[
    ("bundle", include_str!("../../../../examples/bundle.json")),
    (
        "bundle",
        include_str!("../../../../examples/bundle.next.json"),
    ),
    (
        "bundle",
        include_str!("../../../../tests/conformance/fixtures/support_bundle.json"),
    ),
    (
        "bundle",
        include_str!("../../../../tests/conformance/fixtures/exception_bundle.json"),
    ),
    ("license", include_str!("../../../../examples/license.json")),
    (
        "license",
        include_str!("../../../../tests/conformance/fixtures/license.json"),
    ),
    ("usage", include_str!("../../../../examples/usage.json")),
];

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Serde's whole read, and the part reader's list.
fn both(kind: &str, value: &Value) -> (Result<(), Error>, Result<(), Vec<Error>>) {
    let root = JsonPath::root().key(kind);
    match kind {
        "bundle" => (
            json::typed_ref::<Bundle>(value, &root).map(drop),
            bundle(value, &root).map(drop),
        ),
        "license" => (
            json::typed_ref::<License>(value, &root).map(drop),
            license(value, &root).map(drop),
        ),
        _ => (
            json::typed_ref::<Usage>(value, &root).map(drop),
            usage(value, &root).map(drop),
        ),
    }
}

/// The field names serde lists for a struct with `deny_unknown_fields`.
fn serde_fields<T: DeserializeOwned>() -> Vec<String> {
    let Err(error) = serde_json::from_value::<T>(json!({"\u{1}": 0})) else {
        panic!("an unknown field must be refused");
    };
    let text = error.to_string();
    let listed = text
        .split_once("expected one of ")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| text.split_once("expected ").unwrap().1);
    listed
        .split(", ")
        .flat_map(|names| names.split(" or "))
        .map(|name| name.trim_matches('`').to_string())
        .collect()
}

fn names(fields: &[Field]) -> Vec<String> {
    fields.iter().map(|f| f.name.to_string()).collect()
}

#[test]
fn the_tables_name_every_field_in_declaration_order() {
    assert_eq!(names(BUNDLE), serde_fields::<Bundle>());
    assert_eq!(names(TIER), serde_fields::<Tier>());
    assert_eq!(names(LICENSE), serde_fields::<License>());
    assert_eq!(names(USAGE), serde_fields::<Usage>());
}

#[test]
fn the_tables_say_which_fields_are_required_as_serde_does() {
    let tier = |bundle: &Value| {
        bundle["tiers"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .cloned()
    };
    let bundle = parse(DOCUMENTS[0].1);
    let cases: [(&str, Value, &[Field]); 4] = [
        ("bundle", bundle.clone(), BUNDLE),
        ("tier", tier(&bundle).unwrap(), TIER),
        ("license", parse(DOCUMENTS[4].1), LICENSE),
        ("usage", parse(DOCUMENTS[6].1), USAGE),
    ];
    for (kind, document, fields) in cases {
        for field in fields {
            let mut without = document.clone();
            without.as_object_mut().unwrap().remove(field.name);
            let read = match kind {
                "bundle" => json::typed_ref::<Bundle>(&without, &JsonPath::root()).map(drop),
                "tier" => json::typed_ref::<Tier>(&without, &JsonPath::root()).map(drop),
                "license" => json::typed_ref::<License>(&without, &JsonPath::root()).map(drop),
                _ => json::typed_ref::<Usage>(&without, &JsonPath::root()).map(drop),
            };
            let missing = read.is_err_and(|e| e.code() == "missing_field");
            assert_eq!(missing, field.required, "{kind}.{}", field.name);
        }
    }
}

/// Every subtree of a document, as the steps that lead to it.
fn paths(value: &Value, at: Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let mut next = at.clone();
                next.push(Value::String(key.clone()));
                paths(item, next, out);
            }
        }
        Value::Array(list) => {
            for (i, item) in list.iter().enumerate() {
                let mut next = at.clone();
                next.push(Value::from(i));
                paths(item, next, out);
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(value: &'a mut Value, steps: &[Value]) -> &'a mut Value {
    steps.iter().fold(value, |v, step| match step {
        Value::String(key) => v.get_mut(key.as_str()).unwrap(),
        _ => v.get_mut(step.as_u64().unwrap() as usize).unwrap(),
    })
}

/// Whatever is broken, the first problem the parts report is the one the
/// whole read reports, and a document the whole read takes, the parts take.
#[test]
fn the_first_problem_is_the_one_serde_reports() {
    let wrong = [
        json!(null),
        json!(-1),
        json!(1.5),
        json!("x y"),
        json!([]),
        json!({"\u{1}": 0}),
    ];
    let mut broken = 0;
    for (kind, text) in DOCUMENTS {
        let document = parse(text);
        let (whole, parts) = both(kind, &document);
        assert!(
            whole.is_ok() && parts.is_ok(),
            "{kind}: {whole:?} {parts:?}"
        );
        let mut all = Vec::new();
        paths(&document, Vec::new(), &mut all);
        for (n, steps) in all.into_iter().enumerate() {
            // One wrong value per subtree, taking each in turn, and the
            // subtree removed.
            let mut changed = document.clone();
            *at_mut(&mut changed, &steps) = wrong[n % wrong.len()].clone();
            let mut variants = vec![changed];
            if let Some((last, parent)) = steps.split_last() {
                let mut without = document.clone();
                match at_mut(&mut without, parent) {
                    Value::Object(map) => drop(map.remove(last.as_str().unwrap_or_default())),
                    Value::Array(list) => drop(list.pop()),
                    _ => {}
                }
                variants.push(without);
            }
            for changed in variants {
                match both(kind, &changed) {
                    (Ok(()), Ok(())) => {}
                    (Err(first), Err(all)) => {
                        broken += 1;
                        assert_eq!(all.first(), Some(&first), "{kind} at {steps:?}");
                    }
                    other => panic!("{kind} at {steps:?}: {other:?}"),
                }
            }
        }
    }
    assert!(broken > 500, "only {broken} broken documents were tried");
}

fn codes_and_paths(errors: &[Error]) -> Vec<(&'static str, String)> {
    errors
        .iter()
        .map(|e| (e.code().as_str(), e.path().to_string()))
        .collect()
}

#[test]
fn a_problem_in_each_part_is_reported() {
    let mut document = parse(DOCUMENTS[0].1);
    document["features"]["sso"]["kind"] = json!("sometimes");
    document["tiers"]["team"]["rank"] = json!(-1);
    document["tiers"]["team"]["price"] = json!(12);
    document["tiers"]["enterprise"]["features"] = json!(["sso", 7]);
    document["addons"]["sso_pack"]["tiers"] = json!("team");
    document["currency"] = json!("XYZ");
    document["colour"] = json!("blue");
    document.as_object_mut().unwrap().remove("expiry");
    let errors = bundle(&document, &JsonPath::root().key("bundle")).unwrap_err();
    // Keys in the parsed map's order (sorted), then the missing field.
    assert_eq!(
        codes_and_paths(&errors),
        [
            ("wrong_type", "$.bundle.addons.sso_pack.tiers"),
            ("unknown_field", "$.bundle.colour"),
            ("unknown_currency", "$.bundle.currency"),
            ("wrong_type", "$.bundle.features.sso.kind"),
            ("wrong_type", "$.bundle.tiers.enterprise.features[1]"),
            ("wrong_type", "$.bundle.tiers.team.price"),
            ("out_of_range", "$.bundle.tiers.team.rank"),
            ("missing_field", "$.bundle.expiry"),
        ]
        .map(|(code, path)| (code, path.to_string()))
    );
}

#[test]
fn a_license_and_a_usage_report_each_field_and_metric() {
    let mut document = parse(DOCUMENTS[4].1);
    document["seats"] = json!(-3);
    document["time_zone"] = json!("Mars/Olympus");
    document["exceptions"][0]["starts_at"] = json!("soon");
    document.as_object_mut().unwrap().remove("customer");
    let errors = license(&document, &JsonPath::root().key("license")).unwrap_err();
    assert_eq!(
        codes_and_paths(&errors),
        [
            ("invalid_timestamp", "$.license.exceptions[0].starts_at"),
            ("out_of_range", "$.license.seats"),
            ("unknown_time_zone", "$.license.time_zone"),
            ("missing_field", "$.license.customer"),
        ]
        .map(|(code, path)| (code, path.to_string()))
    );
    let usage_doc = json!({"metrics": {"a": {"used": -1}, "b": {"used": 1, "extra": 0}, "c d": {"used": 0}}, "active_seats": "x"});
    let errors = usage(&usage_doc, &JsonPath::root().key("usage")).unwrap_err();
    assert_eq!(
        codes_and_paths(&errors),
        [
            ("wrong_type", "$.usage.active_seats"),
            ("out_of_range", "$.usage.metrics.a.used"),
            ("unknown_field", "$.usage.metrics.b.extra"),
            ("wrong_type", "$.usage.metrics[\"c d\"]"),
        ]
        .map(|(code, path)| (code, path.to_string()))
    );
}
