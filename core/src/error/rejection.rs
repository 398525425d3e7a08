//! The stable codes of signed documents refused: a bad envelope, an
//! unknown or unsuitable key, a signature that does not match.

use crate::error::ErrorCode;

/// Why a signed document (or a key of the key set) is refused; each variant
/// is a stable, documented code. See `docs/signing.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rejection {
    /// The envelope's `format` is not `entitle-signed/1`.
    UnknownEnvelopeFormat,
    /// The payload or the signature is not standard base64.
    InvalidBase64,
    /// The signature does not decode to 64 bytes.
    InvalidSignatureLength,
    /// A key set's `public_key` is not an Ed25519 public key in SPKI PEM.
    InvalidPublicKey,
    /// The envelope names a key the key set does not hold.
    UnknownKeyId,
    /// The key may not sign documents of the envelope's kind.
    KeyNotAllowedForKind,
    /// The signature does not match the payload under the named key.
    BadSignature,
    /// The envelope's kind, its payload's kind and where it is used disagree.
    WrongDocumentKind,
    /// A plain document where keys are given, so a signed one is required.
    SignatureRequired,
    /// A signed document with no keys to check it.
    KeysRequired,
}

impl Rejection {
    /// Every rejection code.
    pub const ALL: [Rejection; 10] = [
        Rejection::UnknownEnvelopeFormat,
        Rejection::InvalidBase64,
        Rejection::InvalidSignatureLength,
        Rejection::InvalidPublicKey,
        Rejection::UnknownKeyId,
        Rejection::KeyNotAllowedForKind,
        Rejection::BadSignature,
        Rejection::WrongDocumentKind,
        Rejection::SignatureRequired,
        Rejection::KeysRequired,
    ];

    /// The stable code.
    pub fn code(self) -> ErrorCode {
        match self {
            Rejection::UnknownEnvelopeFormat => ErrorCode::UnknownEnvelopeFormat,
            Rejection::InvalidBase64 => ErrorCode::InvalidBase64,
            Rejection::InvalidSignatureLength => ErrorCode::InvalidSignatureLength,
            Rejection::InvalidPublicKey => ErrorCode::InvalidPublicKey,
            Rejection::UnknownKeyId => ErrorCode::UnknownKeyId,
            Rejection::KeyNotAllowedForKind => ErrorCode::KeyNotAllowedForKind,
            Rejection::BadSignature => ErrorCode::BadSignature,
            Rejection::WrongDocumentKind => ErrorCode::WrongDocumentKind,
            Rejection::SignatureRequired => ErrorCode::SignatureRequired,
            Rejection::KeysRequired => ErrorCode::KeysRequired,
        }
    }

    /// One line telling the sender how to fix it.
    pub fn help(self) -> &'static str {
        match self {
            Rejection::UnknownEnvelopeFormat => "use `\"format\": \"entitle-signed/1\"`",
            Rejection::InvalidBase64 => {
                "encode the bytes as standard base64 with padding and no line breaks (`base64 -w0`)"
            }
            Rejection::InvalidSignatureLength => {
                "give the 64-byte ed25519 signature, base64 encoded"
            }
            Rejection::InvalidPublicKey => {
                "give the ed25519 public key as `openssl pkey -pubout` writes it (spki pem)"
            }
            Rejection::UnknownKeyId => "add the key to the key set, or sign with a key it holds",
            Rejection::KeyNotAllowedForKind => {
                "sign with a key whose `kinds` include this kind, or widen the key's `kinds`"
            }
            Rejection::BadSignature => {
                "sign the exact payload bytes with the private key of this key id; the document may have been altered"
            }
            Rejection::WrongDocumentKind => {
                "send a bundle where a bundle is expected and a license where a license is, with the matching `kind`"
            }
            Rejection::SignatureRequired => "send the document in a signed envelope",
            Rejection::KeysRequired => "add `keys`, the key set that verifies the envelope",
        }
    }
}
