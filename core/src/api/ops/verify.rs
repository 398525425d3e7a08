//! `verify`: is a signed document authentic, and what is it? The envelope
//! is opened and checked against the key set, the payload is read as the
//! document it declares, and the answer names the kind, the key, the
//! document, the payload's sha256 and its issue time.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::envelope::{failure, success};
use crate::api::op::Op;
use crate::entitlement::offline::{clock_skew, DocumentTimes, DEFAULT_CLOCK_SKEW_SECONDS};
use crate::entitlement::reason::Reason;
use crate::error::{Error, JsonPath, Rejection};
use crate::model::bundle::Bundle;
use crate::model::ids::KeyId;
use crate::model::license::License;
use crate::model::time::Timestamp;
use crate::reading::bundle::read_bundle;
use crate::reading::bundle::BundleMeta;
use crate::reading::json;
use crate::reading::signed::{self, DocumentKind, KeySet};
use crate::reading::validate;

/// The answer to `verify`.
#[derive(Debug, Serialize)]
struct Verification<'a> {
    /// Always `true`: a document that does not verify gets an error envelope.
    verified: bool,
    /// `bundle` or `license`.
    kind: DocumentKind,
    /// The key whose signature matched.
    key_id: &'a KeyId,
    /// The document's own id (the bundle's or the license's).
    document: String,
    /// The bundle's version, for bundles.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    /// `sha256:` and the hex digest of the exact payload bytes.
    payload_sha256: &'a str,
    /// How many bytes the payload has.
    payload_bytes: usize,
    /// When the vendor issued the document, if it says.
    issued_at: Option<Timestamp>,
    /// With `now`: the reasons of `check` the document's own times give
    /// (`issued_in_future`, `offline_window_not_started`, `offline_window_ended`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reasons: Option<Vec<Reason>>,
}

/// Answers a `verify` request; `errors` holds what was already found wrong
/// with the request, `preloaded` the bundle it was sent to, if any.
pub(crate) fn verify(
    fields: &mut Map<String, Value>,
    keys: Option<&KeySet>,
    preloaded: Option<(&Bundle, &BundleMeta)>,
    mut errors: Vec<Error>,
) -> String {
    let root = JsonPath::root();
    let meta = preloaded.map(|(_, meta)| meta);
    let kind = crate::api::request::optional::<DocumentKind>(fields, "kind", &mut errors);
    let now = crate::api::request::optional::<Timestamp>(fields, "now", &mut errors);
    let document = fields.remove("document");
    if keys.is_none() {
        errors.push(Error::MissingField {
            path: root.key("keys"),
            field: String::from("keys"),
        });
    }
    if document.is_none() {
        errors.push(Error::MissingField {
            path: root.key("document"),
            field: String::from("document"),
        });
    }
    let (Some(keys), Some(document)) = (keys, document) else {
        return failure(errors, meta);
    };
    if !errors.is_empty() {
        return failure(errors, meta);
    }
    let at = root.key("document");
    if !signed::is_envelope(&document) {
        let e = Error::Signature {
            path: at,
            detail: String::from("a plain document where a signed one is required"),
            code: Rejection::SignatureRequired,
        };
        return failure(vec![e], meta);
    }
    let mut verified = match signed::open(document, keys, kind, &at) {
        Ok(verified) => verified,
        Err(e) => return failure(vec![e], meta),
    };
    let payload = at.key("payload");
    let body = std::mem::take(&mut verified.document);
    let mut answer = Verification {
        verified: true,
        kind: verified.kind,
        key_id: &verified.key_id,
        document: String::new(),
        version: None,
        payload_sha256: &verified.payload_sha256,
        payload_bytes: verified.payload_len,
        issued_at: None,
        reasons: None,
    };
    match verified.kind {
        DocumentKind::Bundle => {
            let (bundle, bundle_meta) = match read_bundle(body, &payload) {
                Ok(read) => read,
                Err(errors) => return failure(errors, meta),
            };
            answer.document = bundle.bundle.to_string();
            answer.version = Some(bundle.version.clone());
            answer.issued_at = bundle.issued_at;
            answer.reasons = now.map(|now| {
                DocumentTimes::of(bundle.issued_at, None, clock_skew(&bundle), now).reasons
            });
            // The answer is about this bundle: its identity goes in `meta`.
            success(Op::Verify, &answer, Some(&bundle_meta))
        }
        DocumentKind::License => {
            let license: License = match json::typed(body, &payload) {
                Ok(license) => license,
                Err(e) => return failure(vec![e], meta),
            };
            // Sent to a preloaded bundle, the license is held to it.
            if let Some((bundle, _)) = preloaded {
                let errors = validate::license(bundle, &license, &payload);
                if !errors.is_empty() {
                    return failure(errors, meta);
                }
            }
            let skew = preloaded.map_or(DEFAULT_CLOCK_SKEW_SECONDS, |(b, _)| clock_skew(b));
            answer.document = license.license.to_string();
            answer.issued_at = license.issued_at;
            answer.reasons = now.map(|now| {
                DocumentTimes::of(license.issued_at, license.offline.as_ref(), skew, now).reasons
            });
            success(Op::Verify, &answer, meta)
        }
    }
}
