//! Reading a request: which operation it names, the fields that operation
//! takes, and its documents, each with the path of every problem.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::op::{Need, Op};
use crate::error::{Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;
use crate::model::ids::LicenseId;
use crate::model::license::{License, Usage};
use crate::model::time::Timestamp;
use crate::reading::json;
use crate::reading::signed::{self, DocumentKind, KeySet};
use crate::reading::validate;

/// A request's documents, each read with its own path so that problems in
/// several documents are all reported at once.
pub(crate) struct Documents<'a> {
    /// The license, inline or preloaded.
    pub license: Option<Cow<'a, License>>,
    /// The usage; none given is no usage at all.
    pub usage: Usage,
    /// Whether the request carried a usage document (`validate` lists it as checked).
    pub usage_given: bool,
    /// The instant of the request.
    pub now: Option<Timestamp>,
    /// What a `scan` reads: licenses, deployments, telemetry, events.
    pub inventory: Option<crate::compliance::inventory::Inventory>,
}

/// Reads the documents of a request, each with its own path so that
/// problems in several documents are all reported at once.
pub(crate) fn read_documents<'a>(
    op: Op,
    fields: &mut Map<String, Value>,
    bundle: &Bundle,
    licenses: Option<&'a BTreeMap<LicenseId, License>>,
    keys: Option<&KeySet>,
    errors: &mut Vec<Error>,
) -> Documents<'a> {
    let root = JsonPath::root();
    let license_needed = op.license() == Need::Required;
    let license = match (fields.remove("license"), licenses) {
        // A license loaded into a preloaded bundle, named by its id.
        (Some(Value::String(id)), Some(loaded)) => {
            match loaded.iter().find(|(k, _)| k.as_str() == id) {
                Some((_, license)) => Some(Cow::Borrowed(license)),
                None => {
                    errors.push(Error::UnknownReference {
                        path: root.key("license"),
                        kind: RefKind::License,
                        name: id,
                    });
                    None
                }
            }
        }
        // Inline, plain or signed (verified with `keys` when given).
        (Some(value), _) => match read_license(value, keys) {
            Ok((license, at)) => {
                errors.extend(validate::license(bundle, &license, &at));
                Some(Cow::Owned(license))
            }
            Err(mut read_errors) => {
                errors.append(&mut read_errors);
                None
            }
        },
        (None, _) => take::<License>(None, "license", license_needed, errors).map(Cow::Owned),
    };
    let usage_value = fields.remove("usage");
    let usage_given = usage_value.is_some();
    let usage = read_usage(usage_value, errors).map_or_else(Usage::default, |usage| {
        errors.extend(validate::usage(bundle, &usage, &root.key("usage")));
        usage
    });
    // The table says which operations decide at `now`: a replay takes its
    // instants from its scenario, `validate` decides at no instant.
    let timed = op.now() == Need::Required;
    let now = take::<Timestamp>(fields.remove("now"), "now", timed, errors);
    errors.extend(crate::metering::history::check(
        &usage,
        now,
        &root.key("usage"),
    ));
    let inventory = (op == Op::Scan)
        .then(|| crate::compliance::inventory::read(fields, bundle, keys, now, errors));
    Documents {
        license,
        usage,
        usage_given,
        now,
        inventory,
    }
}

/// Reads an inline license, plain or signed (verified with `keys` when
/// given): every problem of its parts, or the license and its path.
fn read_license(value: Value, keys: Option<&KeySet>) -> Result<(License, JsonPath), Vec<Error>> {
    let (document, at, _) = signed::unwrap(
        value,
        keys,
        DocumentKind::License,
        &JsonPath::root().key("license"),
    )
    .map_err(|e| vec![e])?;
    crate::reading::parts::license(&document, &at).map(|license| (license, at))
}

/// Reads a usage document, if given; every problem of its parts goes to `errors`.
fn read_usage(value: Option<Value>, errors: &mut Vec<Error>) -> Option<Usage> {
    let value = value?;
    crate::reading::parts::usage(&value, &JsonPath::root().key("usage"))
        .map_err(|mut read_errors| errors.append(&mut read_errors))
        .ok()
}

/// The problems of a request's license and usage on their own, without a
/// bundle to hold them to: what `validate` still reports when the bundle
/// itself does not read or does not hold.
pub(crate) fn read_alone(
    fields: &mut Map<String, Value>,
    keys: Option<&KeySet>,
    errors: &mut Vec<Error>,
) {
    if let Some(value) = fields.remove("license").filter(|v| !v.is_string()) {
        if let Err(mut read_errors) = read_license(value, keys) {
            errors.append(&mut read_errors);
        }
    }
    read_usage(fields.remove("usage"), errors);
}

/// Reads an optional top-level field of a request, removing it; a problem
/// goes to `errors`.
pub(crate) fn optional<T: DeserializeOwned>(
    fields: &mut Map<String, Value>,
    field: &str,
    errors: &mut Vec<Error>,
) -> Option<T> {
    take(fields.remove(field), field, false, errors)
}

/// Reads one top-level field of a request: its problem, or its absence when
/// it is required, goes to `errors`.
fn take<T: DeserializeOwned>(
    value: Option<Value>,
    field: &str,
    required: bool,
    errors: &mut Vec<Error>,
) -> Option<T> {
    let path = JsonPath::root().key(field);
    match value {
        Some(value) => json::typed::<T>(value, &path)
            .map_err(|e| errors.push(e))
            .ok(),
        None if required => {
            errors.push(Error::MissingField {
                path,
                field: field.to_string(),
            });
            None
        }
        None => None,
    }
}
