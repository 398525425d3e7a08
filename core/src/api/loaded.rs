//! A bundle loaded once and evaluated against many times, with the
//! licenses loaded into it; and the envelopes the byte ABI answers for
//! what never reaches a bundle (an unknown handle, a value that is not JSON).

use std::collections::BTreeMap;

use serde::Serialize;

use super::envelope::{failure, success};
use super::fast::LicenseChecks;
use super::op::Op;
use crate::error::{Error, JsonPath};
use crate::model::bundle::{Bundle, FeatureKind};
use crate::model::ids::{KeyId, LicenseId};
use crate::model::license::License;
use crate::model::route::{FailureMode, StoreFailure};
use crate::reading::bundle::{read_bundle_field, BundleMeta};
use crate::reading::json;
use crate::reading::signed::{self, DocumentKind, KeySet};
use crate::reading::validate;

/// A bundle parsed, validated and hashed once, then evaluated against many
/// times; licenses may be loaded into it too, so that a request names its
/// license by id (`"license": "lic_7Q2M9"`) instead of carrying it.
#[derive(Debug, Clone)]
pub struct LoadedBundle {
    pub(super) bundle: Bundle,
    pub(super) meta: BundleMeta,
    pub(super) licenses: BTreeMap<LicenseId, License>,
    /// Each loaded license's checks, compiled as the JSON fast path first
    /// needs them; replaced and dropped with the license.
    pub(super) compiled: BTreeMap<LicenseId, LicenseChecks>,
    /// The key set of a bundle loaded signed: licenses must then be signed too.
    pub(super) keys: Option<KeySet>,
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
    pub(super) fn new(bundle: Bundle, meta: BundleMeta) -> LoadedBundle {
        LoadedBundle {
            bundle,
            meta,
            licenses: BTreeMap::new(),
            compiled: BTreeMap::new(),
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
            compiled: BTreeMap::new(),
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
            on_store_failure: BTreeMap<&'a str, StoreFailure>,
        }
        #[derive(Serialize)]
        struct OnFailure<'a> {
            default: FailureMode,
            features: BTreeMap<&'a str, FailureMode>,
        }
        // Inserted one by one: collecting sorts first, a copy of the sort
        // in the module for this type alone.
        let mut features = BTreeMap::new();
        let mut on_store_failure = BTreeMap::new();
        for (id, feature) in &self.bundle.features {
            features.insert(id.as_str(), feature.on_failure);
            if feature.kind == FeatureKind::Metered {
                on_store_failure.insert(id.as_str(), feature.on_store_failure);
            }
        }
        let on_failure = OnFailure {
            default: self.bundle.gateway.on_failure,
            features,
        };
        let described = Described {
            bundle: &self.meta,
            key_id: self.signed_by.as_ref(),
            on_failure,
            on_store_failure,
        };
        success(Op::Load, &described, Some(&self.meta))
    }

    /// Evaluates a request against this bundle; the request must not carry its own `bundle`.
    #[inline]
    pub fn evaluate(&self, request: &[u8]) -> String {
        super::run(request, Some(self))
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
        self.compiled
            .insert(id.clone(), LicenseChecks::new(&self.bundle));
        let answer = Loaded {
            license: &id,
            loaded: self.licenses.len(),
        };
        success(Op::LoadLicense, &answer, Some(&self.meta))
    }

    /// Reads a license document, plain or signed (by a key of this bundle's
    /// key set when it was loaded signed), and validates it against this
    /// bundle: every problem, with paths under `$.license`.
    pub(super) fn read_license(&self, license: &[u8]) -> Result<License, Vec<Error>> {
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
        self.compiled.remove(id);
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
