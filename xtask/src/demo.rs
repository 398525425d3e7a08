//! `cargo xtask demo`: the module built, the CLI's answers for the demo
//! documents printed, and the page served on localhost until interrupted.

use anyhow::{bail, Context};

use crate::{build_wasm, workspace};

/// Runs the task. `--port N` picks the page's port (default 8080).
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let port = match args {
        [] => String::from("8080"),
        [flag, port] if flag == "--port" => port.clone(),
        _ => bail!("usage: cargo xtask demo [--port N]"),
    };
    build_wasm::run(&[])?;
    let now = chrono_now();
    for op in [
        vec!["version"],
        vec!["check", "--feature", "sso"],
        vec!["status"],
    ] {
        let mut command = workspace::cargo();
        command
            .args(["run", "--quiet", "--release", "-p", "entitle-host", "--"])
            .args(&op);
        if op.len() > 1 || op.first() == Some(&"status") {
            command.args([
                "--bundle",
                "examples/bundle.json",
                "--license",
                "examples/license.json",
                "--usage",
                "examples/usage.json",
                "--now",
                &now,
                "--pretty",
            ]);
        }
        println!("\n$ entitle {}", op.join(" "));
        let status = command.status().context("cannot run the entitle CLI")?;
        if !status.success() && op.first() == Some(&"version") {
            bail!("the entitle CLI could not load dist/entitle.wasm");
        }
    }
    println!(
        "\nthe portal, with the demo license: http://127.0.0.1:{port}/web/?demo  (Ctrl-C stops it)"
    );
    let status = std::process::Command::new("node")
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

/// Now, in RFC 3339: the demo passes the clock in, as every caller of the
/// engine does.
fn chrono_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
