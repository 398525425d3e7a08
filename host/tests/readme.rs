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

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use support::{agent, get, root};

/// The instant the example documents tell of.
const EXAMPLES_NOW: &str = "2026-11-22T10:00:00Z";
/// How long one command may take (a cold module compile included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);
/// How long `cargo xtask demo` may take to build and serve the page.
const DEMO_TIMEOUT: Duration = Duration::from_secs(3600);

/// One `sh` block of the README: its first line number and its commands,
/// continuation lines joined and comments removed.
#[derive(Debug)]
struct Block {
    line: usize,
    commands: Vec<String>,
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// The README's `sh` blocks.
fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let mut pending = String::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        match &mut current {
            None => {
                if trimmed == "```sh" || trimmed == "```bash" || trimmed == "```shell" {
                    current = Some(Block {
                        line: index + 1,
                        commands: Vec::new(),
                    });
                }
            }
            Some(block) => {
                if trimmed.starts_with("```") {
                    assert!(
                        pending.is_empty(),
                        "README.md:{}: a `\\` ends the block",
                        block.line
                    );
                    blocks.push(current.take().unwrap());
                    continue;
                }
                let code = strip_comment(line);
                let code = code.trim_end();
                if let Some(continued) = code.strip_suffix('\\') {
                    pending.push_str(continued.trim());
                    pending.push(' ');
                    continue;
                }
                pending.push_str(code.trim());
                let command = std::mem::take(&mut pending);
                if !command.trim().is_empty() {
                    block.commands.push(command.trim().to_string());
                }
            }
        }
    }
    assert!(current.is_none(), "README.md: an `sh` block is not closed");
    blocks
}

/// A line without its `#` comment (a `#` at the start or after a blank,
/// outside quotes).
fn strip_comment(line: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && previous.is_whitespace() => break,
            None => {}
        }
        out.push(c);
        previous = c;
    }
    out
}

/// What a command is, for this test.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// `entitle serve` or `node web/serve.mjs`: started, probed, stopped.
    Server,
    /// `cargo xtask demo`: run by its own test.
    Demo,
    /// `cargo xtask test`: runs this test, so it is not run here.
    TestSuite,
    /// `entitle …` or `curl …`: run, and its answer checked.
    Run,
}

fn kind(command: &str) -> Kind {
    let words: Vec<&str> = command
        .split_whitespace()
        .skip_while(|word| is_assignment(word))
        .collect();
    match words.as_slice() {
        ["entitle", "serve", ..] | ["node", "web/serve.mjs", ..] => Kind::Server,
        ["cargo", "xtask", "demo", ..] => Kind::Demo,
        ["cargo", "xtask", "test"] => Kind::TestSuite,
        ["entitle", _, ..] | ["curl", ..] => Kind::Run,
        _ => panic!(
            "README.md has a command this test does not know how to run: `{command}`; \
             teach host/tests/readme.rs to run and check it"
        ),
    }
}

/// `NAME=value`, an environment assignment before a command.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scratch folder standing for the repository's root.
fn root_copy(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(root()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), dir.join(&name)).unwrap();
    }
    dir
}

/// `PATH` with the directory of the `entitle` binary first.
fn path_with_entitle() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_entitle")).parent().unwrap();
    let mut paths = vec![bin.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap()
}

fn bash(command: &str, dir: &Path) -> Command {
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", path_with_entitle())
        .env_remove("ENTITLE_MODULE")
        .stdin(Stdio::null());
    bash
}

/// What a finished command printed.
struct Output {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs a command to its end, or kills it past `COMMAND_TIMEOUT`.
fn run(command: &str, dir: &Path) -> Output {
    let mut child = bash(command, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let stdout = reader(child.stdout.take().unwrap());
    let stderr = reader(child.stderr.take().unwrap());
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            stop_group(&mut child);
            panic!("`{command}` ran past {COMMAND_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn reader(mut stream: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    })
}

/// Stops a process group this test started: TERM, then KILL if it lingers.
fn stop_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill")
        .args(["-TERM", "--", &group])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
}

/// A server a block started.
struct Server {
    command: String,
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

/// The answer as JSON, or a failure naming the command.
fn json(command: &str, text: &str) -> Value {
    serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("`{command}` answered no JSON ({e}):\n{text}"))
}

/// The value of `--flag value` in a command.
fn flag<'a>(command: &'a str, name: &str) -> Option<&'a str> {
    let words: Vec<&str> = command.split_whitespace().collect();
    words
        .windows(2)
        .find(|pair| pair[0] == name)
        .map(|pair| pair[1])
}

/// The answer of an `entitle` operation: outcome `ok`, and its result.
fn ok_result(command: &str, stdout: &str) -> Value {
    let envelope = json(command, stdout);
    assert_eq!(envelope["outcome"], "ok", "`{command}`:\n{stdout}");
    envelope["result"].clone()
}

fn license_id() -> String {
    let license: Value =
        serde_json::from_slice(&std::fs::read(root().join("examples/license.json")).unwrap())
            .unwrap();
    license["license"].as_str().unwrap().to_string()
}

/// What each command must answer: worked out by hand from the example
/// documents and the docs, not copied from the engine.
fn check_answer(command: &str, out: &Output, dir: &Path) {
    let words: Vec<&str> = command.split_whitespace().collect();
    let stdout = out.stdout.as_str();
    match words.as_slice() {
        ["entitle", "version", ..] => {
            assert!(
                stdout.contains("engine ") && stdout.contains("sha256 "),
                "{stdout}"
            );
        }
        ["entitle", "keys", "new", ..] => {
            let id = flag(command, "--id").unwrap();
            let out_dir = flag(command, "--out").unwrap();
            let pem = std::fs::read_to_string(dir.join(out_dir).join(format!("{id}.pem"))).unwrap();
            assert!(pem.contains("BEGIN PRIVATE KEY"), "{pem}");
            assert!(
                stdout.contains(id),
                "`{command}` does not name the key:\n{stdout}"
            );
        }
        ["entitle", "sign", ..] => {
            let (_, target) = command.rsplit_once('>').unwrap();
            let text = std::fs::read_to_string(dir.join(target.trim())).unwrap();
            let envelope = json(command, &text);
            assert_eq!(envelope["format"], "entitle-signed/1");
            assert_eq!(envelope["key_id"], flag(command, "--key-id").unwrap());
        }
        ["entitle", "verify", ..] => {
            let result = ok_result(command, stdout);
            assert_eq!(result["verified"], true, "{stdout}");
            assert_eq!(result["document"], license_id(), "{stdout}");
            assert_eq!(result["reasons"], serde_json::json!([]), "{stdout}");
        }
        ["entitle", "check", ..] => {
            let result = ok_result(command, stdout);
            if flag(command, "--metric") == Some("api_calls") {
                // 131,500 used, 100 asked: over the 120,000 limit (100,000
                // and the exception's 20,000), within the 10% allowance
                // (132,000); grace since 2026-11-20T14:05 for 72 hours.
                assert_eq!(result["decision"], "allow_in_grace", "{stdout}");
                assert_eq!(result["reason"], "soft_limit_grace", "{stdout}");
                assert_eq!(result["remaining"], 400, "{stdout}");
                assert_eq!(
                    result["quota"]["grace_ends_at"], "2026-11-23T14:05:00Z",
                    "{stdout}"
                );
            } else {
                // `sso` comes with the `sso_pack` add-on.
                assert_eq!(flag(command, "--feature"), Some("sso"));
                assert_eq!(result["decision"], "allow", "{stdout}");
            }
        }
        ["entitle", "status", ..] => {
            let result = ok_result(command, stdout);
            let quotas = result["quotas"].as_array().unwrap();
            assert!(!quotas.is_empty(), "{stdout}");
        }
        ["entitle", "quote", ..] => {
            let result = ok_result(command, stdout);
            // 99.5 % is below Team's 99.9 band and not below 99.0: 10 %.
            let text = result.to_string();
            assert!(text.contains("\"credit_percent\":\"10\""), "{stdout}");
        }
        ["entitle", "transition", ..] => {
            let result = ok_result(command, stdout);
            // Team to Enterprise is declared, the license is active, and
            // Enterprise holds the usage and the seats.
            assert_eq!(result["allowed"], true, "{stdout}");
        }
        ["entitle", "validate", ..] => {
            let result = ok_result(command, stdout);
            assert_eq!(result["valid"], true, "{stdout}");
        }
        ["entitle", "business-time", action, ..] => {
            let result = ok_result(command, stdout);
            match *action {
                // London office hours, 09:00-17:00 on weekdays (UTC in
                // November): Friday 15:30-17:00 is 1.5 h, Monday from 09:00
                // the other 2.5 h.
                "add" => assert_eq!(result["result"], "2026-11-23T11:30:00Z", "{stdout}"),
                // Friday 15:30-17:00 and Monday 09:00-12:00: 4.5 h.
                "elapsed" => assert_eq!(result["seconds"], 16_200, "{stdout}"),
                // Sunday 10:00: the next business instant is Monday 09:00.
                "next" => assert_eq!(result["result"], "2026-11-23T09:00:00Z", "{stdout}"),
                other => panic!("no expectation for `business-time {other}`"),
            }
        }
        ["entitle", "escalate", ..] => {
            let result = ok_result(command, stdout);
            // Three seats affected, access not blocked: `seats_affected`.
            assert_eq!(result["severity"]["severity"], "normal", "{stdout}");
        }
        ["entitle", "simulate", ..] => {
            let result = ok_result(command, stdout);
            let timeline = result["timeline"].as_array().unwrap();
            // 131,800 used after 12:00; 500 more would pass 132,000.
            assert!(
                timeline
                    .iter()
                    .any(|e| e["kind"] == "usage_refused" && e["at"] == "2026-11-22T18:00:00Z"),
                "{stdout}"
            );
            // The grace ends 72 hours after 2026-11-20T14:05.
            assert!(
                timeline.iter().any(|e| e["kind"] == "decision"
                    && e["at"] == "2026-11-23T14:05:00Z"
                    && e["subject"]["metric"] == "api_calls"
                    && e["decision"] == "deny"),
                "{stdout}"
            );
        }
        ["entitle", "diff", ..] => {
            let result = ok_result(command, stdout);
            let differences = result["differences"].as_array().unwrap();
            // The next version's 48-hour grace ends a day earlier.
            assert!(
                differences
                    .iter()
                    .any(|d| d["only_in"] == "against" && d["at"] == "2026-11-22T14:05:00Z"),
                "{stdout}"
            );
        }
        ["entitle", "scan", ..] => {
            let result = ok_result(command, stdout);
            let findings = result["findings"].as_array().unwrap();
            let seen: BTreeSet<String> = findings
                .iter()
                .map(|f| format!("{} {} {}", f["detector"], f["license"], f["subject"]))
                .collect();
            // lic_4K8P1: 4 installations on 3 seats (33 % over, 10 % allowed);
            // nw-staging-03 undeclared for 5 days (3 allowed; eu-prod-04's
            // single day is not enough); lic_2B6D4 terminated on Oct 31 and
            // used on Nov 21; no spike (the launch week's days are the baseline).
            let want: BTreeSet<String> = [
                r#""over_deployment" "lic_4K8P1" "lic_4K8P1""#,
                r#""undeclared" "lic_7Q2M9" "nw-staging-03""#,
                r#""after_termination" "lic_2B6D4" "terminated""#,
            ]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
            assert_eq!(seen, want, "{stdout}");
            let over = findings
                .iter()
                .find(|f| f["detector"] == "over_deployment")
                .unwrap();
            // lic_7Q2M9 (same customer and tier) has 22 seats unused.
            assert_eq!(over["remediation"][0]["kind"], "reallocate", "{stdout}");
            assert_eq!(
                over["remediation"][0]["from_license"], "lic_7Q2M9",
                "{stdout}"
            );
        }
        ["entitle", "replay", ..] => {
            let result = json(command, stdout);
            assert!(result["decisions"].as_u64().unwrap() >= 1, "{stdout}");
            assert_eq!(result["differ"], serde_json::json!([]), "{stdout}");
        }
        ["curl", ..] if command.contains("/v1/forward-auth") => {
            // `-i`: the status line and the gateway's headers.
            let lower = stdout.to_ascii_lowercase();
            assert!(lower.starts_with("http/1.1 "), "{stdout}");
            assert!(lower.contains("\nx-entitle-decision: "), "{stdout}");
            assert!(!lower.contains("unknown_route"), "{stdout}");
        }
        ["curl", ..] => {
            // The gateway decides at the clock's instant: any decision, but
            // a decision.
            let result = ok_result(command, stdout);
            let decision = result["decision"].as_str().unwrap();
            assert!(
                ["allow", "allow_in_grace", "deny"].contains(&decision),
                "{stdout}"
            );
        }
        _ => panic!("no expectation for `{command}`: add one to host/tests/readme.rs"),
    }
}

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
    let logs =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("readme-demo-{}", std::process::id()));
    std::fs::create_dir_all(&logs).unwrap();
    let log = logs.join("cargo.log");
    let mut child = bash(&format!("exec cargo xtask demo --port {port}"), &root())
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
