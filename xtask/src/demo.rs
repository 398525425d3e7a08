//! `cargo xtask demo`: the module and the CLI built (with cargo's progress
//! shown), the CLI's answers for the demo documents printed, and the page
//! served on localhost until interrupted.
//!
//! The demo documents tell of one instant: on 2026-11-22 at 10:00 UTC the
//! Northwind license is in its grace period after launch week. The demo
//! decides at that instant by default, in the CLI and on the page
//! (`?now=`), so the story holds whenever it is run; `--live` uses the
//! clock instead. `ENTITLE_DEMO_CLI` names an `entitle` executable to use
//! instead of building one.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use crate::{build_wasm, workspace};

/// The instant the example documents tell of (README, `entitle check`).
pub const EXAMPLES_NOW: &str = "2026-11-22T10:00:00Z";

fn usage() -> String {
    format!(
        "usage: cargo xtask demo [--port N] [--live]\n\n  --port N  the page's port (default 8080)\n  --live    decide at the clock's instant instead of the examples' ({EXAMPLES_NOW})"
    )
}

/// Runs the task. `--port N` picks the page's port (default 8080); `--live`
/// decides at the clock's instant instead of [`EXAMPLES_NOW`].
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut port = String::from("8080");
    let mut live = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" => match rest.next() {
                Some(value) if value.parse::<u16>().is_ok() => port.clone_from(value),
                _ => bail!("`--port` takes a port number\n\n{}", usage()),
            },
            "--live" => live = true,
            other => bail!("unknown argument `{other}`\n\n{}", usage()),
        }
    }

    println!("building the module (dist/entitle.wasm) with cargo; its progress follows");
    build_wasm::run(&[])?;
    let entitle = match std::env::var_os("ENTITLE_DEMO_CLI") {
        // A CLI built already, as the README test gives its own: a plain
        // `cargo build` of the host unifies features otherwise than the
        // test build and would compile wasmtime a second time.
        Some(path) => {
            println!(
                "\nusing the entitle CLI at {}",
                PathBuf::from(&path).display()
            );
            PathBuf::from(path)
        }
        None => {
            println!("\nbuilding the entitle CLI with cargo; its progress follows");
            build_cli()?
        }
    };

    let now = if live {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    } else {
        String::from(EXAMPLES_NOW)
    };
    if live {
        println!("\ndeciding at the clock's instant, {now} (--live)");
    } else {
        println!(
            "\ndeciding at {now}, the instant the example documents tell of (--live for the clock)"
        );
    }
    for op in [
        vec!["version"],
        vec!["check", "--feature", "sso"],
        vec!["check", "--metric", "api_calls", "--amount", "100"],
        vec!["status"],
    ] {
        let mut command = Command::new(&entitle);
        command.args(&op).current_dir(workspace::root());
        let mut shown = op.clone();
        if op.first() != Some(&"version") {
            let documents = [
                "--bundle",
                "examples/bundle.json",
                "--license",
                "examples/license.json",
                "--usage",
                "examples/usage.json",
                "--now",
                &now,
            ];
            command.args(documents).arg("--pretty");
            shown.extend(documents);
        }
        println!("\n$ entitle {}", shown.join(" "));
        let status = command.status().context("cannot run the entitle CLI")?;
        if !status.success() && op.first() == Some(&"version") {
            bail!("the entitle CLI could not load dist/entitle.wasm");
        }
    }

    let page = if live {
        format!("http://127.0.0.1:{port}/web/?demo")
    } else {
        format!("http://127.0.0.1:{port}/web/?demo&now={now}")
    };
    println!("\nthe portal, with the demo license: {page}  (Ctrl-C stops it)");
    if !live {
        println!("(the page decides at {now} too; without `now` in the address it uses the browser's clock)");
    }
    let status = Command::new("node")
        .arg("web/serve.mjs")
        .env("PORT", &port)
        .current_dir(workspace::root())
        .status()
        .context("cannot run node web/serve.mjs")?;
    if !status.success() {
        bail!("the page server stopped with {status}");
    }
    Ok(())
}

/// Builds the `entitle` binary (the dev profile, which the tests build
/// too) with cargo's progress on the terminal, and returns its path as
/// cargo reports it.
fn build_cli() -> anyhow::Result<PathBuf> {
    let mut child = workspace::cargo()
        .args(["build", "--package", "entitle-host", "--bin", "entitle"])
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start cargo")?;
    let stdout = child.stdout.take().context("cannot read cargo's output")?;
    let mut executable = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read cargo's output")?;
        if let Some(path) = entitle_executable(&line) {
            executable = Some(path);
        }
    }
    let status = child.wait().context("cargo did not finish")?;
    if !status.success() {
        bail!("cargo build of the entitle CLI failed ({status})");
    }
    executable.context("cargo built no `entitle` executable")
}

/// The `entitle` executable, from one line of cargo's JSON messages.
fn entitle_executable(line: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    if message.get("target")?.get("name")?.as_str()? != "entitle" {
        return None;
    }
    message.get("executable")?.as_str().map(PathBuf::from)
}
