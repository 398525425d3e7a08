//! An Ed25519 public key in SPKI PEM, the form `openssl pkey -pubout` and
//! `entitle keys new` write: read without a general ASN.1 decoder.
//!
//! RFC 8410 fixes the whole DER of an Ed25519 `SubjectPublicKeyInfo`: the
//! algorithm is the bare OID 1.3.101.112 (parameters absent) and the key a
//! 32-byte bit string, so every such key is the same 12 bytes followed by
//! its 32. Its base64 is 60 characters, one line of a PEM wrapped at 64.
//! The general decoders (PEM, DER, SPKI, PKCS#8) cost the module about
//! 12 KB gzipped for this one comparison; `tests/spki_pem.rs` holds this
//! reader to them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;

/// The DER of an Ed25519 `SubjectPublicKeyInfo` before its key: a
/// sequence of 42 bytes holding the algorithm (a sequence holding OID
/// 1.3.101.112) and a bit string of 33 bytes with no unused bits.
const PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
const END: &str = "-----END PUBLIC KEY-----";

/// Why a text is not an Ed25519 public key in SPKI PEM; each says what the
/// reader looked for, in the words of the error it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    /// No line `-----BEGIN PUBLIC KEY-----` starts the PEM.
    Begin,
    /// The body is not one line followed by `-----END PUBLIC KEY-----`.
    End,
    /// The body is not padded standard base64.
    Base64,
    /// The DER is not an Ed25519 `SubjectPublicKeyInfo` (RFC 8410).
    NotEd25519,
    /// The 32 bytes are not an Ed25519 point.
    Point,
}

impl KeyProblem {
    /// The problem in a sentence, lowercase, for the error's message.
    pub fn describe(self) -> &'static str {
        match self {
            KeyProblem::Begin => "no `-----BEGIN PUBLIC KEY-----` line",
            KeyProblem::End => {
                "the key is not one line of base64 followed by `-----END PUBLIC KEY-----`"
            }
            KeyProblem::Base64 => "the key's line is not padded standard base64",
            KeyProblem::NotEd25519 => {
                "the key is not an ed25519 subject public key info (rfc 8410: oid 1.3.101.112, no parameters, 32 bytes)"
            }
            KeyProblem::Point => "the 32 bytes are not a point of edwards25519",
        }
    }
}

/// Reads `text` as an Ed25519 public key in SPKI PEM. As RFC 7468 allows,
/// text before the `BEGIN` line is skipped; lines end in LF, CRLF or CR;
/// one blank line may come before the `END` line and one line ending
/// after it.
pub fn read(text: &str) -> Result<VerifyingKey, KeyProblem> {
    let pem = after_preamble(text).ok_or(KeyProblem::Begin)?;
    let rest = pem.strip_prefix(BEGIN).ok_or(KeyProblem::Begin)?;
    let rest = strip_eol(rest).ok_or(KeyProblem::Begin)?;
    let end = rest.find(['\r', '\n']).ok_or(KeyProblem::End)?;
    let (line, rest) = rest.split_at(end);
    let rest = strip_eol(rest).ok_or(KeyProblem::End)?;
    // The general decoders take one blank line before `END`; so does this.
    let rest = rest
        .strip_prefix(END)
        .or_else(|| strip_eol(rest).and_then(|r| r.strip_prefix(END)))
        .ok_or(KeyProblem::End)?;
    if !(rest.is_empty() || strip_eol(rest) == Some("")) {
        return Err(KeyProblem::End);
    }
    let der = STANDARD.decode(line).map_err(|_| KeyProblem::Base64)?;
    let key = der.strip_prefix(&PREFIX[..]).ok_or(KeyProblem::NotEd25519)?;
    let key: &[u8; 32] = key.try_into().map_err(|_| KeyProblem::NotEd25519)?;
    VerifyingKey::from_bytes(key).map_err(|_| KeyProblem::Point)
}

/// The text from its `BEGIN` line on: at its start or after a line feed;
/// a NUL before it ends the search, as RFC 7468 parsers refuse binary
/// preambles.
fn after_preamble(text: &str) -> Option<&str> {
    let mut at = 0;
    loop {
        let rest = text.get(at..)?;
        if rest.starts_with("-----BEGIN ") {
            return Some(rest);
        }
        let next = rest.find(['\n', '\0'])?;
        if rest.as_bytes().get(next) == Some(&0) {
            return None;
        }
        at += next + 1;
    }
}

/// `text` after one line ending (CRLF, LF or CR) at its start.
fn strip_eol(text: &str) -> Option<&str> {
    text.strip_prefix("\r\n")
        .or_else(|| text.strip_prefix('\n'))
        .or_else(|| text.strip_prefix('\r'))
}
