//! Signed documents: the `entitle-signed/1` envelope around a bundle or a
//! license, the key set that says which public keys are trusted for which
//! kind of document, and verification: Ed25519 over the exact bytes of the
//! payload, nothing canonicalised. The format is described in `docs/signing.md`.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, JsonPath, Rejection};
use crate::model::ids::KeyId;
use crate::reading::{json, spki};

/// The one envelope format this engine reads.
pub const FORMAT: &str = "entitle-signed/1";

/// Length of an Ed25519 signature in bytes.
const SIGNATURE_LEN: usize = 64;

/// The most keys a key set holds: enough to rotate keys for years, few
/// enough that reading a set (each key's PEM decoded, each id compared with
/// the others) stays a small part of a request's time.
pub const MAX_KEYS: usize = 64;

/// The two kinds of document that travel signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A bundle: the vendor's policy, with a top-level `"bundle"` id.
    Bundle,
    /// A license: one customer's grant, with a top-level `"license"` id.
    License,
}

impl DocumentKind {
    /// Both kinds, the default of a key's `kinds`.
    pub const ALL: [DocumentKind; 2] = [DocumentKind::Bundle, DocumentKind::License];

    /// The kind as written in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Bundle => "bundle",
            DocumentKind::License => "license",
        }
    }

    /// The kind a parsed document declares by its id field: a top-level
    /// `"bundle"` for a bundle, `"license"` for a license; `None` for
    /// anything else (both, neither, not an object).
    pub fn of_document(document: &Value) -> Option<DocumentKind> {
        let object = document.as_object()?;
        match (
            object.contains_key("bundle"),
            object.contains_key("license"),
        ) {
            (true, false) => Some(DocumentKind::Bundle),
            (false, true) => Some(DocumentKind::License),
            _ => None,
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One trusted public key: its id, the key, and the kinds it may sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// The id envelopes name it by.
    pub id: KeyId,
    /// The Ed25519 public key.
    pub key: VerifyingKey,
    /// The kinds of document it may sign.
    pub kinds: Vec<DocumentKind>,
}

/// The trust configuration: every key a signed document may be checked
/// with. Several keys let a vendor rotate keys without a flag day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet {
    keys: Vec<TrustedKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySetJson {
    keys: Vec<KeyJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyJson {
    id: KeyId,
    public_key: String,
    #[serde(default)]
    kinds: Option<Vec<DocumentKind>>,
}

impl KeySet {
    /// Reads a key set, `{"keys":[{"id","public_key","kinds"}]}`, from JSON
    /// bytes; `root` is where it sits in the request.
    pub fn parse(bytes: &[u8], root: &JsonPath) -> Result<KeySet, Vec<Error>> {
        let value = json::parse(bytes, root).map_err(|e| vec![e])?;
        KeySet::read(value, root)
    }

    /// Reads a key set from a parsed value, reporting every bad key at once.
    /// A set of more than [`MAX_KEYS`] keys is refused before any is read.
    pub fn read(value: Value, root: &JsonPath) -> Result<KeySet, Vec<Error>> {
        let count = value.get("keys").and_then(Value::as_array).map(Vec::len);
        if let Some(count) = count.filter(|n| *n > MAX_KEYS) {
            return Err(vec![Error::TooMany {
                path: root.key("keys"),
                what: "key set",
                items: "keys",
                count,
                limit: MAX_KEYS,
            }]);
        }
        let json: KeySetJson = json::typed(value, root).map_err(|e| vec![e])?;
        let mut errors = Vec::new();
        let mut keys: Vec<TrustedKey> = Vec::new();
        for (i, entry) in json.keys.into_iter().enumerate() {
            let at = root.key("keys").index(i);
            if keys.iter().any(|k| k.id == entry.id) {
                errors.push(Error::Duplicate {
                    path: at.key("id"),
                    what: String::from("key id"),
                    value: entry.id.to_string(),
                });
                continue;
            }
            match spki::read(&entry.public_key) {
                Ok(key) => keys.push(TrustedKey {
                    id: entry.id,
                    key,
                    kinds: entry.kinds.unwrap_or_else(|| DocumentKind::ALL.to_vec()),
                }),
                Err(problem) => errors.push(rejection(
                    at.key("public_key"),
                    Rejection::InvalidPublicKey,
                    format!(
                        "key `{}` is not an ed25519 public key in spki pem: {}",
                        entry.id,
                        problem.describe()
                    ),
                )),
            }
        }
        if errors.is_empty() {
            Ok(KeySet { keys })
        } else {
            Err(errors)
        }
    }

    /// The key named `id`, if the set holds it.
    pub fn get(&self, id: &str) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.id.as_str() == id)
    }

    /// Every key, in the order the set lists them.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }
}

/// The envelope's fields, read strictly.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeJson {
    #[allow(dead_code)]
    format: String,
    kind: DocumentKind,
    key_id: String,
    payload: String,
    signature: String,
}

/// A verified document: the payload parsed, and what vouches for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The kind, as both the envelope and the payload declare it.
    pub kind: DocumentKind,
    /// The key whose signature matched.
    pub key_id: KeyId,
    /// The payload, parsed (its bytes are authentic).
    pub document: Value,
    /// `sha256:` and the hex digest of the exact payload bytes.
    pub payload_sha256: String,
    /// The number of payload bytes.
    pub payload_len: usize,
}

/// Whether a document is an envelope rather than a plain document: an
/// object with any of the envelope's own fields (no bundle or license has them).
pub fn is_envelope(value: &Value) -> bool {
    value.as_object().is_some_and(|object| {
        ["format", "key_id", "payload", "signature"]
            .iter()
            .any(|field| object.contains_key(*field))
    })
}

fn rejection(path: JsonPath, code: Rejection, detail: String) -> Error {
    Error::Signature { path, detail, code }
}

/// Opens the envelope at `root`: checks its shape, that it holds the kind
/// `expected` (when given), that its key is known and may sign that kind,
/// and the signature over the exact payload bytes; only then parses the
/// payload, whose errors are reported under `root.payload`, and checks
/// that the payload declares the envelope's kind.
pub fn open(
    envelope: Value,
    keys: &KeySet,
    expected: Option<DocumentKind>,
    root: &JsonPath,
) -> Result<Verified, Error> {
    let Some(object) = envelope.as_object() else {
        return Err(Error::WrongType {
            path: root.clone(),
            detail: String::from("a signed document is an envelope object"),
        });
    };
    // The format first: another format may have other fields.
    if let Some(format) = object.get("format") {
        if format.as_str() != Some(FORMAT) {
            return Err(rejection(
                root.key("format"),
                Rejection::UnknownEnvelopeFormat,
                format!("unknown envelope format `{}`", text_of(format)),
            ));
        }
    }
    let envelope: EnvelopeJson = json::typed(envelope, root)?;
    if let Some(expected) = expected {
        if envelope.kind != expected {
            return Err(rejection(
                root.key("kind"),
                Rejection::WrongDocumentKind,
                format!(
                    "a signed `{}` where a `{expected}` is expected",
                    envelope.kind
                ),
            ));
        }
    }
    let payload = decode(&envelope.payload, root.key("payload"))?;
    let signature = decode(&envelope.signature, root.key("signature"))?;
    let signature: [u8; SIGNATURE_LEN] = signature.as_slice().try_into().map_err(|_| {
        rejection(
            root.key("signature"),
            Rejection::InvalidSignatureLength,
            format!(
                "the signature has `{}` bytes, not {SIGNATURE_LEN}",
                signature.len()
            ),
        )
    })?;
    let Some(key) = keys.get(&envelope.key_id) else {
        return Err(rejection(
            root.key("key_id"),
            Rejection::UnknownKeyId,
            format!("unknown key id `{}`", envelope.key_id),
        ));
    };
    if !key.kinds.contains(&envelope.kind) {
        return Err(rejection(
            root.key("key_id"),
            Rejection::KeyNotAllowedForKind,
            format!("key `{}` may not sign a `{}`", key.id, envelope.kind),
        ));
    }
    key.key
        .verify_strict(&payload, &Signature::from_bytes(&signature))
        .map_err(|_| {
            rejection(
                root.key("signature"),
                Rejection::BadSignature,
                format!(
                    "the signature does not match the payload under key `{}`",
                    key.id
                ),
            )
        })?;
    // The bytes are authentic from here on.
    let document = json::parse(&payload, &root.key("payload"))?;
    match DocumentKind::of_document(&document) {
        Some(kind) if kind == envelope.kind => {}
        Some(kind) => {
            return Err(rejection(
                root.key("kind"),
                Rejection::WrongDocumentKind,
                format!(
                    "the envelope says `{}` but its payload is a `{kind}`",
                    envelope.kind
                ),
            ))
        }
        None => {
            return Err(rejection(
                root.key("payload"),
                Rejection::WrongDocumentKind,
                String::from(
                    "the payload is neither a bundle (`\"bundle\"` id) nor a license (`\"license\"` id)",
                ),
            ))
        }
    }
    Ok(Verified {
        kind: envelope.kind,
        key_id: key.id.clone(),
        document,
        payload_sha256: sha256(&payload),
        payload_len: payload.len(),
    })
}

/// A document where one of `kind` is expected, signed or plain: opened and
/// verified when `keys` are given (a plain one is refused), passed through
/// when not (an envelope is refused). Returns the document and the path its
/// own fields are reported under (`root`, or `root.payload` when signed).
pub fn unwrap(
    value: Value,
    keys: Option<&KeySet>,
    kind: DocumentKind,
    root: &JsonPath,
) -> Result<(Value, JsonPath, Option<Verified>), Error> {
    match (keys, is_envelope(&value)) {
        (Some(keys), true) => {
            let mut verified = open(value, keys, Some(kind), root)?;
            let document = std::mem::take(&mut verified.document);
            Ok((document, root.key("payload"), Some(verified)))
        }
        (Some(_), false) => Err(rejection(
            root.clone(),
            Rejection::SignatureRequired,
            format!("a plain `{kind}` where keys are given and a signed one is required"),
        )),
        (None, true) => Err(rejection(
            root.clone(),
            Rejection::KeysRequired,
            format!("a signed `{kind}` with no `keys` to verify it"),
        )),
        (None, false) => Ok((value, root.clone(), None)),
    }
}

/// Decodes standard base64 (with padding, no white space).
fn decode(text: &str, path: JsonPath) -> Result<Vec<u8>, Error> {
    STANDARD.decode(text).map_err(|e| {
        let field = path.last_key().unwrap_or("field").to_string();
        let why = match e {
            base64::DecodeError::InvalidByte(at, byte) => {
                format!("`{}` at offset `{at}`", char::from(byte).escape_default())
            }
            base64::DecodeError::InvalidLength(len) => format!("a length of `{len}` symbols"),
            base64::DecodeError::InvalidLastSymbol(at, _) => {
                format!("a last symbol with bits left over at offset `{at}`")
            }
            base64::DecodeError::InvalidPadding => String::from("bad padding"),
        };
        rejection(
            path,
            Rejection::InvalidBase64,
            format!("the {field} is not standard base64: {why}"),
        )
    })
}

/// `sha256:` and the lowercase hex digest.
fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A JSON value as text for a message: strings bare, anything else as JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
