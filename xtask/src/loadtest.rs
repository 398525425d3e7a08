//! `cargo xtask loadtest`: how many decisions a second `entitle serve`
//! answers on this machine, with keep-alive, and at what latency.
//!
//! 1. installs `wrk` (Debian's package) when it is missing;
//! 2. builds the release `entitle` binary and the module;
//! 3. writes a bundle and a license whose quota cannot run out during the
//!    run, into `<target>/loadtest/`, with a fresh meter database;
//! 4. starts `entitle serve --workers 2` on loopback;
//! 5. runs wrk (`-t1 -c32 -d15s --latency` by default) against `/healthz`
//!    (the HTTP stack's own cost), a feature check, a consuming check (an
//!    SQLite write per request), and forward-auth by feature and by route;
//! 6. reads the gateway's metrics to prove every request was decided as
//!    intended (no deny, no error), prints the table and writes it into
//!    `BENCHMARKS.md` with the command, the machine and the date.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::{build_wasm, workspace};

/// The goal of the issue: checks a second on this machine, and p99.
const TARGET_RPS: f64 = 30_000.0;
const TARGET_P99_MS: f64 = 5.0;

/// Other processes' share of a core (percent) above which a row is marked
/// as disturbed.
const DISTURBED_PERCENT: f64 = 25.0;

/// The license every scenario asks about.
const LICENSE: &str = "lic-load";

/// Where the section of `BENCHMARKS.md` starts and ends.
const BEGIN: &str = "<!-- loadtest:begin (written by `cargo xtask loadtest`) -->";
const END: &str = "<!-- loadtest:end -->";

/// The task's flags.
struct Options {
    duration: u64,
    connections: u64,
    threads: u64,
    workers: u64,
    write: bool,
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Options> {
        let mut options = Options {
            duration: 15,
            connections: 32,
            threads: 1,
            workers: 2,
            write: true,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut number = |name: &str| -> anyhow::Result<u64> {
                let value = args
                    .next()
                    .with_context(|| format!("`{name}` needs a number"))?;
                let n: u64 = value
                    .parse()
                    .with_context(|| format!("`{name} {value}`: not a whole number"))?;
                if n == 0 {
                    bail!("`{name}` must be at least 1");
                }
                Ok(n)
            };
            match flag.as_str() {
                "--duration" => options.duration = number("--duration")?,
                "--connections" => options.connections = number("--connections")?,
                "--threads" => options.threads = number("--threads")?,
                "--workers" => options.workers = number("--workers")?,
                "--no-write" => options.write = false,
                other => bail!(
                    "unknown argument `{other}` (expected --duration SECS, --connections N, \
                     --threads N, --workers N, --no-write)"
                ),
            }
        }
        Ok(options)
    }

    /// The wrk command line, as run and as recorded.
    fn wrk_flags(&self) -> Vec<String> {
        vec![
            format!("-t{}", self.threads),
            format!("-c{}", self.connections),
            format!("-d{}s", self.duration),
            String::from("--latency"),
        ]
    }
}

/// One load: what is asked, how.
struct Scenario {
    name: &'static str,
    what: &'static str,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Option<Value>,
    /// The metrics line every answer must count under (endpoint, outcome).
    decision: Option<(&'static str, &'static str)>,
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "healthz",
            what: "`GET /healthz` (baseline: HTTP, routing, a small JSON answer; no decision)",
            method: "GET",
            path: "/healthz",
            headers: vec![],
            body: None,
            decision: None,
        },
        Scenario {
            name: "check-feature",
            what: "`POST /v1/check` feature `reports`",
            method: "POST",
            path: "/v1/check",
            headers: vec![("Content-Type", "application/json")],
            body: Some(json!({"license": LICENSE, "feature": "reports"})),
            decision: Some(("check", "allow")),
        },
        Scenario {
            name: "check-metered",
            what: "`POST /v1/check` `api_calls` +1 (counted: an SQLite commit per request)",
            method: "POST",
            path: "/v1/check",
            headers: vec![("Content-Type", "application/json")],
            body: Some(json!({"license": LICENSE, "metric": "api_calls", "amount": 1})),
            decision: Some(("check", "allow")),
        },
        Scenario {
            name: "forward-auth-feature",
            what: "`GET /v1/forward-auth`, `X-Entitle-Feature: reports`",
            method: "GET",
            path: "/v1/forward-auth",
            headers: vec![
                ("X-Entitle-License", LICENSE),
                ("X-Entitle-Feature", "reports"),
            ],
            body: None,
            decision: Some(("forward_auth", "allow")),
        },
        Scenario {
            name: "forward-auth-route",
            what:
                "`GET /v1/forward-auth`, `X-Original-Method: GET`, `X-Original-URI: /api/reports`",
            method: "GET",
            path: "/v1/forward-auth",
            headers: vec![
                ("X-Entitle-License", LICENSE),
                ("X-Original-Method", "GET"),
                ("X-Original-URI", "/api/reports"),
            ],
            body: None,
            decision: Some(("forward_auth", "allow")),
        },
    ]
}

/// What wrk measured, and what the processes spent.
struct Measured {
    requests: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
    socket_errors: String,
    /// CPU seconds the gateway spent during the run.
    server_cpu: f64,
    /// CPU seconds wrk spent.
    wrk_cpu: f64,
    /// CPU seconds every process of the machine spent (both included).
    machine_cpu: f64,
    seconds: f64,
}

impl Measured {
    /// CPU seconds as a share of one core over the run, in percent.
    fn share(&self, cpu: f64) -> f64 {
        if self.seconds > 0.0 {
            100.0 * cpu / self.seconds
        } else {
            0.0
        }
    }

    /// Whether other work took a noticeable share of the machine.
    fn disturbed(&self) -> bool {
        self.share(self.other_cpu()) > DISTURBED_PERCENT
    }

    /// What the rest of the machine (the kernel's interrupts included) spent.
    fn other_cpu(&self) -> f64 {
        (self.machine_cpu - self.server_cpu - self.wrk_cpu).max(0.0)
    }
}

/// Runs the task.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let options = Options::parse(args)?;
    let wrk = ensure_wrk()?;
    let entitle = build_release()?;
    build_wasm::run(&[])?;

    let root = workspace::root();
    let dir = entitle
        .parent()
        .and_then(Path::parent)
        .unwrap_or(&root)
        .join("loadtest");
    write_documents(&dir, &entitle, &root)?;
    let scripts = dir.join("wrk");
    fs::create_dir_all(&scripts)
        .with_context(|| format!("cannot create `{}`", scripts.display()))?;

    let mut server = Server::start(&entitle, &root.join("dist/entitle.wasm"), &dir, &options)?;
    println!(
        "loadtest: entitle serve on {} (pid {})",
        server.addr, server.pid
    );

    let mut rows = Vec::new();
    for scenario in scenarios() {
        let script = scripts.join(format!("{}.lua", scenario.name));
        fs::write(&script, lua(&scenario))
            .with_context(|| format!("cannot write `{}`", script.display()))?;
        let url = format!("http://{}{}", server.addr, scenario.path);
        // A short warm-up: connections, instances and caches as in a long run.
        wrk_run(&wrk, &options, &["-d2s"], &script, &url, server.pid)?;
        let before = decisions(server.addr, &scenario)?;
        let measured = wrk_run(&wrk, &options, &[], &script, &url, server.pid)?;
        let after = decisions(server.addr, &scenario)?;
        let decided = after.saturating_sub(before);
        println!(
            "loadtest: {:<22} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  CPU: gateway {:>4.0}%  wrk {:>4.0}%  other {:>4.0}%",
            scenario.name,
            measured.rps,
            measured.p50_ms,
            measured.p99_ms,
            measured.share(measured.server_cpu),
            measured.share(measured.wrk_cpu),
            measured.share(measured.other_cpu()),
        );
        if measured.disturbed() {
            println!(
                "loadtest: other work on the machine disturbed this row; run again when it is idle"
            );
        }
        if measured.non_2xx > 0 {
            bail!(
                "{}: {} answers were not 2xx; the load measured the wrong thing",
                scenario.name,
                measured.non_2xx
            );
        }
        if scenario.decision.is_some() && decided < measured.requests {
            bail!(
                "{}: wrk counted {} requests but the gateway decided only {} as intended",
                scenario.name,
                measured.requests,
                decided
            );
        }
        rows.push((scenario, measured));
    }
    let used = metered_count(server.addr)?;
    server.stop();
    println!("loadtest: `{LICENSE}` consumed {used} api_calls, each committed to the meter");

    let machine = Machine::read();
    let wrk_version = wrk_version(&wrk);
    let section = section(&options, &rows, &machine, &wrk_version, used);
    println!("\n{section}");
    if options.write {
        let path = root.join("BENCHMARKS.md");
        update_benchmarks(&path, &section)?;
        println!("loadtest: wrote the section to `{}`", path.display());
    }
    Ok(())
}

/// `wrk` on the path, installed from Debian's package when missing.
fn ensure_wrk() -> anyhow::Result<PathBuf> {
    if let Some(path) = on_path("wrk") {
        return Ok(path);
    }
    println!("loadtest: installing Debian's wrk");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "wrk"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
    };
    let installed = install().is_ok_and(|s| s.success()) || {
        let updated = Command::new("apt-get")
            .args(["update", "-qq"])
            .status()
            .is_ok_and(|s| s.success());
        updated && install().is_ok_and(|s| s.success())
    };
    if !installed {
        bail!(
            "wrk is missing and `apt-get install wrk` failed: install wrk (as root) and run again"
        );
    }
    on_path("wrk").context("wrk was installed but is not on the PATH")
}

fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Builds the release CLI; the path of the `entitle` binary cargo reports.
fn build_release() -> anyhow::Result<PathBuf> {
    println!("loadtest: cargo build --release -p entitle-host");
    let mut child = workspace::cargo()
        .args([
            "build",
            "--release",
            "-p",
            "entitle-host",
            "--bin",
            "entitle",
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start cargo")?;
    let stdout = child.stdout.take().context("cannot read cargo's output")?;
    let mut binary = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read cargo's output")?;
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if message.get("reason").and_then(Value::as_str) == Some("compiler-artifact")
            && message.pointer("/target/name").and_then(Value::as_str) == Some("entitle")
        {
            if let Some(path) = message.get("executable").and_then(Value::as_str) {
                binary = Some(PathBuf::from(path));
            }
        }
    }
    let status = child.wait().context("cargo did not finish")?;
    if !status.success() {
        bail!("cargo build --release -p entitle-host failed ({status})");
    }
    binary.context("cargo built no `entitle` binary")
}

/// The bundle, the license (a billion calls a month, hard: the run cannot
/// spend them) and an empty meter database.
fn write_documents(dir: &Path, entitle: &Path, root: &Path) -> anyhow::Result<()> {
    let licenses = dir.join("licenses");
    fs::create_dir_all(&licenses)
        .with_context(|| format!("cannot create `{}`", licenses.display()))?;
    for stale in ["meter.db", "meter.db-wal", "meter.db-shm"] {
        let path = dir.join(stale);
        if path.exists() {
            fs::remove_file(&path)
                .with_context(|| format!("cannot remove `{}`", path.display()))?;
        }
    }
    let bundle = json!({
      "bundle": "loadtest",
      "version": "1.0.0",
      "currency": "USD",
      "billing_period": "month",
      "features": {
        "api_calls": { "kind": "metered", "unit": "call" },
        "reports": { "kind": "boolean" }
      },
      "tiers": {
        "scale": {
          "rank": 1, "price": "100.00", "features": ["api_calls", "reports"],
          "quotas": { "api_calls": { "limit": 1_000_000_000u64, "period": "month",
                                     "enforcement": { "mode": "hard" } } }
        }
      },
      "expiry": { "renewal_grace_days": 10, "expiring_soon_days": 30,
                  "after_grace": { "access": "revoke" } },
      "gateway": { "routes": [
        { "method": "GET", "path": "/api/reports", "feature": "reports" },
        { "method": "POST", "path": "/api/search", "metric": "api_calls", "amount": 1 }
      ] }
    });
    let now = chrono::Utc::now();
    let start = now - chrono::Duration::days(30);
    let end = start + chrono::Duration::days(365);
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let license = json!({
      "license": LICENSE, "customer": "cus-load", "tier": "scale", "addons": [], "seats": 5,
      "term": { "start": stamp(start), "end": stamp(end) },
      "status": "active", "time_zone": "UTC",
      "anchor_date": start.format("%Y-%m-%d").to_string(),
      "exceptions": []
    });
    // Signed with the test-only key, as a vendor would with `entitle sign`:
    // the gateway serves signed documents.
    let key = root.join("tests/conformance/fixtures/keys/test-only-a.pem");
    for (path, kind, value) in [
        (dir.join("bundle.json"), "bundle", bundle),
        (licenses.join(format!("{LICENSE}.json")), "license", license),
    ] {
        let plain = path.with_extension("plain");
        let text = serde_json::to_string_pretty(&value).context("cannot write JSON")?;
        fs::write(&plain, text).with_context(|| format!("cannot write `{}`", plain.display()))?;
        let signed = Command::new(entitle)
            .arg("sign")
            .arg("--key")
            .arg(&key)
            .args(["--key-id", "test-only-a", "--kind", kind])
            .arg(&plain)
            .output()
            .with_context(|| format!("cannot run `{}`", entitle.display()))?;
        if !signed.status.success() {
            bail!(
                "entitle sign failed: {}",
                String::from_utf8_lossy(&signed.stderr)
            );
        }
        fs::write(&path, &signed.stdout)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(())
}

/// The running gateway.
struct Server {
    child: Child,
    pid: u32,
    addr: SocketAddr,
}

impl Server {
    fn start(
        binary: &Path,
        module: &Path,
        dir: &Path,
        options: &Options,
    ) -> anyhow::Result<Server> {
        let mut child = Command::new(binary)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .arg("--module")
            .arg(module)
            .arg("--bundle")
            .arg(dir.join("bundle.json"))
            .arg("--licenses")
            .arg(dir.join("licenses"))
            .arg("--keys")
            .arg(workspace::root().join("tests/conformance/fixtures/keys/keys.json"))
            .arg("--database")
            .arg(dir.join("meter.db"))
            .args(["--workers", &options.workers.to_string()])
            .args(["--watch-ms", "0"])
            .env("ENTITLE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start `{}`", binary.display()))?;
        let pid = child.id();
        let stderr = child.stderr.take().context("no stderr of entitle serve")?;
        let (lines, log) = mpsc::channel();
        // Reads the log to its end, so the gateway never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut server = Server {
            child,
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = log.recv_timeout(left) else {
                server.stop();
                bail!("entitle serve did not start within 60 s");
            };
            let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if entry.pointer("/fields/message").and_then(Value::as_str) == Some("serving") {
                let listen = entry
                    .pointer("/fields/listen")
                    .and_then(Value::as_str)
                    .context("a `serving` log line without `listen`")?;
                server.addr = listen
                    .parse()
                    .with_context(|| format!("`{listen}` is not an address"))?;
                return Ok(server);
            }
            if entry.get("level").and_then(Value::as_str) == Some("ERROR") {
                server.stop();
                bail!("entitle serve failed: {line}");
            }
        }
    }

    /// SIGTERM (the gateway drains), then waits.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

/// The wrk script of a scenario: method, headers and body.
fn lua(scenario: &Scenario) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "-- {}: written by cargo xtask loadtest",
        scenario.name
    );
    let _ = writeln!(text, "wrk.method = {}", lua_string(scenario.method));
    for (name, value) in &scenario.headers {
        let _ = writeln!(
            text,
            "wrk.headers[{}] = {}",
            lua_string(name),
            lua_string(value)
        );
    }
    if let Some(body) = &scenario.body {
        let _ = writeln!(text, "wrk.body = {}", lua_string(&body.to_string()));
    }
    text
}

/// A Lua string literal.
fn lua_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Runs wrk and reads its report; samples the CPU time of the gateway and wrk.
fn wrk_run(
    wrk: &Path,
    options: &Options,
    overrides: &[&str],
    script: &Path,
    url: &str,
    server_pid: u32,
) -> anyhow::Result<Measured> {
    let mut flags = options.wrk_flags();
    for flag in overrides {
        if let Some(duration) = flag.strip_prefix("-d") {
            flags.retain(|f| !f.starts_with("-d"));
            flags.push(format!("-d{duration}"));
        }
    }
    let server_before = cpu_seconds(server_pid).unwrap_or(0.0);
    let machine_before = machine_seconds().unwrap_or(0.0);
    let started = Instant::now();
    let mut child = Command::new(wrk)
        .args(&flags)
        .arg("-s")
        .arg(script)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run `{}`", wrk.display()))?;
    let wrk_pid = child.id();
    let mut wrk_cpu = 0.0;
    let status = loop {
        if let Some(status) = child.try_wait().context("wrk did not finish")? {
            break status;
        }
        // The last sample before wrk exits is its CPU time, within 50 ms.
        if let Some(cpu) = cpu_seconds(wrk_pid) {
            wrk_cpu = cpu;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let seconds = started.elapsed().as_secs_f64();
    let server_cpu = cpu_seconds(server_pid).unwrap_or(0.0) - server_before;
    let machine_cpu = machine_seconds().unwrap_or(0.0) - machine_before;
    let mut report = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut report)
            .context("cannot read wrk's report")?;
    }
    if !status.success() {
        let mut err = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        bail!("wrk failed ({status}): {err}{report}");
    }
    let cpu = Cpu {
        server: server_cpu,
        wrk: wrk_cpu,
        machine: machine_cpu,
        seconds,
    };
    parse_wrk(&report, &cpu).with_context(|| format!("cannot read wrk's report:\n{report}"))
}

/// utime + stime of a process, in seconds (Linux `/proc`, 100 ticks a second).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Busy time of every CPU of the machine (all but idle and I/O wait), in
/// seconds, from the first line of `/proc/stat`.
fn machine_seconds() -> Option<f64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is in user).
    let busy: f64 = ticks.iter().take(8).sum::<f64>() - ticks.get(3)? - ticks.get(4)?;
    Some(busy / 100.0)
}

/// CPU seconds spent over one wrk run.
struct Cpu {
    server: f64,
    wrk: f64,
    machine: f64,
    seconds: f64,
}

fn parse_wrk(report: &str, cpu: &Cpu) -> anyhow::Result<Measured> {
    let mut rps = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut requests = None;
    let mut non_2xx = 0;
    let mut socket_errors = String::new();
    for line in report.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => rps = n.parse::<f64>().ok(),
            ["50%", t] => p50 = milliseconds(t),
            ["99%", t] => p99 = milliseconds(t),
            [n, "requests", "in", ..] => requests = n.parse::<u64>().ok(),
            ["Non-2xx", "or", "3xx", "responses:", n] => non_2xx = n.parse().unwrap_or(u64::MAX),
            ["Socket", "errors:", ..] => socket_errors = line.trim().to_string(),
            _ => {}
        }
    }
    Ok(Measured {
        requests: requests.context("no request count")?,
        rps: rps.context("no Requests/sec")?,
        p50_ms: p50.context("no 50% latency")?,
        p99_ms: p99.context("no 99% latency")?,
        non_2xx,
        socket_errors,
        server_cpu: cpu.server,
        wrk_cpu: cpu.wrk,
        machine_cpu: cpu.machine,
        seconds: cpu.seconds,
    })
}

/// wrk's `1.23ms`, `456.78us`, `1.02s` in milliseconds.
fn milliseconds(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// A GET over a fresh connection; the body.
fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("cannot reach {addr}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .context("cannot set a timeout")?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .context("cannot send a request")?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .context("cannot read an answer")?;
    let Some((head, body)) = answer.split_once("\r\n\r\n") else {
        bail!("an answer without a body from {path}");
    };
    if !head.starts_with("HTTP/1.1 200") {
        bail!(
            "{path} answered {}",
            head.lines().next().unwrap_or_default()
        );
    }
    // The gateway answers with content-length, never chunked, for these.
    Ok(body.to_string())
}

/// How many decisions the gateway counted for a scenario's endpoint and
/// outcome (every reason); 0 for the baseline.
fn decisions(addr: SocketAddr, scenario: &Scenario) -> anyhow::Result<u64> {
    let Some((endpoint, outcome)) = scenario.decision else {
        return Ok(0);
    };
    let metrics = http_get(addr, "/metrics")?;
    let prefix = format!("entitle_decisions_total{{endpoint=\"{endpoint}\",outcome=\"{outcome}\",");
    Ok(metrics
        .lines()
        .filter(|line| line.starts_with(&prefix))
        .filter_map(|line| line.rsplit(' ').next())
        .filter_map(|n| n.parse::<f64>().ok())
        .map(|n| n as u64)
        .sum())
}

/// The license's `api_calls` count, as its status reports it.
fn metered_count(addr: SocketAddr) -> anyhow::Result<u64> {
    let body = http_get(addr, &format!("/v1/status/{LICENSE}"))?;
    let status: Value = serde_json::from_str(&body).context("a status that is not JSON")?;
    status
        .pointer("/result/quotas")
        .and_then(Value::as_array)
        .and_then(|quotas| {
            quotas
                .iter()
                .find(|q| q.get("metric").and_then(Value::as_str) == Some("api_calls"))
        })
        .and_then(|q| q.get("used"))
        .and_then(Value::as_u64)
        .context("no api_calls count in the status")
}

/// The machine the figures come from.
struct Machine {
    cpus: usize,
    model: String,
    memory: String,
    os: String,
    date: String,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| String::from("unknown"), |(_, m)| m.trim().to_string());
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or_else(
                || String::from("unknown"),
                |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0),
            );
        let os = fs::read_to_string("/etc/os-release")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map_or_else(
                || String::from("unknown"),
                |n| n.trim_matches('"').to_string(),
            );
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get),
            model,
            memory,
            os,
            date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        }
    }
}

fn wrk_version(wrk: &Path) -> String {
    Command::new(wrk)
        .arg("-v")
        .output()
        .ok()
        .and_then(|out| {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            text.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .map(str::to_string)
        })
        .unwrap_or_else(|| String::from("unknown"))
}

/// The `BENCHMARKS.md` section: table, command, machine, date, verdict.
fn section(
    options: &Options,
    rows: &[(Scenario, Measured)],
    machine: &Machine,
    wrk_version: &str,
    used: u64,
) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{BEGIN}");
    let _ = writeln!(text, "## The gateway under load\n");
    let mut command = String::from("cargo xtask loadtest");
    for (flag, value, default) in [
        ("--duration", options.duration, 15),
        ("--connections", options.connections, 32),
        ("--threads", options.threads, 1),
        ("--workers", options.workers, 2),
    ] {
        if value != default {
            let _ = write!(command, " {flag} {value}");
        }
    }
    let _ = writeln!(text, "```sh\n{command}\n```\n");
    paragraph(
        &mut text,
        &format!(
            "`entitle serve --workers {}` (release build) on loopback with the \
             module, one bundle, one license and a fresh meter database \
             (`--durability process`); then, for each row, a 2 s warm-up and \
             `wrk {} -s <row>.lua <url>` (wrk {wrk_version}, keep-alive). wrk \
             runs on the same machine and takes its share of the cores. Every \
             answer was checked: 2xx only, and the gateway's metrics count \
             every request of a decision row as `allow` (the consuming row \
             counted {} calls, each committed to SQLite before its answer).",
            options.workers,
            options.wrk_flags().join(" "),
            thousands(used),
        ),
    );
    let _ = writeln!(
        text,
        "- **Machine:** {} CPUs ({}), {}, {}.\n- **Date:** {}.\n",
        machine.cpus, machine.model, machine.memory, machine.os, machine.date
    );
    let _ = writeln!(
        text,
        "| request | requests/s | p50 | p99 | CPU: gateway | wrk | other |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (scenario, m) in rows {
        let _ = writeln!(
            text,
            "| {} | {} | {:.2} ms | {:.2} ms | {:.0}% | {:.0}% | {:.0}% |",
            scenario.what,
            thousands(m.rps.round() as u64),
            m.p50_ms,
            m.p99_ms,
            m.share(m.server_cpu),
            m.share(m.wrk_cpu),
            m.share(m.other_cpu()),
        );
    }
    let _ = writeln!(text);
    paragraph(
        &mut text,
        &format!(
            "CPU is the share of one core over the run ({}% is every core): \
             the gateway's process, wrk's, and the rest of the machine (other \
             processes, and kernel work not charged to either).",
            100 * machine.cpus
        ),
    );
    let disturbed: Vec<&str> = rows
        .iter()
        .filter(|(_, m)| m.disturbed())
        .map(|(s, _)| s.name)
        .collect();
    if !disturbed.is_empty() {
        paragraph(
            &mut text,
            &format!(
                "Other work on the machine took more than {DISTURBED_PERCENT:.0}% of a \
                 core during: {}; those rows understate what the gateway can do.",
                disturbed.join(", ")
            ),
        );
    }
    let errors: Vec<String> = rows
        .iter()
        .filter(|(_, m)| !m.socket_errors.is_empty())
        .map(|(s, m)| format!("{}: {}", s.name, m.socket_errors))
        .collect();
    if !errors.is_empty() {
        paragraph(&mut text, &format!("wrk reported: {}.", errors.join("; ")));
    }
    let _ = writeln!(
        text,
        "Target: at least {} checks/s with p99 under {TARGET_P99_MS} ms.\n",
        thousands(TARGET_RPS as u64)
    );
    let _ = writeln!(text, "| check | met |\n| --- | --- |");
    for (scenario, m) in rows.iter().filter(|(s, _)| s.decision.is_some()) {
        let met = m.rps >= TARGET_RPS && m.p99_ms < TARGET_P99_MS;
        let _ = writeln!(
            text,
            "| {} | {} ({}/s, p99 {:.2} ms) |",
            scenario.name,
            if met { "yes" } else { "**no**" },
            thousands(m.rps.round() as u64),
            m.p99_ms
        );
    }
    let _ = writeln!(text, "{END}");
    text
}

/// Appends `words` wrapped at 78 columns, then a blank line; a code span
/// (between backticks) is never broken.
fn paragraph(text: &mut String, words: &str) {
    let mut tokens: Vec<String> = Vec::new();
    let mut open = false;
    for word in words.split_whitespace() {
        match tokens.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(word);
            }
            _ => tokens.push(word.to_string()),
        }
        if word.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    let mut line = String::new();
    for token in tokens {
        if !line.is_empty() && line.len() + 1 + token.len() > 78 {
            let _ = writeln!(text, "{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&token);
    }
    let _ = writeln!(text, "{line}\n");
}

/// `12345` as `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Replaces the section between the markers, or appends it.
fn update_benchmarks(path: &Path, section: &str) -> anyhow::Result<()> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let updated = match (text.find(BEGIN), text.find(END)) {
        (Some(start), Some(end)) if end > start => {
            let after = text.get(end + END.len()..).unwrap_or_default();
            let after = after.strip_prefix('\n').unwrap_or(after);
            format!("{}{section}{after}", text.get(..start).unwrap_or_default())
        }
        _ => {
            let mut text = text;
            if !text.is_empty() && !text.ends_with("\n\n") {
                text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
            }
            text.push_str(section);
            text
        }
    };
    let mut file =
        fs::File::create(path).with_context(|| format!("cannot write `{}`", path.display()))?;
    file.write_all(updated.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    const REPORT: &str = "Running 15s test @ http://127.0.0.1:4000/v1/check
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   432.10us  300.00us  12.00ms   90.00%
    Req/Sec    52.00k     2.00k   55.00k    70.00%
  Latency Distribution
     50%  412.00us
     75%  500.00us
     90%  700.00us
     99%    1.50ms
  780000 requests in 15.00s, 120.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  52000.00
Transfer/sec:      8.00MB
";

    #[test]
    fn reads_wrk_reports() {
        let cpu = Cpu {
            server: 15.0,
            wrk: 6.0,
            machine: 24.0,
            seconds: 15.0,
        };
        let m = parse_wrk(REPORT, &cpu).unwrap();
        assert_eq!(m.requests, 780_000);
        assert!((m.rps - 52_000.0).abs() < 1e-9);
        assert!((m.p50_ms - 0.412).abs() < 1e-9);
        assert!((m.p99_ms - 1.5).abs() < 1e-9);
        assert_eq!(m.non_2xx, 3);
        assert!((m.share(m.other_cpu()) - 20.0).abs() < 1e-9);
        assert!(!m.disturbed());
        assert_eq!(milliseconds("1.02s"), Some(1020.0));
    }

    #[test]
    fn formats_numbers_and_replaces_the_section() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");

        let dir = std::env::temp_dir().join(format!("loadtest-md-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("BENCHMARKS.md");
        fs::write(&path, "# Benchmarks\n\nbefore\n").unwrap();
        update_benchmarks(&path, &format!("{BEGIN}\none\n{END}\n")).unwrap();
        fs::write(
            &path,
            fs::read_to_string(&path).unwrap() + "\n## After\n\nkept\n",
        )
        .unwrap();
        update_benchmarks(&path, &format!("{BEGIN}\ntwo\n{END}\n")).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("# Benchmarks\n\nbefore\n\n{BEGIN}\ntwo\n{END}\n\n## After\n\nkept\n")
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn paragraphs_wrap_outside_code_spans() {
        let mut text = String::new();
        let words = format!("{} `wrk -t1 -c32 -d15s --latency` end", "word ".repeat(14));
        paragraph(&mut text, &words);
        assert_eq!(
            text,
            format!(
                "{}\n`wrk -t1 -c32 -d15s --latency` end\n\n",
                "word ".repeat(14).trim_end()
            )
        );
    }

    #[test]
    fn lua_strings_are_escaped() {
        assert_eq!(lua_string(r#"{"a":"b\c"}"#), r#""{\"a\":\"b\\c\"}""#);
    }
}
