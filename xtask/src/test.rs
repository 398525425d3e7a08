//! `cargo xtask test`: everything CI proves, on a fresh machine.
//!
//! 1. the wasm32 target of the pinned toolchain (`rustup target add`, a no-op
//!    when it is there);
//! 2. `tests/setup.sh`: Debian's Chromium and the npm packages, when missing;
//! 3. `cargo xtask build-wasm`: the one module file in `dist/`;
//! 4. `cargo test --workspace`: core, the module's bindings, the host, the
//!    conformance corpus on native, wasmtime, Node and Chromium, the page.

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
    let status = workspace::cargo()
        .args(["test", "--workspace", "--locked"])
        .args(args)
        .status()
        .context("cannot run cargo test")?;
    if !status.success() {
        bail!("cargo test failed");
    }
    Ok(())
}

fn step(what: &str) {
    println!("\n==> {what}");
}
