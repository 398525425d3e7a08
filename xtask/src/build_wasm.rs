//! `cargo xtask build-wasm`: the one module file and its JS glue in `dist/`.
//!
//! 1. `cargo build -p entitle-wasm --target wasm32-unknown-unknown --profile wasm`
//!    (cargo itself skips the work when nothing changed);
//! 2. wasm-bindgen (the `wasm-bindgen-cli-support` crate, pinned to the same
//!    version as the `wasm-bindgen` crate), `--target web`, out name `entitle`;
//! 3. `dist/entitle.wasm` (renamed from `entitle_bg.wasm`: every loader passes
//!    the module explicitly), `dist/entitle.js`, `dist/entitle.d.ts`,
//!    `dist/entitle.wasm.d.ts`;
//! 4. checks the final module: the byte ABI exports survive, every import is
//!    in the glue's namespace, and no import is reachable from the ABI;
//! 5. `dist/entitle.wasm.sha256` in `sha256sum` format, and the sizes;
//! 6. fails when the module, gzipped, is over the budget in
//!    `wasm/size-budget.toml` (a `--keep-names` build is not held to it).

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context};
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};
use wasm_bindgen_cli_support::Bindgen;

use crate::module_check;
use crate::workspace;

/// The wasm crate's package and library names.
const PACKAGE: &str = "entitle-wasm";
const LIB_NAME: &str = "entitle_wasm";
/// The stem of every file written to `dist/`.
const OUT_NAME: &str = "entitle";
const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm";

/// Runs the task. `--keep-names` keeps the name section (function names in
/// traces and in the checks' messages) at the cost of size.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut keep_names = false;
    for arg in args {
        match arg.as_str() {
            "--keep-names" => keep_names = true,
            other => bail!("unknown argument `{other}` (expected `--keep-names`)"),
        }
    }
    let input = cargo_build()?;
    let dist = workspace::root().join("dist");
    let module = bindgen(&input, &dist, keep_names)?;

    let bytes = fs::read(&module).with_context(|| format!("cannot read `{}`", module.display()))?;
    let report = module_check::check(&bytes)?;
    println!("{report}");

    let hex = sha256_hex(&bytes);
    let sha_path = dist.join(format!("{OUT_NAME}.wasm.sha256"));
    fs::write(&sha_path, format!("{hex}  {OUT_NAME}.wasm\n"))
        .with_context(|| format!("cannot write `{}`", sha_path.display()))?;

    let gzipped = gzip_size(&bytes)?;
    println!("sha256 {hex}  dist/{OUT_NAME}.wasm");
    println!(
        "size {} bytes raw, {} bytes gzipped (level 9)",
        bytes.len(),
        gzipped
    );
    if !keep_names {
        let budget_path = workspace::root().join(BUDGET);
        let text = fs::read_to_string(&budget_path)
            .with_context(|| format!("cannot read `{}`", budget_path.display()))?;
        let budget = budget(&text).with_context(|| format!("in `{BUDGET}`"))?;
        if gzipped > budget {
            bail!(
                "the module is {gzipped} bytes gzipped, over the budget of {budget} in `{BUDGET}` by {}: make it smaller, or raise the budget with a line in BENCHMARKS.md saying why",
                gzipped - budget
            );
        }
        println!(
            "budget {budget} bytes gzipped ({BUDGET}): {} to spare",
            budget - gzipped
        );
    }
    Ok(())
}

/// Where the module's size budget is recorded.
const BUDGET: &str = "wasm/size-budget.toml";

/// The budget's `gzipped_bytes = N` line; comments (`#`) and blank lines
/// aside, nothing else may stand in the file.
fn budget(text: &str) -> anyhow::Result<usize> {
    let mut found = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(value) = line.strip_prefix("gzipped_bytes").map(str::trim_start) else {
            bail!("unexpected line `{line}`: only `gzipped_bytes = <bytes>` and comments");
        };
        let Some(value) = value.strip_prefix('=') else {
            bail!("`{line}` has no `=`");
        };
        let value: usize = value
            .trim()
            .replace('_', "")
            .parse()
            .with_context(|| format!("`{}` is not a whole number of bytes", value.trim()))?;
        if found.replace(value).is_some() {
            bail!("`gzipped_bytes` is given twice");
        }
    }
    found.context("no `gzipped_bytes = <bytes>` line")
}

/// Builds the cdylib and returns the path cargo reports for it.
///
/// Source paths are remapped (the checkout to `entitle`, cargo's home to
/// `cargo`), so the module's bytes, and its sha256, do not depend on where
/// the repository or the registry sit on the building machine.
fn cargo_build() -> anyhow::Result<PathBuf> {
    let root = workspace::root();
    let cargo_home = std::env::var("CARGO_HOME")
        .ok()
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|home| format!("{home}/.cargo"))
        })
        .unwrap_or_default();
    let rustflags = format!(
        "target.{TARGET}.rustflags=[\"--remap-path-prefix={}=entitle\", \"--remap-path-prefix={cargo_home}=cargo\"]",
        root.display()
    );
    let mut command = workspace::cargo();
    command
        .args(["build", "--package", PACKAGE, "--lib", "--target", TARGET])
        .args(["--config", &rustflags])
        .args([
            "--profile",
            PROFILE,
            "--message-format=json-render-diagnostics",
        ])
        // The profile strips debug info only: wasm-bindgen reads the enabled
        // wasm features (reference types) from the `target_features` section,
        // which a full strip removes, and drops the names itself afterwards.
        .stdout(Stdio::piped());
    let mut child = command.spawn().context("cannot start cargo")?;
    let stdout = child.stdout.take().context("cannot read cargo's output")?;
    let mut artifact = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read cargo's output")?;
        if let Some(path) = wasm_artifact(&line) {
            artifact = Some(path);
        }
    }
    let status = child.wait().context("cargo did not finish")?;
    if !status.success() {
        bail!("cargo build of `{PACKAGE}` failed ({status})");
    }
    artifact.with_context(|| format!("cargo built no `{LIB_NAME}.wasm`"))
}

/// The `.wasm` file of the wasm crate, from one line of cargo's JSON messages.
fn wasm_artifact(line: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    if message.get("target")?.get("name")?.as_str()? != LIB_NAME {
        return None;
    }
    message
        .get("filenames")?
        .as_array()?
        .iter()
        .filter_map(|name| name.as_str())
        .find(|name| name.ends_with(".wasm"))
        .map(PathBuf::from)
}

/// Runs wasm-bindgen into a staging directory, then moves the results into
/// `dist/` under their final names. Returns the path of `dist/entitle.wasm`.
fn bindgen(input: &Path, dist: &Path, keep_names: bool) -> anyhow::Result<PathBuf> {
    let staging = dist.join(".staging");
    if staging.exists() {
        fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot clear `{}`", staging.display()))?;
    }
    let mut bindgen = Bindgen::new();
    bindgen
        .input_path(input)
        .out_name(OUT_NAME)
        .web(true)
        .context("wasm-bindgen refused the web target")?
        .typescript(true)
        .remove_name_section(!keep_names)
        .remove_producers_section(true);
    bindgen
        .generate(&staging)
        .with_context(|| format!("wasm-bindgen failed on `{}`", input.display()))?;

    let bg_prefix = format!("{OUT_NAME}_bg.");
    let entries =
        fs::read_dir(&staging).with_context(|| format!("cannot list `{}`", staging.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list `{}`", staging.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let target_name = match name.strip_prefix(&bg_prefix) {
            Some(rest) => format!("{OUT_NAME}.{rest}"),
            None => name.clone(),
        };
        let target = dist.join(&target_name);
        if target.is_dir() {
            fs::remove_dir_all(&target)
                .with_context(|| format!("cannot replace `{}`", target.display()))?;
        }
        fs::rename(entry.path(), &target)
            .with_context(|| format!("cannot move `{name}` to `{}`", target.display()))?;
    }
    fs::remove_dir(&staging).with_context(|| format!("cannot remove `{}`", staging.display()))?;

    let module = dist.join(format!("{OUT_NAME}.wasm"));
    if !module.is_file() {
        bail!("wasm-bindgen wrote no `{OUT_NAME}_bg.wasm`");
    }
    Ok(module)
}

/// Lowercase hex sha256, as `sha256sum` prints it.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The size of the bytes gzipped at the best compression level.
fn gzip_size(bytes: &[u8]) -> anyhow::Result<usize> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).context("gzip failed")?;
    Ok(encoder.finish().context("gzip failed")?.len())
}

#[cfg(test)]
mod tests {
    use super::budget;

    #[test]
    fn the_budget_is_one_number_of_bytes() {
        assert_eq!(
            budget("# c\n\ngzipped_bytes = 450_000\n").ok(),
            Some(450_000)
        );
        assert_eq!(budget("gzipped_bytes=1").ok(), Some(1));
        assert!(budget("").is_err());
        assert!(budget("gzipped_bytes = 1\ngzipped_bytes = 2").is_err());
        assert!(budget("gzipped_bytes = 4.5e5").is_err());
        assert!(budget("raw_bytes = 1").is_err());
    }

    #[test]
    fn the_recorded_budget_reads() {
        let text = include_str!("../../wasm/size-budget.toml");
        assert!(budget(text).is_ok_and(|bytes| bytes > 0));
    }
}
