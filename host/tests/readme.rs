//! Every command of README.md's `sh` blocks, run as written and checked.
//!
//! The commands run in a scratch folder that stands for the repository's
//! root: every top-level entry of the repository (but `target/`) is linked
//! into it, so `examples/…`, `web/…` and `dist/…` are the real ones while
//! what the commands write (`keys/`, `license.signed.json`, `meter.db`,
//! `decisions.jsonl`) stays out of the checkout. `entitle` is this package's
//! binary, first on `PATH`; each line runs in `bash -c`, so redirections run
//! as written. The only change made to a command is the port of a server:
//! a test listens on free ports, so `8414` (the gateway's default) and
//! `8080` (the page's) are replaced in the block's lines, and a gateway
//! started without `--listen` gets one.
//!
//! Servers (`entitle serve`, `node web/serve.mjs`, `cargo xtask demo`) are
//! started in their own process group, probed, and stopped (by that group's
//! id) at the end of their block. A command this test does not know how to
//! run fails it, as does any command that exits non-zero or answers nothing.
//! `cargo xtask test` is the one command not run: it runs this test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

#[path = "readme/blocks.rs"]
mod blocks;
#[path = "readme/expect.rs"]
mod expect;
#[path = "readme/process.rs"]
mod process;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use blocks::{blocks, is_assignment, kind, readme, Kind};
use expect::{check_answer, license_id};
use process::{bash, root_copy, run, stop_group, Server, COMMAND_TIMEOUT};
use support::{agent, free_port, get, root, scratch};

/// The instant the example documents tell of.
const EXAMPLES_NOW: &str = "2026-11-22T10:00:00Z";
/// How long `cargo xtask demo` may take to build and serve the page.
const DEMO_TIMEOUT: Duration = Duration::from_secs(3600);

/// Runs one command and checks it.
fn run_and_check(command: &str, dir: &Path) {
    let mut out = run(command, dir);
    // The decision log is written by a thread of the gateway's own: give
    // the line the gateway is writing a moment to land.
    let mut tries = 0;
    while command.starts_with("entitle replay")
        && out.status.success()
        && out.stdout.contains("\"decisions\":0")
        && tries < 50
    {
        std::thread::sleep(Duration::from_millis(100));
        out = run(command, dir);
        tries += 1;
    }
    assert!(
        out.status.success(),
        "`{command}` exited with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    let redirected = command.contains('>');
    assert!(
        redirected || !out.stdout.trim().is_empty(),
        "`{command}` printed nothing\nstderr:\n{}",
        out.stderr
    );
    check_answer(command, &out, dir);
}

/// Starts a server command and waits until it answers.
fn start(command: &str, dir: &Path, gateway_port: u16, page_port: u16) -> Server {
    let mut command = command.to_string();
    let gateway = command.contains("entitle serve");
    if gateway && !command.contains("--listen") {
        command.push_str(&format!(" --listen 127.0.0.1:{gateway_port}"));
    }
    let log = dir.join(format!("server-{}.log", free_port()));
    let file = std::fs::File::create(&log).unwrap();
    // `exec` so that the server is the process started, after any
    // `NAME=value` assignments, which then apply to it.
    let mut rest = command.trim_start();
    while let Some(word) = rest.split_whitespace().next().filter(|w| is_assignment(w)) {
        rest = rest[word.len()..].trim_start();
    }
    let assignments = &command[..command.len() - rest.len()];
    let child = bash(&format!("{assignments}exec {rest}"), dir)
        .env("PORT", page_port.to_string())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .process_group(0)
        .spawn()
        .unwrap();
    let mut server = Server {
        command,
        child,
        log,
    };
    let http = agent();
    let url = if gateway {
        format!("http://127.0.0.1:{gateway_port}/healthz")
    } else {
        format!("http://127.0.0.1:{page_port}/web/")
    };
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    loop {
        if let Ok(answer) = get(&http, &url, &[]) {
            if answer.status == 200 {
                break;
            }
        }
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!(
                "`{}` stopped ({status}):\n{}",
                server.command,
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "`{}` did not answer {url}",
            server.command
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    probe(&server, gateway_port, page_port);
    server
}

/// What a started server must answer.
fn probe(server: &Server, gateway_port: u16, page_port: u16) {
    let http = agent();
    let command = server.command.as_str();
    if command.contains("entitle serve") {
        let health = get(
            &http,
            &format!("http://127.0.0.1:{gateway_port}/healthz"),
            &[],
        )
        .unwrap()
        .json();
        assert_eq!(health["licenses"], 1, "`{command}`: {health}");
        assert_eq!(health["refused_licenses"], 0, "`{command}`: {health}");
        assert_eq!(
            health["bundle"]["id"], "acme-cloud",
            "`{command}`: {health}"
        );
        if command.contains("--cases") {
            let origin = format!("http://127.0.0.1:{page_port}");
            let url = format!(
                "http://127.0.0.1:{gateway_port}/v1/status/{}?documents=true",
                license_id()
            );
            let answer = get(&http, &url, &[("origin", origin.as_str())]).unwrap();
            assert_eq!(answer.status, 200, "{}", answer.body);
            assert_eq!(
                answer.header("access-control-allow-origin"),
                Some(origin.as_str())
            );
            let body = answer.json();
            assert_eq!(body["status"]["outcome"], "ok", "{}", answer.body);
            assert_eq!(body["documents"]["signed"], true, "{}", answer.body);
            let cases = body["documents"]["cases"].as_array().unwrap();
            assert!(
                cases.iter().any(|c| c["case"]["case"] == "case-3107"),
                "{}",
                answer.body
            );
        }
    } else {
        let base = format!("http://127.0.0.1:{page_port}");
        let page = get(&http, &format!("{base}/web/?demo"), &[]).unwrap();
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<title>entitle"), "{}", page.body);
        let bundle = get(&http, &format!("{base}/examples/bundle.json"), &[]).unwrap();
        assert_eq!(bundle.status, 200);
        if let Some(file) = command
            .split_whitespace()
            .find_map(|word| word.strip_prefix("ENTITLE_PORTAL_KEYS="))
        {
            // The key set the page trusts is the one the command gave it.
            let keys = get(&http, &format!("{base}/web/keys.json"), &[]).unwrap();
            let want: Value =
                serde_json::from_slice(&std::fs::read(root().join(file)).unwrap()).unwrap();
            assert_eq!(keys.status, 200);
            assert_eq!(keys.json(), want);
        }
    }
}

#[test]
fn every_readme_command_runs_as_written() {
    let text = readme();
    let blocks = blocks(&text);
    let dir = root_copy("readme");
    let mut ran = 0;
    let mut not_run = Vec::new();
    for block in &blocks {
        let gateway_port = free_port();
        let page_port = free_port();
        let mut servers = Vec::new();
        for command in &block.commands {
            let command = command
                .replace("8414", &gateway_port.to_string())
                .replace("8080", &page_port.to_string());
            match kind(&command) {
                Kind::Server => servers.push(start(&command, &dir, gateway_port, page_port)),
                Kind::Run => run_and_check(&command, &dir),
                Kind::Demo | Kind::TestSuite => {
                    not_run.push(command.clone());
                    continue;
                }
            }
            ran += 1;
        }
        // Stopped here, at the end of their block.
        drop(servers);
    }
    assert!(
        ran >= 20,
        "only {ran} README commands ran: is the parser still right?"
    );
    assert_eq!(
        not_run,
        ["cargo xtask demo", "cargo xtask test"],
        "only `cargo xtask demo` (its own test) and `cargo xtask test` (which runs this one) are left out"
    );
}

/// `cargo xtask demo`, as the README gives it, on a free port: it prints the
/// CLI's answers at the examples' instant and serves the page pinned to it.
#[test]
fn the_readme_demo_runs_and_pins_the_examples_instant() {
    let text = readme();
    let demo: Vec<String> = blocks(&text)
        .into_iter()
        .flat_map(|block| block.commands)
        .filter(|command| kind(command) == Kind::Demo)
        .collect();
    assert_eq!(
        demo,
        ["cargo xtask demo"],
        "the README's demo command changed"
    );
    let port = free_port();
    let logs = scratch("readme-demo");
    let log = logs.join("cargo.log");
    let mut child = bash(&format!("exec cargo xtask demo --port {port}"), &root())
        .env("ENTITLE_DEMO_CLI", env!("CARGO_BIN_EXE_entitle"))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = String::new();
    let deadline = Instant::now() + DEMO_TIMEOUT;
    let page = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if let Some(rest) = line.strip_prefix("the portal, with the demo license: ") {
                    break rest.split_whitespace().next().unwrap().to_string();
                }
            }
            Err(_) => {
                stop_group(&mut child);
                panic!(
                    "the demo did not serve the page:\n{printed}\ncargo:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        }
    };
    let server = Server {
        command: String::from("cargo xtask demo"),
        child,
        log,
    };
    // The cargo build's progress goes to stderr, as cargo prints it.
    let progress = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(
        progress.contains("Finished"),
        "no cargo progress shown:\n{progress}"
    );
    assert!(
        printed.contains(&format!("deciding at {EXAMPLES_NOW}")),
        "{printed}"
    );
    assert!(
        printed.contains("\"decision\": \"allow_in_grace\""),
        "{printed}"
    );
    assert_eq!(
        page,
        format!("http://127.0.0.1:{port}/web/?demo&now={EXAMPLES_NOW}")
    );
    let http = agent();
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let answer = loop {
        match get(&http, &page, &[]) {
            Ok(answer) => break answer,
            Err(error) => {
                assert!(Instant::now() < deadline, "{page}: {error}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains("id=\"pinned\""), "{}", answer.body);
    drop(server);
}

/// Every `examples/…` path the README names exists.
#[test]
fn every_example_the_readme_names_exists() {
    let text = readme();
    let mut named = BTreeSet::new();
    for (at, _) in text.match_indices("examples/") {
        let path: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "_-./".contains(*c))
            .collect();
        named.insert(path.trim_end_matches('.').to_string());
    }
    for name in [
        "calendar.json",
        "scenario.json",
        "licenses.json",
        "keys.json",
    ] {
        assert!(
            named.contains(&format!("examples/{name}")),
            "the README no longer names examples/{name}"
        );
    }
    for path in &named {
        assert!(
            root().join(path).exists(),
            "README.md names `{path}`, which does not exist"
        );
    }
}

fn read_json(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(root().join(path)).unwrap()).unwrap()
}

/// The example documents tell one story: the signed copies are the plain
/// files, byte for byte; the scan's first license is the license; the next
/// bundle differs only in its version and Team's grace.
#[test]
fn the_examples_agree_with_each_other() {
    for (signed, plain) in [
        ("examples/signed/bundle.json", "examples/bundle.json"),
        (
            "examples/signed/licenses/lic_7Q2M9.json",
            "examples/license.json",
        ),
    ] {
        let envelope = read_json(signed);
        let payload = base64::engine::general_purpose::STANDARD
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap();
        assert!(
            payload == std::fs::read(root().join(plain)).unwrap(),
            "{signed} is not {plain} signed: sign it again with \
             `entitle sign --key examples/demo-2026-11.pem --key-id demo-2026-11 --kind … {plain} > {signed}`"
        );
    }
    let license = read_json("examples/license.json");
    let licenses = read_json("examples/licenses.json");
    assert_eq!(licenses[0], license);
    for other in licenses.as_array().unwrap() {
        assert_eq!(other["customer"], license["customer"]);
    }
    let bundle = read_json("examples/bundle.json");
    let mut next = read_json("examples/bundle.next.json");
    assert_ne!(next["version"], bundle["version"]);
    assert_eq!(
        next["tiers"]["team"]["quotas"]["api_calls"]["enforcement"]["grace_hours"],
        48
    );
    next["version"] = bundle["version"].clone();
    next["tiers"]["team"]["quotas"]["api_calls"]["enforcement"]["grace_hours"] =
        bundle["tiers"]["team"]["quotas"]["api_calls"]["enforcement"]["grace_hours"].clone();
    assert_eq!(
        next, bundle,
        "examples/bundle.next.json differs from the bundle in more than its grace"
    );
    let case = read_json("examples/cases/lic_7Q2M9/case-3107.json");
    assert_eq!(case["bundle_version"], bundle["version"]);
}
