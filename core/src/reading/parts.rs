//! Reading a bundle, a license or a usage document part by part when it does
//! not read whole, so that a problem in each part is reported at once: each
//! top-level field, each entry of their maps and lists (every feature, tier,
//! add-on, charge, calendar, exception, usage metric...) and each field of a
//! tier. Serde stops at the first problem; a document that reads whole never
//! takes the slow path here.
//!
//! The parts are read in the order serde reads the whole (an object's keys
//! in the parsed map's order, then its missing fields in declaration order),
//! so the first problem reported is the one reading it whole reports.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::billing::charge::ChargeModel;
use crate::billing::credit::CreditBand;
use crate::compliance::policy::Compliance;
use crate::error::{count_capped, Error, JsonPath, MAX_ERRORS};
use crate::exceptions::policy::ExceptionPolicy;
use crate::model::bundle::{
    AddOn, BillingPeriod, Bundle, ControlType, ControlValue, ExpiryPolicy, Feature, Quota, Tier,
    Transition,
};
use crate::model::ids::{
    AddOnId, BundleId, CalendarId, ControlId, CustomerId, FeatureId, LicenseId, TierId,
};
use crate::model::license::{
    Exception, License, LicenseStatus, MetricUsage, OfflineWindow, Term, Usage,
};
use crate::model::money::{Currency, Price};
use crate::model::route::Gateway;
use crate::model::time::{Date, Timestamp, Zone};
use crate::reading::json;
use crate::support::calendar::Calendar;
use crate::support::policy::Support;

/// Reads one part at a path; its problems go to the list.
type Read = fn(&Value, &JsonPath, &mut Vec<Error>);

/// A field of an object: its name, whether it must be there, how it reads.
struct Field {
    name: &'static str,
    required: bool,
    read: Read,
}

const fn required(name: &'static str, read: Read) -> Field {
    Field {
        name,
        required: true,
        read,
    }
}

const fn optional(name: &'static str, read: Read) -> Field {
    Field {
        name,
        required: false,
        read,
    }
}

/// The fields of [`Bundle`], in declaration order.
const BUNDLE: &[Field] = &[
    required("bundle", leaf::<BundleId>),
    required("version", leaf::<String>),
    required("currency", leaf::<Currency>),
    required("billing_period", leaf::<BillingPeriod>),
    required("features", entries::<FeatureId, Feature>),
    optional("controls", entries::<ControlId, ControlType>),
    required("tiers", tiers),
    optional("addons", entries::<AddOnId, AddOn>),
    optional("charges", entries::<FeatureId, ChargeModel>),
    optional("transitions", items::<Transition>),
    required("expiry", leaf::<ExpiryPolicy>),
    optional("issued_at", leaf::<Option<Timestamp>>),
    optional("clock_skew_seconds", leaf::<Option<u32>>),
    optional("gateway", leaf::<Gateway>),
    optional("calendars", entries::<CalendarId, Calendar>),
    optional("support", leaf::<Option<Support>>),
    optional("exception_policy", leaf::<Option<ExceptionPolicy>>),
    optional("compliance", leaf::<Option<Compliance>>),
];

/// The fields of [`Tier`], in declaration order.
const TIER: &[Field] = &[
    required("rank", leaf::<u32>),
    optional("title", leaf::<Option<String>>),
    required("price", leaf::<Price>),
    optional("features", items::<FeatureId>),
    optional("quotas", entries::<FeatureId, Quota>),
    optional("controls", entries::<ControlId, ControlValue>),
    optional("max_seats", leaf::<Option<u64>>),
    optional("support_price", leaf::<Option<Price>>),
    optional("service_credits", items::<CreditBand>),
];

/// The fields of [`License`], in declaration order.
const LICENSE: &[Field] = &[
    required("license", leaf::<LicenseId>),
    required("customer", leaf::<CustomerId>),
    required("tier", leaf::<TierId>),
    optional("addons", items::<AddOnId>),
    required("seats", leaf::<u64>),
    required("term", leaf::<Term>),
    required("status", leaf::<LicenseStatus>),
    required("time_zone", leaf::<Zone>),
    required("anchor_date", leaf::<Date>),
    optional("exceptions", items::<Exception>),
    optional("issued_at", leaf::<Option<Timestamp>>),
    optional("offline", leaf::<Option<OfflineWindow>>),
];

/// The fields of [`Usage`], in declaration order.
const USAGE: &[Field] = &[
    optional("metrics", entries::<FeatureId, MetricUsage>),
    optional("active_seats", leaf::<u64>),
];

/// Reads a bundle; when it does not read, the problem of each part.
pub(crate) fn bundle(value: &Value, root: &JsonPath) -> Result<Bundle, Vec<Error>> {
    read(value, root, |v, at, errors| {
        object::<Bundle>(v, at, BUNDLE, errors)
    })
}

/// Reads a license; when it does not read, the problem of each part.
pub(crate) fn license(value: &Value, root: &JsonPath) -> Result<License, Vec<Error>> {
    read(value, root, |v, at, errors| {
        object::<License>(v, at, LICENSE, errors);
    })
}

/// Reads a usage document; when it does not read, the problem of each part.
pub(crate) fn usage(value: &Value, root: &JsonPath) -> Result<Usage, Vec<Error>> {
    read(value, root, |v, at, errors| {
        object::<Usage>(v, at, USAGE, errors)
    })
}

/// Reads `value` whole as `T`; when that fails, reads it again part by
/// part with `parts` and reports every part's problem (or the one problem
/// reading it whole found, should the parts all read).
fn read<T: DeserializeOwned>(value: &Value, root: &JsonPath, parts: Read) -> Result<T, Vec<Error>> {
    json::typed_ref::<T>(value, root).map_err(|whole| {
        let mut errors = Vec::new();
        parts(value, root, &mut errors);
        if errors.is_empty() {
            vec![whole]
        } else {
            errors
        }
    })
}

/// A part read whole. Past the errors an answer lists, a part's problem
/// is only counted, never located or described.
fn leaf<T: DeserializeOwned>(value: &Value, at: &JsonPath, errors: &mut Vec<Error>) {
    match json::problem::<T>(value, at, errors.len() < MAX_ERRORS) {
        Ok(()) => {}
        Err(Some(error)) => errors.push(error),
        Err(None) => count_capped(errors),
    }
}

/// An object of type `T`, field by field: each field present read on its
/// own, each unknown one and each required one missing reported.
fn object<T: DeserializeOwned>(
    value: &Value,
    at: &JsonPath,
    fields: &[Field],
    errors: &mut Vec<Error>,
) {
    let Value::Object(map) = value else {
        return leaf::<T>(value, at, errors);
    };
    for (key, item) in map {
        match fields.iter().find(|field| field.name == key) {
            Some(field) => (field.read)(item, &at.key(key), errors),
            None => errors.push(Error::UnknownField {
                path: at.key(key),
                field: key.clone(),
            }),
        }
    }
    for field in fields
        .iter()
        .filter(|field| field.required && !map.contains_key(field.name))
    {
        errors.push(Error::MissingField {
            path: at.key(field.name),
            field: field.name.to_string(),
        });
    }
}

/// A map from ids `K` to values `V`, entry by entry.
fn entries<K: DeserializeOwned + Ord, V: DeserializeOwned>(
    value: &Value,
    at: &JsonPath,
    errors: &mut Vec<Error>,
) {
    map_of::<K>(value, at, errors, leaf::<V>);
}

/// A map with keys `K`, each entry's value read with `read`.
fn map_of<K: DeserializeOwned>(value: &Value, at: &JsonPath, errors: &mut Vec<Error>, read: Read) {
    let Value::Object(map) = value else {
        return refuse(value, "a map", at, errors);
    };
    for (key, item) in map {
        let path = at.key(key);
        leaf::<K>(&Value::String(key.clone()), &path, errors);
        read(item, &path, errors);
    }
}

/// A part that is not the map or list its type reads, refused as reading
/// the type would refuse it, without instantiating its reader (one per
/// type of map and list); past the errors an answer lists, only counted.
fn refuse(value: &Value, expected: &str, at: &JsonPath, errors: &mut Vec<Error>) {
    if errors.len() < MAX_ERRORS {
        errors.push(json::refused(value, expected, at));
    } else {
        count_capped(errors);
    }
}

/// A list of `T`, item by item.
fn items<T: DeserializeOwned>(value: &Value, at: &JsonPath, errors: &mut Vec<Error>) {
    let Value::Array(list) = value else {
        return refuse(value, "a sequence", at, errors);
    };
    for (i, item) in list.iter().enumerate() {
        leaf::<T>(item, &at.index(i), errors);
    }
}

/// The tiers, each read field by field.
fn tiers(value: &Value, at: &JsonPath, errors: &mut Vec<Error>) {
    map_of::<TierId>(value, at, errors, |v, at, errors| {
        object::<Tier>(v, at, TIER, errors);
    });
}

#[cfg(test)]
mod tests;
