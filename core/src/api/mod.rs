//! The one JSON boundary: request bytes in, a tagged success or failure out.
//! The wasm module and the host both call these functions and nothing else.

mod compact;
pub mod envelope;
mod fast;
mod loaded;
pub mod op;
mod ops;
pub(crate) mod request;
mod typed;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{push_capped, Conflict, Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;
use crate::reading::bundle::read_bundle_field;
use crate::reading::json;
use crate::reading::signed::KeySet;
use envelope::{failure, success};
use op::Op;
use request::{read_documents, Documents};

pub use crate::reading::bundle::BundleMeta;
pub use compact::Expansion;
pub use envelope::ENGINE_VERSION;
pub use loaded::{not_json, unknown_bundle_handle, LoadedBundle};
pub use typed::{Rejected, ValidLicense, ValidUsage};

/// Version of the plain byte ABI the wasm module exports.
pub const ABI_VERSION: u32 = 1;

/// Evaluates one self-contained request (the bundle travels inside it) and
/// returns the JSON envelope `{"outcome":"ok",...}` or `{"outcome":"error",...}`.
///
/// ```
/// use entitle_core::{evaluate, Envelope, ErrorKind};
///
/// let answer = evaluate(br#"{"op": "check", "feature": "sso"}"#);
/// let read: Envelope<'_, serde_json::Value> = serde_json::from_str(&answer).unwrap();
/// let first = &read.errors()[0];
/// assert_eq!((first.code.as_str(), first.path.as_str()), ("missing_field", "$.bundle"));
/// assert_eq!(first.code.kind(), ErrorKind::Shape);
/// ```
pub fn evaluate(request: &[u8]) -> String {
    run(request, None)
}

#[inline]
fn run(request: &[u8], preloaded: Option<&LoadedBundle>) -> String {
    // A preloaded `check` that reads without a problem skips the value tree.
    if let Some(answer) = preloaded.and_then(|loaded| fast::check(loaded, request)) {
        return answer;
    }
    general(request, preloaded)
}

/// The general path's answer to a preloaded request, never the fast
/// path's: for tests that hold the two to the same bytes.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub fn evaluate_general(loaded: &LoadedBundle, request: &[u8]) -> String {
    general(request, Some(loaded))
}

/// The fast path's answer to a preloaded request, `None` when it leaves
/// the request to the general path: for the same tests.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub fn evaluate_fast(loaded: &LoadedBundle, request: &[u8]) -> Option<String> {
    fast::check(loaded, request)
}

/// Every request: read whole into a value, then each document typed, each
/// problem reported with its path.
fn general(request: &[u8], preloaded: Option<&LoadedBundle>) -> String {
    let preloaded_meta = preloaded.map(|p| &p.meta);
    let root = JsonPath::root();
    let value = match json::parse(request, &root) {
        Ok(value) => value,
        Err(e) => return failure(vec![e], preloaded_meta),
    };
    let Value::Object(mut fields) = value else {
        let e = Error::WrongType {
            path: root,
            detail: String::from("a request is a json object"),
        };
        return failure(vec![e], preloaded_meta);
    };
    let op = match fields.remove("op") {
        Some(Value::String(op)) => op,
        Some(_) => {
            let e = Error::WrongType {
                path: root.key("op"),
                detail: String::from("`op` is a string naming the operation"),
            };
            return failure(vec![e], preloaded_meta);
        }
        None => {
            let e = Error::MissingField {
                path: root.key("op"),
                field: String::from("op"),
            };
            return failure(vec![e], preloaded_meta);
        }
    };
    let Some(op) = Op::parse(&op) else {
        let e = Error::UnknownReference {
            path: root.key("op"),
            kind: RefKind::Operation,
            name: op,
        };
        return failure(vec![e], preloaded_meta);
    };
    let mut errors: Vec<Error> = Vec::new();
    for k in fields
        .keys()
        .filter(|k| !op.accepts().contains(&k.as_str()))
    {
        push_capped(&mut errors, || Error::UnknownField {
            path: root.key(k),
            field: k.clone(),
        });
    }

    // The key set: the one a preloaded bundle keeps (none unless it was
    // loaded signed), or the one a self-contained request carries.
    let owned_keys;
    let keys = match (preloaded, fields.remove("keys")) {
        (Some(_), Some(_)) => {
            errors.push(Error::Contradiction {
                path: root.key("keys"),
                detail: String::from(
                    "a bundle is already loaded; its keys are those it was loaded with, the request must not carry any",
                ),
                code: Conflict::KeysPreloaded,
            });
            return failure(errors, preloaded_meta);
        }
        (Some(loaded), None) => loaded.keys.as_ref(),
        (None, Some(value)) => match KeySet::read(value, &root.key("keys")) {
            Ok(read) => {
                owned_keys = read;
                Some(&owned_keys)
            }
            Err(mut key_errors) => {
                errors.append(&mut key_errors);
                return failure(errors, preloaded_meta);
            }
        },
        (None, None) => None,
    };
    if op == Op::Verify {
        let preloaded = preloaded.map(|p| (&p.bundle, &p.meta));
        return ops::verify::verify(&mut fields, keys, preloaded, errors);
    }
    if op == Op::BusinessTime {
        let preloaded = preloaded.map(|p| (&p.bundle, &p.meta));
        return ops::business_time::business_time(&mut fields, keys, preloaded, errors);
    }

    // The bundle: preloaded, or inside the request.
    let owned;
    let (bundle, meta) = match (preloaded, fields.remove("bundle")) {
        (Some(_), Some(_)) => {
            errors.push(Error::Contradiction {
                path: root.key("bundle"),
                detail: String::from("a bundle is already loaded; the request must not carry one"),
                code: Conflict::BundlePreloaded,
            });
            return failure(errors, preloaded_meta);
        }
        (Some(loaded), None) => (&loaded.bundle, &loaded.meta),
        (None, None) => {
            errors.push(Error::MissingField {
                path: root.key("bundle"),
                field: String::from("bundle"),
            });
            return failure(errors, None);
        }
        (None, Some(value)) => match read_bundle_field(value, keys, &root.key("bundle")) {
            Ok((bundle, meta, _)) => {
                owned = (bundle, meta);
                (&owned.0, &owned.1)
            }
            Err(mut bundle_errors) => {
                errors.append(&mut bundle_errors);
                if op == Op::Validate {
                    // Every problem at once: the license's and the usage's
                    // own, though nothing can be held to a broken bundle.
                    request::read_alone(&mut fields, keys, &mut errors);
                }
                return failure(errors, None);
            }
        },
    };

    let docs = read_documents(
        op,
        &mut fields,
        bundle,
        preloaded.map(|p| &p.licenses),
        keys,
        &mut errors,
    );
    if !errors.is_empty() {
        return failure(errors, Some(meta));
    }
    if matches!(op, Op::Simulate | Op::Diff) {
        let license = docs.license.as_deref();
        let replay = ops::simulate::answer(op, &mut fields, bundle, license, keys);
        return respond(op, replay, meta);
    }
    dispatch(op, &mut fields, bundle, docs, meta)
}

/// The envelope of an operation's answer: its result, or its errors.
fn respond<T: Serialize>(op: Op, answer: Result<T, Vec<Error>>, meta: &BundleMeta) -> String {
    match answer {
        Ok(result) => success(op, &result, Some(meta)),
        Err(errors) => failure(errors, Some(meta)),
    }
}

/// Answers an operation decided on documents already read: `validate`,
/// `scan`, and the operations that decide for one license at `now`.
fn dispatch(
    op: Op,
    fields: &mut Map<String, Value>,
    bundle: &Bundle,
    docs: Documents,
    meta: &BundleMeta,
) -> String {
    if op == Op::Validate {
        let valid = ops::validate::answer(docs.license.is_some(), docs.usage_given);
        return success(op, &valid, Some(meta));
    }
    if let (Op::Scan, Some(inventory), Some(now)) = (op, &docs.inventory, docs.now) {
        return respond(op, ops::scan::answer(bundle, inventory, now), meta);
    }
    let (Some(license), Some(now)) = (docs.license, docs.now) else {
        let missing = Error::MissingField {
            path: JsonPath::root().key("license"),
            field: String::from("license"),
        };
        return failure(vec![missing], Some(meta));
    };
    // Counts recorded in a past period count as nothing now.
    let usage = crate::metering::meter::current(bundle, &license, docs.usage, now);
    let at = ops::Decide {
        bundle,
        license: &license,
        usage: &usage,
        now,
    };
    match op {
        Op::Check => respond(op, ops::check::answer(fields, &at), meta),
        Op::Seat => respond(op, ops::seat::answer(&at), meta),
        Op::Status => respond(op, ops::status::answer(fields, &at), meta),
        Op::Quote => respond(op, ops::quote::answer(fields, &at), meta),
        Op::Transition => respond(op, ops::transition::answer(fields, &at), meta),
        Op::Escalate => respond(op, ops::escalate::answer(fields, &at), meta),
        Op::Exception => respond(op, ops::exception::answer(fields, &at), meta),
        // Answered before the documents of one license are read.
        Op::Validate
        | Op::Verify
        | Op::Simulate
        | Op::Diff
        | Op::Scan
        | Op::BusinessTime
        | Op::Load
        | Op::LoadLicense
        | Op::Compile => {
            let unexpected = Error::UnknownReference {
                path: JsonPath::root().key("op"),
                kind: RefKind::Operation,
                name: op.name().to_string(),
            };
            failure(vec![unexpected], Some(meta))
        }
    }
}
