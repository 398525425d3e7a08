//! `cargo xtask test`: everything CI proves, on a fresh machine.
//!
//! 1. the wasm32 target of the pinned toolchain (`rustup target add`, a no-op
//!    when it is there);
//! 2. `tests/setup.sh`: Debian's Chromium, the npm packages and the calendar
//!    reference's Python packages, when missing;
//! 3. `cargo xtask build-wasm`: the one module file in `dist/`;
//! 4. `cargo test --workspace`: core, the module's bindings, the host, the
//!    conformance corpus on native, wasmtime, Node and Chromium, the page.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use anyhow::{bail, Context};

use crate::{build_wasm, workspace};

/// Runs the task; extra arguments go to `cargo test` after the workspace flags.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    step("rustup target add wasm32-unknown-unknown");
    let status = std::process::Command::new("rustup")
        .args(["target", "add", "wasm32-unknown-unknown"])
        .current_dir(workspace::root())
        .status()
        .context("cannot run rustup")?;
    if !status.success() {
        bail!("rustup could not add the wasm32-unknown-unknown target");
    }

    step("bash tests/setup.sh");
    let status = std::process::Command::new("bash")
        .arg("tests/setup.sh")
        .current_dir(workspace::root())
        .status()
        .context("cannot run tests/setup.sh")?;
    if !status.success() {
        bail!("tests/setup.sh failed");
    }

    step("cargo xtask build-wasm");
    build_wasm::run(&[])?;

    step("cargo test --workspace");
    let mut child = workspace::cargo()
        // Every test binary runs even after one fails, so one run shows
        // every failure; the run still fails.
        .args(["test", "--workspace", "--locked", "--no-fail-fast"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run cargo test")?;
    let stdout = child
        .stdout
        .take()
        .context("cannot read cargo test's output")?;
    let mut totals = Totals::default();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read cargo test's output")?;
        println!("{line}");
        totals.add(&line);
    }
    let status = child.wait().context("cargo test did not finish")?;
    // One closing line for the whole run: every test binary's results and
    // the corpus's cases, which runs as one test binary of its own.
    println!(
        "\ntotal: {} passed, {} failed",
        totals.passed, totals.failed
    );
    if !status.success() || totals.failed > 0 {
        bail!("cargo test failed");
    }
    Ok(())
}

/// Counts of the `test result:` lines of libtest and the corpus's own
/// `N passed, M failed` line.
#[derive(Default)]
struct Totals {
    passed: u64,
    failed: u64,
}

impl Totals {
    fn add(&mut self, line: &str) {
        let counts = line
            .strip_prefix("test result: ")
            .and_then(|rest| rest.split_once(". "))
            .map(|(_, rest)| rest)
            .or_else(|| line.contains(" passed, ").then_some(line));
        let Some(counts) = counts else { return };
        let number = |word: &str| -> u64 {
            counts
                .split([';', ','])
                .find_map(|part| part.trim().strip_suffix(word)?.trim().parse().ok())
                .unwrap_or(0)
        };
        self.passed += number("passed");
        self.failed += number("failed");
    }
}

fn step(what: &str) {
    println!("\n==> {what}");
}
