//! Tampered signed documents are refused the same way by native core and by
//! the module in wasmtime: every single-byte change to the payload or to
//! the signature, every truncation, an unknown key id and the wrong kind.
//! The envelopes are the conformance corpus's, made by openssl with its
//! test-only keys (`tests/conformance/fixtures/`).
//!
//! Build the module first: `cargo xtask build-wasm`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use entitle_host::{Evaluator, Native, Runtime};
use serde_json::{json, Value};
use support::{fixture_bytes as fixture, fixture_json, module};

/// A session on each engine with the signed conformance bundle loaded and
/// its key set kept, so that `verify` requests carry only the document.
fn sessions() -> Vec<(&'static str, Box<dyn Evaluator + Send>)> {
    let envelope = fixture("signature/bundle.envelope.json");
    let keys = fixture("keys/keys.json");
    let module = module();
    let engines: [(&'static str, &dyn Runtime); 2] =
        [("native", &Native::new()), ("wasmtime", &module)];
    engines
        .into_iter()
        .map(|(name, engine)| {
            let (session, describe) = engine.load_signed_bundle(&envelope, &keys).unwrap();
            let session = session.unwrap_or_else(|| panic!("{name}: {describe}"));
            (name, session)
        })
        .collect()
}

/// The license envelope's fields: payload and signature decoded.
struct Parts {
    envelope: Value,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn license() -> Parts {
    let envelope: Value =
        serde_json::from_slice(&fixture("signature/license.envelope.json")).unwrap();
    let payload = STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let signature = STANDARD
        .decode(envelope["signature"].as_str().unwrap())
        .unwrap();
    assert_eq!(signature.len(), 64);
    Parts {
        envelope,
        payload,
        signature,
    }
}

impl Parts {
    /// A `verify` request for the envelope with these payload and signature bytes.
    fn request(&self, payload: &[u8], signature: &[u8]) -> Vec<u8> {
        let mut envelope = self.envelope.clone();
        envelope["payload"] = json!(STANDARD.encode(payload));
        envelope["signature"] = json!(STANDARD.encode(signature));
        serde_json::to_vec(&json!({"op": "verify", "document": envelope})).unwrap()
    }
}

/// The codes and paths of an error answer, or the outcome of another.
fn errors(answer: &str) -> Vec<(String, String)> {
    let answer: Value = serde_json::from_str(answer).unwrap();
    match answer["errors"].as_array() {
        Some(errors) => errors
            .iter()
            .map(|e| {
                (
                    e["code"].as_str().unwrap().to_string(),
                    e["path"].as_str().unwrap().to_string(),
                )
            })
            .collect(),
        None => vec![(answer["outcome"].to_string(), String::new())],
    }
}

fn refused(code: &str, path: &str) -> Vec<(String, String)> {
    vec![(code.to_string(), path.to_string())]
}

#[test]
fn the_untouched_envelope_verifies_on_both_engines() {
    let parts = license();
    let request = parts.request(&parts.payload, &parts.signature);
    for (name, mut session) in sessions() {
        let answer: Value = serde_json::from_str(&session.evaluate(&request).unwrap()).unwrap();
        assert_eq!(answer["outcome"], "ok", "{name}: {answer}");
        assert_eq!(answer["result"]["key_id"], "test-only-b", "{name}");
        assert_eq!(answer["result"]["document"], "lic-signed-1", "{name}");
    }
}

/// Every byte of the payload and of the signature, replaced by every other
/// value it could take, fails the signature check on both engines.
#[test]
fn every_single_byte_change_is_rejected_on_both_engines() {
    let parts = license();
    let bad = refused("bad_signature", "$.document.signature");
    for (name, mut session) in sessions() {
        let mut tried = 0usize;
        for at in 0..parts.payload.len() {
            for value in 0..=255u8 {
                if value == parts.payload[at] {
                    continue;
                }
                let mut payload = parts.payload.clone();
                payload[at] = value;
                let answer = session
                    .evaluate(&parts.request(&payload, &parts.signature))
                    .unwrap();
                assert_eq!(
                    errors(&answer),
                    bad,
                    "{name}: payload byte {at} set to {value}"
                );
                tried += 1;
            }
        }
        for at in 0..parts.signature.len() {
            for value in 0..=255u8 {
                if value == parts.signature[at] {
                    continue;
                }
                let mut signature = parts.signature.clone();
                signature[at] = value;
                let answer = session
                    .evaluate(&parts.request(&parts.payload, &signature))
                    .unwrap();
                assert_eq!(
                    errors(&answer),
                    bad,
                    "{name}: signature byte {at} set to {value}"
                );
                tried += 1;
            }
        }
        assert_eq!(
            tried,
            (parts.payload.len() + parts.signature.len()) * 255,
            "{name}"
        );
    }
}

#[test]
fn truncations_and_additions_are_rejected_on_both_engines() {
    let parts = license();
    for (name, mut session) in sessions() {
        for len in 0..parts.payload.len() {
            let answer = session
                .evaluate(&parts.request(&parts.payload[..len], &parts.signature))
                .unwrap();
            assert_eq!(
                errors(&answer),
                refused("bad_signature", "$.document.signature"),
                "{name}: payload cut to {len} bytes"
            );
        }
        let mut longer = parts.payload.clone();
        longer.push(b'\n');
        let answer = session
            .evaluate(&parts.request(&longer, &parts.signature))
            .unwrap();
        assert_eq!(
            errors(&answer),
            refused("bad_signature", "$.document.signature"),
            "{name}: a byte added"
        );
        for len in 0..parts.signature.len() {
            let answer = session
                .evaluate(&parts.request(&parts.payload, &parts.signature[..len]))
                .unwrap();
            assert_eq!(
                errors(&answer),
                refused("invalid_signature_length", "$.document.signature"),
                "{name}: signature cut to {len} bytes"
            );
        }
    }
}

#[test]
fn an_unknown_key_id_and_the_wrong_kind_are_rejected_on_both_engines() {
    let parts = license();
    let with = |field: &str, value: &str| {
        let mut envelope = parts.envelope.clone();
        envelope[field] = json!(value);
        serde_json::to_vec(&json!({"op": "verify", "document": envelope})).unwrap()
    };
    let bundle: Value = serde_json::from_slice(&fixture("signature/bundle.envelope.json")).unwrap();
    let cases = [
        (
            with("key_id", "vendor-2031-01"),
            refused("unknown_key_id", "$.document.key_id"),
        ),
        (
            with("key_id", "test-only-a"),
            refused("bad_signature", "$.document.signature"),
        ),
        (
            with("kind", "bundle"),
            refused("key_not_allowed_for_kind", "$.document.key_id"),
        ),
        (
            serde_json::to_vec(&json!({"op": "verify", "document": bundle, "kind": "license"}))
                .unwrap(),
            refused("wrong_document_kind", "$.document.kind"),
        ),
        (
            serde_json::to_vec(&json!({"op": "check", "license": bundle, "now": "2026-06-01T00:00:00Z", "feature": "audit_log"}))
                .unwrap(),
            refused("wrong_document_kind", "$.license.kind"),
        ),
        (
            serde_json::to_vec(&json!({"op": "check", "license": fixture_json("license.json"), "now": "2026-06-01T00:00:00Z", "feature": "audit_log"}))
                .unwrap(),
            refused("signature_required", "$.license"),
        ),
    ];
    for (name, mut session) in sessions() {
        for (request, expected) in &cases {
            let answer = session.evaluate(request).unwrap();
            assert_eq!(
                &errors(&answer),
                expected,
                "{name}: {}",
                String::from_utf8_lossy(request)
            );
        }
    }
}
