//! `entitle keys new`, `entitle sign` and `entitle verify`: making Ed25519
//! keys, signing a document's exact bytes, and verifying an envelope
//! through the engine the flags choose.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::words::Sources;
use super::{answer, outcome_status, print_answer, read_input, EngineArgs, Streams, EXIT_OK};
use crate::error::HostError;
use crate::native::Native;
use crate::request::RequestBuilder;
use crate::signing;
use entitle_core::DocumentKind;
use entitle_core::Op;

#[derive(Debug, Args)]
pub(super) struct KeysArgs {
    #[command(subcommand)]
    pub(super) command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub(super) enum KeysCommand {
    /// Write ID.pem (PKCS#8 private key, mode 0600) and ID.pub.pem into DIR
    /// (created if missing), and print a key set holding the public key,
    /// which `verify --keys` and `--keys` take (`> keys.json`).
    New(NewKeyArgs),
}

#[derive(Debug, Args)]
pub(super) struct NewKeyArgs {
    /// The key id envelopes will name.
    #[arg(long, value_name = "ID")]
    id: String,
    /// The folder to write the two files into; created if missing.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// The kind of a signed document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// A bundle.
    Bundle,
    /// A license.
    License,
}

impl From<KindArg> for DocumentKind {
    fn from(kind: KindArg) -> DocumentKind {
        match kind {
            KindArg::Bundle => DocumentKind::Bundle,
            KindArg::License => DocumentKind::License,
        }
    }
}

#[derive(Debug, Args)]
pub(super) struct SignArgs {
    /// The private key, PKCS#8 PEM (`entitle keys new` or `openssl genpkey -algorithm ed25519`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The key's id in the verifiers' key set.
    #[arg(long, value_name = "ID")]
    key_id: String,
    /// What the document is.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// The document to sign (its exact bytes are signed), or `-` for stdin.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

#[derive(Debug, Args)]
pub(super) struct VerifyArgs {
    /// The key set, `{"keys":[...]}`.
    #[arg(long, value_name = "FILE")]
    keys: PathBuf,
    /// The kind the document must be.
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// Also list the reasons the document's own times give at this instant.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// The signed document (an envelope), or `-` for stdin.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Indent the answer.
    #[arg(long)]
    pretty: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

/// `entitle keys new`.
pub(super) fn new_key(args: &NewKeyArgs, stdout: &mut dyn Write) -> Result<u8, HostError> {
    std::fs::create_dir_all(&args.out).map_err(|source| HostError::WriteFile {
        path: args.out.display().to_string(),
        source,
    })?;
    let made = signing::new_key(&args.id, &args.out)?;
    writeln!(stdout, r#"{{"keys":[{}]}}"#, made.entry)
        .map_err(|source| HostError::Write { source })?;
    Ok(EXIT_OK)
}

/// `entitle sign`: signs the file's exact bytes, then has core verify the
/// envelope with the key's public half, so that an envelope every verifier
/// would refuse (a license signed as a bundle, say) is never printed: the
/// engine's error envelope is, with exit status 1.
pub(super) fn sign(
    args: &SignArgs,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
) -> Result<u8, HostError> {
    let pem =
        std::fs::read_to_string(&args.key).map_err(|source| HostError::read(&args.key, source))?;
    let key = signing::read_private_key(&args.key.display().to_string(), &pem)?;
    let payload = read_input(&args.file, stdin)?;
    let kind = DocumentKind::from(args.kind);
    let envelope = signing::envelope(&key, &args.key_id, kind, &payload);
    let public = signing::public_key_pem(&key)?;
    let keys = format!(
        r#"{{"keys":[{}]}}"#,
        signing::key_set_entry(&args.key_id, &public, &[kind])
    );
    let mut check = RequestBuilder::new(Op::Verify);
    check.document("keys", "the key set", keys.as_bytes())?;
    check.document("document", "the envelope", envelope.as_bytes())?;
    check.string("kind", kind.as_str());
    let verdict = Native::new().evaluate(&check.finish());
    if outcome_status(&verdict)? != EXIT_OK {
        return print_answer(verdict, false, stdout);
    }
    writeln!(stdout, "{envelope}").map_err(|source| HostError::Write { source })?;
    Ok(EXIT_OK)
}

/// `entitle verify`: the `verify` op, through the engine the flags name.
pub(super) fn verify(
    args: &VerifyArgs,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, HostError> {
    let keys = std::fs::read(&args.keys).map_err(|source| HostError::read(&args.keys, source))?;
    let document = read_input(&args.file, stdin)?;
    let mut sources = Sources::new(Op::Verify);
    let (keys_name, document_name) = (
        args.keys.display().to_string(),
        args.file.display().to_string(),
    );
    let mut request = RequestBuilder::new(Op::Verify);
    request.document("keys", &keys_name, &keys)?;
    sources.file("keys", "--keys", &keys_name);
    request.document("document", &document_name, &document)?;
    sources.file("document", "<FILE>", &document_name);
    if let Some(kind) = args.kind {
        request.string("kind", DocumentKind::from(kind).as_str());
        sources.flag("kind", "--kind");
    }
    if let Some(now) = &args.now {
        request.string("now", now);
        sources.flag("now", "--now");
    }
    let mut streams = Streams { stdout, stderr };
    answer(
        &request.finish(),
        &args.engine,
        args.pretty,
        &sources,
        &mut streams,
    )
}
