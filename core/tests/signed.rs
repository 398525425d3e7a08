//! Signed documents through the one JSON entry: a random single-byte change
//! anywhere in a signed envelope's decoded payload or signature never
//! verifies (proptest), and a bundle loaded signed keeps its key set, so
//! its licenses must be signed too. The envelopes are the conformance
//! corpus's, made by openssl with its test-only keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use entitle_core::api::{evaluate, LoadedBundle};
use proptest::prelude::*;
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/conformance/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

fn json_fixture(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

/// An envelope with its payload and signature decoded.
struct Signed {
    envelope: Value,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn signed(name: &str) -> Signed {
    let envelope = json_fixture(name);
    let decode = |field: &str| STANDARD.decode(envelope[field].as_str().unwrap()).unwrap();
    let (payload, signature) = (decode("payload"), decode("signature"));
    Signed {
        envelope,
        payload,
        signature,
    }
}

/// The `verify` request for an envelope with these bytes.
fn verify(signed: &Signed, payload: &[u8], signature: &[u8]) -> Value {
    let mut envelope = signed.envelope.clone();
    envelope["payload"] = json!(STANDARD.encode(payload));
    envelope["signature"] = json!(STANDARD.encode(signature));
    let request =
        json!({"op": "verify", "keys": json_fixture("keys/keys.json"), "document": envelope});
    serde_json::from_str(&evaluate(request.to_string().as_bytes())).unwrap()
}

#[test]
fn the_untouched_envelopes_verify() {
    for name in [
        "signature/license.envelope.json",
        "signature/bundle.envelope.json",
    ] {
        let s = signed(name);
        let answer = verify(&s, &s.payload, &s.signature);
        assert_eq!(answer["outcome"], "ok", "{name}: {answer}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// One byte of the payload or the signature (chosen over both, as one
    /// run of bytes) changed to any other value: never verified.
    #[test]
    fn a_single_changed_byte_never_verifies(
        bundle in any::<bool>(),
        at in any::<prop::sample::Index>(),
        change in 1..=255u8,
    ) {
        let s = signed(if bundle {
            "signature/bundle.envelope.json"
        } else {
            "signature/license.envelope.json"
        });
        let (mut payload, mut signature) = (s.payload.clone(), s.signature.clone());
        let at = at.index(payload.len() + signature.len());
        let byte = if at < payload.len() {
            &mut payload[at]
        } else {
            &mut signature[at - s.payload.len()]
        };
        *byte ^= change;
        let answer = verify(&s, &payload, &signature);
        prop_assert_eq!(&answer["outcome"], "error", "byte {} xor {}: {}", at, change, answer);
        prop_assert_eq!(&answer["errors"][0]["code"], "bad_signature");
        prop_assert_eq!(answer["errors"].as_array().map(Vec::len), Some(1));
    }
}

#[test]
fn a_bundle_loaded_signed_takes_only_signed_licenses() {
    let keys = fixture("keys/keys.json");
    let mut loaded =
        LoadedBundle::load_signed(&fixture("signature/bundle.envelope.json"), &keys).unwrap();
    let describe: Value = serde_json::from_str(&loaded.describe()).unwrap();
    assert_eq!(describe["result"]["key_id"], "test-only-a");
    assert_eq!(describe["result"]["bundle"]["id"], "conformance");

    let ok: Value =
        serde_json::from_str(&loaded.load_license(&fixture("signature/license.envelope.json")))
            .unwrap();
    assert_eq!(ok["result"]["license"], "lic-signed-1", "{ok}");
    let plain: Value =
        serde_json::from_str(&loaded.load_license(&fixture("signature/license.payload.json")))
            .unwrap();
    assert_eq!(plain["errors"][0]["code"], "signature_required");
    assert_eq!(plain["errors"][0]["path"], "$.license");

    // Checks name the verified license by id, or carry a signed one.
    let by_id = r#"{"op":"check","license":"lic-signed-1","now":"2026-06-01T12:00:00Z","feature":"audit_log"}"#;
    let answer: Value = serde_json::from_str(&loaded.evaluate(by_id.as_bytes())).unwrap();
    assert_eq!(answer["result"]["decision"], "allow", "{answer}");
    let inline = json!({"op": "check", "license": json_fixture("signature/license.envelope.json"),
        "now": "2026-06-01T12:00:00Z", "feature": "audit_log"});
    assert_eq!(
        loaded.evaluate(inline.to_string().as_bytes()),
        loaded.evaluate(by_id.as_bytes())
    );
    // The key set is the one it was loaded with: a request may not bring another.
    let with_keys = json!({"op": "check", "keys": json_fixture("keys/keys.json"), "license": "lic-signed-1",
        "now": "2026-06-01T12:00:00Z", "feature": "audit_log"});
    let refused: Value =
        serde_json::from_str(&loaded.evaluate(with_keys.to_string().as_bytes())).unwrap();
    assert_eq!(refused["errors"][0]["code"], "keys_preloaded");
    // And verify uses the kept key set.
    let verified =
        json!({"op": "verify", "document": json_fixture("signature/license.envelope.json")});
    let answer: Value =
        serde_json::from_str(&loaded.evaluate(verified.to_string().as_bytes())).unwrap();
    assert_eq!(answer["result"]["key_id"], "test-only-b", "{answer}");
}

#[test]
fn load_signed_reports_paths_under_keys_and_bundle() {
    let envelope = fixture("signature/bundle.envelope.json");
    let error = |envelope: &[u8], keys: &[u8]| -> (String, String) {
        let text = LoadedBundle::load_signed(envelope, keys).unwrap_err();
        let answer: Value = serde_json::from_str(&text).unwrap();
        (
            answer["errors"][0]["code"].as_str().unwrap().to_string(),
            answer["errors"][0]["path"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        error(&envelope, b"{\"keys\":7}"),
        ("wrong_type".into(), "$.keys.keys".into())
    );
    assert_eq!(
        error(&envelope, b"{\"keys\":[]}"),
        ("unknown_key_id".into(), "$.bundle.key_id".into())
    );
    assert_eq!(
        error(
            &fixture("signature/license.envelope.json"),
            &fixture("keys/keys.json")
        ),
        ("wrong_document_kind".into(), "$.bundle.kind".into())
    );
    assert_eq!(
        error(&fixture("bundle.json"), &fixture("keys/keys.json")),
        ("signature_required".into(), "$.bundle".into())
    );
    // A plain load refuses an envelope it has no keys for.
    let text = LoadedBundle::load(&envelope).unwrap_err();
    assert!(
        text.contains(r#""code":"keys_required","path":"$.bundle""#),
        "{text}"
    );
}
