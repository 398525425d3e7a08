//! The one JSON boundary: request bytes in, a tagged success or failure out.
//! The wasm module and the host both call these functions and nothing else.

pub(crate) mod business_time;
pub mod envelope;
pub mod op;
pub(crate) mod request;
pub(crate) mod simulate;
mod typed;
pub(crate) mod verify;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::billing::quote;
use crate::entitlement::check;
use crate::entitlement::{status, transition};
use crate::error::{push_capped, Conflict, Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;
use crate::model::ids::{KeyId, LicenseId, TierId};
use crate::model::license::License;
use crate::model::route::FailureMode;
use crate::reading::json;
use crate::reading::signed::{self, DocumentKind, KeySet};
use crate::reading::validate;
use envelope::{failure, success};
pub use envelope::{BundleMeta, ENGINE_VERSION};
use op::Op;
use request::{read_documents, Documents};
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

/// A bundle parsed, validated and hashed once, then evaluated against many
/// times; licenses may be loaded into it too, so that a request names its
/// license by id (`"license": "lic_7Q2M9"`) instead of carrying it.
#[derive(Debug, Clone)]
pub struct LoadedBundle {
    bundle: Bundle,
    meta: BundleMeta,
    licenses: BTreeMap<LicenseId, License>,
    /// The key set of a bundle loaded signed: licenses must then be signed too.
    keys: Option<KeySet>,
    /// The key that signed the bundle, when it came signed.
    signed_by: Option<KeyId>,
}

impl LoadedBundle {
    /// Parses and validates a bundle document. On failure, returns the error
    /// envelope (the same shape `evaluate` returns) with JSON paths under
    /// `$.bundle`, as if the bundle had been sent inside a request.
    pub fn load(bundle: &[u8]) -> Result<LoadedBundle, String> {
        let root = JsonPath::root().key("bundle");
        let value = json::parse(bundle, &root).map_err(|e| failure(vec![e], None))?;
        // A signed bundle needs its keys: `load_signed`.
        read_bundle_field(value, None, &root)
            .map(|(bundle, meta, _)| LoadedBundle::new(bundle, meta))
            .map_err(|errors| failure(errors, None))
    }

    /// A bundle read and validated, with no license loaded and no keys.
    fn new(bundle: Bundle, meta: BundleMeta) -> LoadedBundle {
        LoadedBundle {
            bundle,
            meta,
            licenses: BTreeMap::new(),
            keys: None,
            signed_by: None,
        }
    }

    /// Verifies a signed bundle (an `entitle-signed/1` envelope) against a
    /// key set, then parses and validates it. The key set is kept: licenses
    /// loaded into this bundle, and licenses in requests to it, must then be
    /// signed by one of its keys. Errors have paths under `$.keys` and
    /// `$.bundle` (the document's own under `$.bundle.payload`).
    pub fn load_signed(envelope: &[u8], keys: &[u8]) -> Result<LoadedBundle, String> {
        let keys =
            KeySet::parse(keys, &JsonPath::root().key("keys")).map_err(|e| failure(e, None))?;
        let root = JsonPath::root().key("bundle");
        let value = json::parse(envelope, &root).map_err(|e| failure(vec![e], None))?;
        let (bundle, meta, signed_by) =
            read_bundle_field(value, Some(&keys), &root).map_err(|e| failure(e, None))?;
        Ok(LoadedBundle {
            bundle,
            meta,
            licenses: BTreeMap::new(),
            keys: Some(keys),
            signed_by,
        })
    }

    /// The success envelope describing the loaded bundle (id, version, hash,
    /// engine, and the key that signed it when it came signed) and what a
    /// gateway does when the module cannot answer: the default failure mode
    /// (for requests whose feature it cannot know) and each feature's.
    pub fn describe(&self) -> String {
        #[derive(Serialize)]
        struct Described<'a> {
            bundle: &'a BundleMeta,
            #[serde(skip_serializing_if = "Option::is_none")]
            key_id: Option<&'a KeyId>,
            on_failure: OnFailure<'a>,
        }
        #[derive(Serialize)]
        struct OnFailure<'a> {
            default: FailureMode,
            features: BTreeMap<&'a str, FailureMode>,
        }
        let on_failure = OnFailure {
            default: self.bundle.gateway.on_failure,
            features: self
                .bundle
                .features
                .iter()
                .map(|(id, feature)| (id.as_str(), feature.on_failure))
                .collect(),
        };
        let described = Described {
            bundle: &self.meta,
            key_id: self.signed_by.as_ref(),
            on_failure,
        };
        success(Op::Load, &described, Some(&self.meta))
    }

    /// Evaluates a request against this bundle; the request must not carry its own `bundle`.
    pub fn evaluate(&self, request: &[u8]) -> String {
        run(request, Some(self))
    }

    /// Parses and validates a license against this bundle and keeps it, so
    /// that later requests may name it by id. A license with the id of one
    /// already loaded replaces it. Answers `{"license": id, "loaded": n}` or
    /// the errors, with paths under `$.license`. A bundle loaded signed
    /// takes only licenses signed by a key of its key set.
    pub fn load_license(&mut self, license: &[u8]) -> String {
        let license = match self.read_license(license) {
            Ok(license) => license,
            Err(errors) => return failure(errors, Some(&self.meta)),
        };
        #[derive(Serialize)]
        struct Loaded<'a> {
            license: &'a LicenseId,
            loaded: usize,
        }
        let id = license.license.clone();
        self.licenses.insert(id.clone(), license);
        let answer = Loaded {
            license: &id,
            loaded: self.licenses.len(),
        };
        success(Op::LoadLicense, &answer, Some(&self.meta))
    }

    /// Reads a license document, plain or signed (by a key of this bundle's
    /// key set when it was loaded signed), and validates it against this
    /// bundle: every problem, with paths under `$.license`.
    fn read_license(&self, license: &[u8]) -> Result<License, Vec<Error>> {
        let root = JsonPath::root().key("license");
        let (document, at, _) = json::parse(license, &root)
            .and_then(|v| signed::unwrap(v, self.keys.as_ref(), DocumentKind::License, &root))
            .map_err(|e| vec![e])?;
        let license = crate::reading::parts::license(&document, &at)?;
        let errors = validate::license(&self.bundle, &license, &at);
        if errors.is_empty() {
            Ok(license)
        } else {
            Err(errors)
        }
    }

    /// Forgets a loaded license; returns whether it was loaded.
    pub fn unload_license(&mut self, id: &str) -> bool {
        let before = self.licenses.len();
        self.licenses.retain(|k, _| k.as_str() != id);
        self.licenses.len() < before
    }
}

/// The error envelope for a request naming a bundle handle the caller never loaded
/// or already freed; used by the byte ABI, which keeps the handle table.
pub fn unknown_bundle_handle(handle: u32) -> String {
    failure(
        vec![Error::UnknownBundleHandle {
            path: JsonPath::root(),
            handle,
        }],
        None,
    )
}

/// The error envelope for a request a caller could not even turn into JSON
/// bytes (a JS value JSON cannot hold, for instance): `wrong_type` at `$`.
pub fn not_json(detail: &str) -> String {
    failure(
        vec![Error::WrongType {
            path: JsonPath::root(),
            detail: format!("the request is not a JSON-compatible value: {detail}"),
        }],
        None,
    )
}

/// Reads a bundle given plain or signed (verified with `keys` when given),
/// and the key that signed it.
pub(crate) fn read_bundle_field(
    value: Value,
    keys: Option<&KeySet>,
    root: &JsonPath,
) -> Result<(Bundle, BundleMeta, Option<KeyId>), Vec<Error>> {
    let (document, at, verified) =
        signed::unwrap(value, keys, DocumentKind::Bundle, root).map_err(|e| vec![e])?;
    let (bundle, meta) = read_bundle(document, &at)?;
    Ok((bundle, meta, verified.map(|v| v.key_id)))
}

/// Reads, validates and hashes a bundle document.
pub(crate) fn read_bundle(
    value: Value,
    root: &JsonPath,
) -> Result<(Bundle, BundleMeta), Vec<Error>> {
    let hash = format!(
        "sha256:{}",
        hex(&Sha256::digest(canonical(&value).as_bytes()))
    );
    let bundle = crate::reading::parts::bundle(&value, root)?;
    let errors = validate::bundle(&bundle, root);
    if !errors.is_empty() {
        return Err(errors);
    }
    let meta = BundleMeta {
        id: bundle.bundle.to_string(),
        version: bundle.version.clone(),
        hash,
    };
    Ok((bundle, meta))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Canonical JSON: object keys sorted by code point, no white space. Written
/// by hand so the hash never depends on how a JSON library orders maps.
fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn run(request: &[u8], preloaded: Option<&LoadedBundle>) -> String {
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
        return verify::verify(&mut fields, keys, preloaded, errors);
    }
    if op == Op::BusinessTime {
        let preloaded = preloaded.map(|p| (&p.bundle, &p.meta));
        return business_time::business_time(&mut fields, keys, preloaded, errors);
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
        return simulate::answer(op, &mut fields, bundle, meta, license, keys)
            .unwrap_or_else(|errors| failure(errors, Some(meta)));
    }
    let answer = dispatch(op, &mut fields, bundle, docs, meta);
    match answer {
        Ok(text) => text,
        Err(errors) => failure(errors, Some(meta)),
    }
}

fn dispatch(
    op: Op,
    fields: &mut Map<String, Value>,
    bundle: &Bundle,
    docs: Documents,
    meta: &BundleMeta,
) -> Result<String, Vec<Error>> {
    let root = JsonPath::root();
    if op == Op::Validate {
        #[derive(Serialize)]
        struct Valid {
            valid: bool,
            checked: Vec<&'static str>,
        }
        let mut checked = vec!["bundle"];
        if docs.license.is_some() {
            checked.push("license");
        }
        if docs.usage_given {
            checked.push("usage");
        }
        return Ok(success(
            op,
            &Valid {
                valid: true,
                checked,
            },
            Some(meta),
        ));
    }
    if let (Op::Scan, Some(inventory), Some(now)) = (op, &docs.inventory, docs.now) {
        let answer = crate::compliance::scan::scan(bundle, inventory, now)?;
        return Ok(success(op, &answer, Some(meta)));
    }
    let (Some(license), Some(now)) = (docs.license, docs.now) else {
        return Err(vec![Error::MissingField {
            path: root.key("license"),
            field: String::from("license"),
        }]);
    };
    // Counts recorded in a past period count as nothing now.
    let usage = crate::metering::meter::current(bundle, &license, docs.usage, now);
    match op {
        Op::Check => {
            let ask = request::read_ask(fields, bundle)?;
            let answer = check::check(bundle, &license, &usage, &ask, now).map_err(|e| vec![e])?;
            Ok(success(op, &answer, Some(meta)))
        }
        Op::Status => {
            let answer = status::respond(fields, bundle, &license, &usage, now)?;
            Ok(success(op, &answer, Some(meta)))
        }
        Op::Quote => {
            let uptime = fields
                .remove("uptime")
                .map(|v| crate::billing::credit::read_uptime(v, &root.key("uptime")))
                .transpose()
                .map_err(|e| vec![e])?;
            let answer =
                quote::quote(bundle, &license, &usage, now, uptime).map_err(|e| vec![e])?;
            Ok(success(op, &answer, Some(meta)))
        }
        Op::Transition => {
            let to: TierId = match fields.remove("to") {
                Some(value) => json::typed(value, &root.key("to")).map_err(|e| vec![e])?,
                None => {
                    return Err(vec![Error::MissingField {
                        path: root.key("to"),
                        field: String::from("to"),
                    }])
                }
            };
            if !bundle.tiers.contains_key(&to) {
                return Err(vec![Error::UnknownReference {
                    path: root.key("to"),
                    kind: RefKind::Tier,
                    name: to.to_string(),
                }]);
            }
            let answer =
                transition::transition(bundle, &license, &usage, &to, now).map_err(|e| vec![e])?;
            Ok(success(op, &answer, Some(meta)))
        }
        Op::Escalate => {
            let case: crate::support::case::Case = match fields.remove("case") {
                Some(value) => json::typed(value, &root.key("case")).map_err(|e| vec![e])?,
                None => {
                    return Err(vec![Error::MissingField {
                        path: root.key("case"),
                        field: String::from("case"),
                    }])
                }
            };
            let reevaluate = match fields.remove("reevaluate") {
                Some(value) => {
                    json::typed::<bool>(value, &root.key("reevaluate")).map_err(|e| vec![e])?
                }
                None => false,
            };
            let answer =
                crate::support::escalate::escalate(bundle, &license, &case, reevaluate, now)?;
            Ok(success(op, &answer, Some(meta)))
        }
        Op::Exception => crate::exceptions::assess::exception(bundle, &license, fields, now)
            .map(|answer| success(op, &answer, Some(meta))),
        other => Err(vec![Error::UnknownReference {
            path: root.key("op"),
            kind: RefKind::Operation,
            name: other.name().to_string(),
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys_and_drops_space() {
        let v: Value = serde_json::from_str(r#"{ "b": [1, {"d": "x", "c": null}], "a": 1.5 }"#)
            .unwrap_or_default();
        assert_eq!(canonical(&v), r#"{"a":1.5,"b":[1,{"c":null,"d":"x"}]}"#);
    }
}
