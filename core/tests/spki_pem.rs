//! The key set's SPKI PEM reader (`reading::spki`) against the general PEM
//! and SPKI decoders of ed25519-dalek (`pkcs8` and `pem` features, the
//! reader the module used before): on keys written by the library, and on
//! every mutation below, both take the same key or both refuse.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use entitle_core::reading::spki::{self, KeyProblem};
use proptest::prelude::*;

/// What each reader makes of `text`: the key's bytes, or that it refused.
fn both(text: &str) -> (Option<[u8; 32]>, Option<[u8; 32]>) {
    let ours = spki::read(text).ok().map(|k| k.to_bytes());
    let theirs = VerifyingKey::from_public_key_pem(text)
        .ok()
        .map(|k| k.to_bytes());
    (ours, theirs)
}

fn pem_of(key: &VerifyingKey, ending: LineEnding) -> String {
    key.to_public_key_pem(ending).unwrap()
}

fn key(seed: [u8; 32]) -> VerifyingKey {
    SigningKey::from_bytes(&seed).verifying_key()
}

const ENDINGS: [LineEnding; 3] = [LineEnding::LF, LineEnding::CRLF, LineEnding::CR];

#[test]
fn the_documented_example_reads() {
    let text = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAu5A50aSR/GWrAyy3zSMTjFyMZO/GVGkCPzVrhheu9Yo=\n-----END PUBLIC KEY-----\n";
    let (ours, theirs) = both(text);
    assert!(ours.is_some());
    assert_eq!(ours, theirs);
}

#[test]
fn one_blank_line_before_the_end_is_taken_as_the_decoders_take_it() {
    let b = "MCowBQYDK2VwAyEAu5A50aSR/GWrAyy3zSMTjFyMZO/GVGkCPzVrhheu9Yo=";
    for (text, read) in [
        (
            format!("-----BEGIN PUBLIC KEY-----\n{b}\n\n-----END PUBLIC KEY-----\n"),
            true,
        ),
        (
            format!("-----BEGIN PUBLIC KEY-----\r\n{b}\r\n\r\n-----END PUBLIC KEY-----"),
            true,
        ),
        (
            format!("-----BEGIN PUBLIC KEY-----\n{b}\n\n\n-----END PUBLIC KEY-----\n"),
            false,
        ),
        (
            format!("-----BEGIN PUBLIC KEY-----\n\n{b}\n-----END PUBLIC KEY-----\n"),
            false,
        ),
        (
            format!("-----BEGIN PUBLIC KEY-----\n{b} \n-----END PUBLIC KEY-----\n"),
            false,
        ),
        (
            format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
                &b[..30],
                &b[30..]
            ),
            false,
        ),
        (
            format!("-----BEGIN PUBLIC KEY-----\n{b}\n-----END PUBLIC KEY-----\n\n"),
            false,
        ),
    ] {
        let (ours, theirs) = both(&text);
        assert_eq!(ours.is_some(), read, "{text:?}");
        assert_eq!(ours, theirs, "{text:?}");
    }
}

#[test]
fn each_problem_is_named() {
    let good = pem_of(&key([7; 32]), LineEnding::LF);
    let cases = [
        ("", KeyProblem::Begin),
        (&good.replace("PUBLIC KEY", "PRIVATE KEY"), KeyProblem::Begin),
        (&good.replace("-----END PUBLIC KEY-----\n", ""), KeyProblem::End),
        (&good.replacen('M', "*", 1), KeyProblem::Base64),
        (&good.replace('=', ""), KeyProblem::Base64),
        (
            "-----BEGIN PUBLIC KEY-----\nMCwwBwYDK2VwBQADIQC7kDnpJJH8ZasDLLfNIxOMXIxk78ZUaQI/NWuGF675Vg==\n-----END PUBLIC KEY-----\n",
            KeyProblem::NotEd25519,
        ),
    ];
    for (text, problem) in cases {
        assert_eq!(spki::read(text).err(), Some(problem), "{text:?}");
        assert_eq!(both(text).1, None, "the library takes {text:?}");
    }
}

#[test]
fn a_key_that_is_not_a_point_is_refused_by_both() {
    // y = 2 is not the y of any point of edwards25519 (x² would be a
    // non-square); the DER around it is well formed.
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    let mut y = [0u8; 32];
    y[0] = 2;
    der.extend_from_slice(&y);
    use base64::Engine as _;
    let text = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&der)
    );
    assert!(VerifyingKey::from_bytes(&y).is_err(), "y = 2 decompresses");
    assert_eq!(spki::read(&text).err(), Some(KeyProblem::Point));
    assert_eq!(both(&text).1, None);
}

/// Mutations of a well-formed key's PEM text.
#[derive(Debug, Clone)]
enum Mutation {
    None,
    /// Replace the byte at (position mod length) with this one.
    Replace(usize, u8),
    /// Insert a byte at (position mod length + 1).
    Insert(usize, u8),
    /// Remove the byte at (position mod length).
    Remove(usize),
    /// Keep the first (position mod length) bytes.
    Truncate(usize),
    /// Text before the PEM.
    Preamble(String),
    /// Text after it.
    After(String),
    /// The DER's byte at (position mod 44) replaced, re-encoded.
    Der(usize, u8),
    /// The DER with bytes appended, re-encoded.
    DerLonger(Vec<u8>),
    /// The body split into two lines at (position mod 60).
    Split(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"\r\n -=+/A0az\t:\0".to_vec()),
    ];
    prop_oneof![
        Just(Mutation::None),
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
        prop::sample::select(vec![
            "x\n",
            "comment line\r\n",
            "a\0b\n",
            "\n\n",
            "-----\n",
            "x"
        ])
        .prop_map(|s| Mutation::Preamble(s.to_string())),
        prop::sample::select(vec![
            "\n",
            "\r\n",
            "\n\n",
            " ",
            "x",
            "\n-----BEGIN X-----\n"
        ])
        .prop_map(|s| Mutation::After(s.to_string())),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Der(i, b)),
        prop::collection::vec(any::<u8>(), 1..4).prop_map(Mutation::DerLonger),
        any::<usize>().prop_map(Mutation::Split),
    ]
}

fn apply(der: &[u8], text: &str, m: &Mutation) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let mut bytes = text.as_bytes().to_vec();
    let n = bytes.len();
    match m {
        Mutation::None => {}
        Mutation::Replace(i, b) => bytes[i % n] = *b,
        Mutation::Insert(i, b) => bytes.insert(i % n + 1, *b),
        Mutation::Remove(i) => {
            bytes.remove(i % n);
        }
        Mutation::Truncate(i) => bytes.truncate(i % n),
        Mutation::Preamble(p) => bytes.splice(0..0, p.bytes()).for_each(drop),
        Mutation::After(a) => bytes.extend_from_slice(a.as_bytes()),
        Mutation::Der(i, b) => {
            let mut d = der.to_vec();
            let at = i % d.len();
            d[at] = *b;
            bytes = text.replace(&b64(der), &b64(&d)).into_bytes();
        }
        Mutation::DerLonger(extra) => {
            let mut d = der.to_vec();
            d.extend_from_slice(extra);
            bytes = text.replace(&b64(der), &b64(&d)).into_bytes();
        }
        Mutation::Split(i) => {
            let body = b64(der);
            let at = i % body.len();
            let split = format!("{}\n{}", &body[..at], &body[at..]);
            bytes = text.replace(&body, &split).into_bytes();
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn agrees_with_the_general_decoders(
        seed in any::<[u8; 32]>(),
        raw in any::<bool>(),
        ending in 0usize..3,
        m in mutation(),
    ) {
        // Half the keys are random bytes, most of them no point at all.
        let der: Vec<u8> = if raw {
            let mut d = vec![0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
            d.extend_from_slice(&seed);
            d
        } else {
            key(seed).to_public_key_der().unwrap().as_bytes().to_vec()
        };
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(&der);
        let eol = ["\n", "\r\n", "\r"][ending];
        let text = format!("-----BEGIN PUBLIC KEY-----{eol}{body}{eol}-----END PUBLIC KEY-----{eol}");
        if !raw {
            prop_assert_eq!(&text, &pem_of(&key(seed), ENDINGS[ending]));
        }
        let mutated = apply(&der, &text, &m);
        // Both read text; bytes that are not UTF-8 are refused before either.
        if let Ok(mutated) = std::str::from_utf8(&mutated) {
            let (ours, theirs) = both(mutated);
            prop_assert_eq!(ours, theirs, "{:?}", mutated);
        }
    }
}
