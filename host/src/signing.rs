//! The vendor's side of signed documents: Ed25519 key pairs in the PEM files
//! openssl reads and writes, and `entitle-signed/1` envelopes over a
//! document's exact bytes. Only signing and key generation live here;
//! verifying is the engine's job (`entitle_core`, or the module), so that the
//! browser, the gateway and the CLI all verify the same way.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, KeypairBytes};
use ed25519_dalek::{Signer, SigningKey};
use entitle_core::{DocumentKind, SIGNED_FORMAT as FORMAT};

use crate::error::HostError;

/// The files of a new key pair and the key set entry for its public half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// `ID.pem`: the private key, PKCS#8 PEM, readable by its owner only.
    pub private_key: PathBuf,
    /// `ID.pub.pem`: the public key, SPKI PEM.
    pub public_key: PathBuf,
    /// The key set entry, `{"id","public_key","kinds"}`, as one line of JSON.
    pub entry: String,
}

/// Makes an Ed25519 key pair from the operating system's random source and
/// writes `ID.pem` (PKCS#8, mode 0600) and `ID.pub.pem` (SPKI) into `out`,
/// refusing to overwrite either file.
pub fn new_key(id: &str, out: &Path) -> Result<NewKey, HostError> {
    check_key_id(id)?;
    let key = SigningKey::generate(&mut rand_core::OsRng);
    // PKCS#8 v1, the seed alone, as `openssl genpkey` writes it: OpenSSL 3.0
    // cannot read the v2 form that carries the public key too.
    let seed = KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    };
    let private_pem = seed
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|error| HostError::Key {
            path: id.to_string(),
            detail: error.to_string(),
        })?;
    let public_pem = public_key_pem(&key)?;
    let private_key = out.join(format!("{id}.pem"));
    let public_key = out.join(format!("{id}.pub.pem"));
    write_new(&private_key, private_pem.as_bytes(), 0o600)?;
    write_new(&public_key, public_pem.as_bytes(), 0o644)?;
    Ok(NewKey {
        private_key,
        public_key,
        entry: key_set_entry(id, &public_pem, &DocumentKind::ALL),
    })
}

/// A key set entry for a public key in SPKI PEM.
pub fn key_set_entry(id: &str, public_pem: &str, kinds: &[DocumentKind]) -> String {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    format!(
        r#"{{"id":{},"public_key":{},"kinds":{}}}"#,
        json_string(id),
        json_string(public_pem),
        serde_json::Value::from(kinds)
    )
}

/// The public half of a key, in SPKI PEM (as `openssl pkey -pubout` writes it).
pub fn public_key_pem(key: &SigningKey) -> Result<String, HostError> {
    key.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|error| HostError::Key {
            path: String::from("the public key"),
            detail: error.to_string(),
        })
}

/// Reads an Ed25519 private key from PKCS#8 PEM (as `openssl genpkey
/// -algorithm ed25519` writes it); `source` names the file in errors.
pub fn read_private_key(source: &str, pem: &str) -> Result<SigningKey, HostError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|error| HostError::Key {
        path: source.to_string(),
        detail: error.to_string(),
    })
}

/// The `entitle-signed/1` envelope of `payload` (the document's exact
/// bytes), signed by `key` under the id `key_id`, as one line of JSON with
/// the fields in the documented order.
pub fn envelope(key: &SigningKey, key_id: &str, kind: DocumentKind, payload: &[u8]) -> String {
    let signature = key.sign(payload);
    format!(
        r#"{{"format":{},"kind":{},"key_id":{},"payload":{},"signature":{}}}"#,
        json_string(FORMAT),
        json_string(kind.as_str()),
        json_string(key_id),
        json_string(&STANDARD.encode(payload)),
        json_string(&STANDARD.encode(signature.to_bytes())),
    )
}

/// Key ids name files and key set entries: the characters of any id.
fn check_key_id(id: &str) -> Result<(), HostError> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        && !id.starts_with('.');
    if valid {
        Ok(())
    } else {
        Err(HostError::Usage(format!(
            "`{id}` is not a key id: use 1 to 128 letters, digits, `_`, `-`, `.` or `:`, not starting with `.`"
        )))
    }
}

/// Creates `path` with `mode` (on Unix), failing if it exists.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), HostError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let write_error = |source| HostError::WriteFile {
        path: path.display().to_string(),
        source,
    };
    let mut file = options.open(path).map_err(write_error)?;
    file.write_all(bytes).map_err(write_error)?;
    file.sync_all().map_err(write_error)
}

/// A JSON string literal.
fn json_string(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_that_could_escape_the_folder_are_refused() {
        for id in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(check_key_id(id).is_err(), "{id}");
        }
        assert!(check_key_id("vendor-2026-11").is_ok());
    }

    #[test]
    fn an_envelope_names_its_fields_in_the_documented_order() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let text = envelope(&key, "k", DocumentKind::License, b"{\"license\":\"l\"}\n");
        assert!(text.starts_with(
            r#"{"format":"entitle-signed/1","kind":"license","key_id":"k","payload":"eyJsaWNlbnNlIjoibCJ9Cg==","signature":""#
        ));
    }
}
