//! `entitle version`: the engine's version, the byte ABI's, and the module
//! file with its sha256.

use std::io::Write;

use clap::Args;

use super::{open, EngineArgs, EXIT_OK};
use crate::error::HostError;
use crate::runtime::RuntimeInfo;

#[derive(Debug, Args)]
pub(super) struct VersionArgs {
    /// Print a JSON object instead of lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

/// `entitle version`.
pub(super) fn version(args: &VersionArgs, stdout: &mut dyn Write) -> Result<u8, HostError> {
    let runtime = open(&args.engine)?;
    let info = runtime.info();
    let text = if args.json {
        version_json(&info)
    } else {
        version_lines(&info)
    };
    write!(stdout, "{text}").map_err(|source| HostError::Write { source })?;
    Ok(EXIT_OK)
}

fn version_lines(info: &RuntimeInfo) -> String {
    let mut text = format!(
        "runtime {}\nengine {}\nabi {}\n",
        info.runtime, info.engine_version, info.abi_version
    );
    if let Some(path) = &info.module_path {
        text.push_str(&format!("module {}\n", path.display()));
    }
    if let Some(sha256) = &info.module_sha256 {
        text.push_str(&format!("sha256 {sha256}\n"));
    }
    text
}

fn version_json(info: &RuntimeInfo) -> String {
    let value = serde_json::json!({
        "runtime": info.runtime,
        "engine": info.engine_version,
        "abi": info.abi_version,
        "module": info.module_path.as_ref().map(|p| p.display().to_string()),
        "sha256": info.module_sha256,
    });
    format!("{value}\n")
}
