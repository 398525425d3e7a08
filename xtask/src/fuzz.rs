//! `cargo xtask fuzz [--seconds N] [target ...]`: the cargo-fuzz targets of
//! `fuzz/` (every entry that takes bytes from outside), seeded with the
//! conformance corpus's requests, each run for N seconds (60 when not
//! given). Installs what it needs: the nightly toolchain (rustup) and
//! cargo-fuzz (crates.io). Where nightly cannot be installed it says so and
//! skips, as CI's smoke run must not fail for want of a toolchain; a finding
//! fails the task and names the input libFuzzer saved.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use crate::workspace;

/// The targets, and the seeds each starts from.
const TARGETS: &[(&str, Seeds)] = &[
    ("json_stateless", Seeds::Corpus),
    ("json_preloaded", Seeds::Corpus),
    ("load_documents", Seeds::Examples),
    ("compact", Seeds::Compact),
];

/// Where a target's first inputs come from.
#[derive(Clone, Copy)]
enum Seeds {
    /// Every conformance case's request bytes.
    Corpus,
    /// The documents of `examples/`.
    Examples,
    /// The ask records of the corpus's compact checks, each behind a byte
    /// naming its feature or metric (`fuzz/fuzz_targets/compact.rs`).
    Compact,
}

/// CI's smoke run: every target for 30 seconds.
pub fn smoke(_: &[String]) -> anyhow::Result<()> {
    run(&[String::from("--seconds"), String::from("30")])
}

/// Runs the task.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let (seconds, chosen) = parse(args)?;
    if !nightly()? {
        println!(
            "fuzz: skipped: the nightly toolchain cannot be installed here (`rustup toolchain install nightly` failed); the targets need it for libFuzzer's instrumentation"
        );
        return Ok(());
    }
    cargo_fuzz()?;
    let root = workspace::root();
    let fuzz = root.join("fuzz");
    let seeds = fuzz.join("corpus").join("seeds");
    let status = workspace::cargo()
        .args(["run", "--quiet", "--locked", "-p", "entitle-conformance"])
        .args(["--example", "fuzz_seeds", "--"])
        .arg(&seeds)
        .status()
        .context("cannot run the fuzz_seeds example")?;
    if !status.success() {
        bail!("writing the seed corpus failed");
    }
    let status = workspace::cargo()
        .args(["run", "--quiet", "--locked", "-p", "entitle-conformance"])
        .args(["--example", "fuzz_seeds", "--", "--compact"])
        .arg(fuzz.join("corpus").join("compact_seeds"))
        .status()
        .context("cannot run the fuzz_seeds example")?;
    if !status.success() {
        bail!("writing the compact seed corpus failed");
    }
    for (target, seed) in TARGETS
        .iter()
        .filter(|(name, _)| chosen.is_empty() || chosen.iter().any(|c| c == name))
    {
        let corpus = fuzz.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        match seed {
            Seeds::Corpus => copy_files(&seeds, &corpus)?,
            Seeds::Examples => copy_files(&root.join("examples"), &corpus)?,
            Seeds::Compact => copy_files(&fuzz.join("corpus").join("compact_seeds"), &corpus)?,
        }
        println!("\n==> fuzz {target} for {seconds} s");
        let status = nightly_cargo(&fuzz)
            .args(["fuzz", "run", "-O", target])
            .arg(&corpus)
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-max_len=65536",
                "-rss_limit_mb=2048",
                "-print_final_stats=1",
            ])
            .status()
            .with_context(|| format!("cannot run `cargo fuzz run {target}`"))?;
        if !status.success() {
            bail!(
                "fuzz target `{target}` found an input that fails: see fuzz/artifacts/{target}/ and rerun it with `cargo +nightly fuzz run {target} <file>` in fuzz/"
            );
        }
    }
    Ok(())
}

/// `--seconds N` and the targets named; every target when none is.
fn parse(args: &[String]) -> anyhow::Result<(u64, Vec<String>)> {
    let mut seconds = 60;
    let mut chosen = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            let value = args.next().context("`--seconds` takes a number")?;
            seconds = value
                .parse()
                .with_context(|| format!("`--seconds {value}` is not a whole number"))?;
        } else if TARGETS.iter().any(|(name, _)| name == arg) {
            chosen.push(arg.clone());
        } else {
            let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
            bail!(
                "unknown argument `{arg}`: `--seconds N` and the targets {}",
                names.join(", ")
            );
        }
    }
    Ok((seconds, chosen))
}

/// Whether the nightly toolchain is there, installing it when it is not.
fn nightly() -> anyhow::Result<bool> {
    if nightly_present() {
        return Ok(true);
    }
    let installed = Command::new("rustup")
        .args(["toolchain", "install", "nightly", "--profile", "minimal"])
        .status()
        .is_ok_and(|status| status.success());
    Ok(installed && nightly_present())
}

fn nightly_present() -> bool {
    Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// cargo-fuzz, installed from crates.io when it is missing.
fn cargo_fuzz() -> anyhow::Result<()> {
    let present = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if present {
        return Ok(());
    }
    let status = workspace::cargo()
        .args(["install", "cargo-fuzz", "--locked", "--version", "0.13.2"])
        .status()
        .context("cannot run `cargo install cargo-fuzz`")?;
    if !status.success() {
        bail!("`cargo install cargo-fuzz` failed");
    }
    Ok(())
}

/// `cargo` through rustup on the nightly toolchain, in `dir` (the root's
/// rust-toolchain.toml would otherwise pin the stable one).
fn nightly_cargo(dir: &Path) -> Command {
    let mut command = Command::new("cargo");
    command.current_dir(dir).env("RUSTUP_TOOLCHAIN", "nightly");
    // The stable cargo that runs xtask sets these for itself; the nightly
    // one finds its own.
    for var in ["CARGO", "RUSTC", "RUSTDOC", "CARGO_MANIFEST_DIR"] {
        command.env_remove(var);
    }
    command
}

/// Copies every file of `from` into `to`, keeping any already there.
fn copy_files(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let path = entry?.path();
        if let (true, Some(name)) = (path.is_file(), path.file_name()) {
            let target = to.join(name);
            if !target.exists() {
                std::fs::copy(&path, &target)
                    .with_context(|| format!("copying {}", path.display()))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn seconds_and_targets_are_read() {
        assert_eq!(parse(&[]).ok(), Some((60, vec![])));
        assert_eq!(
            parse(&args(&["--seconds", "5", "json_preloaded"])).ok(),
            Some((5, args(&["json_preloaded"])))
        );
        assert!(parse(&args(&["--seconds"])).is_err());
        assert!(parse(&args(&["--seconds", "x"])).is_err());
        assert!(parse(&args(&["no_such_target"])).is_err());
    }
}
