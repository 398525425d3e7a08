//! `entitle replay`: gives every decision of a gateway's decision log again
//! with the documents given (the module, the bundle and the licenses the
//! gateway served) and reports any answer that is not the one logged.
//! Exit status 0 when every decision is reproduced, 1 when any is not.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{resolve_module, EXIT_ERROR_OUTCOME, EXIT_OK};
use crate::error::HostError;
use crate::gateway::{replay, DocumentArgs};
use crate::limits::Limits;

/// `entitle replay`.
#[derive(Debug, Args)]
pub(super) struct ReplayArgs {
    /// The decision log (`entitle serve --decision-log`).
    #[arg(long, value_name = "FILE")]
    log: PathBuf,
    #[command(flatten)]
    documents: DocumentArgs,
}

pub(super) fn run(args: ReplayArgs, stdout: &mut dyn Write) -> Result<u8, HostError> {
    let module = resolve_module(args.documents.module());
    let sources = args.documents.sources(module, None);
    let report = replay(&args.log, &sources, Limits::default())?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| HostError::BadResponse {
        detail: format!("a report that does not serialize: {e}"),
    })?;
    writeln!(stdout, "{text}").map_err(|source| HostError::Write { source })?;
    Ok(if report.differ.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR_OUTCOME
    })
}
