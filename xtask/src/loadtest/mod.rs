//! `cargo xtask loadtest`: how many decisions a second `entitle serve`
//! answers on this machine, with keep-alive, and at what latency.
//!
//! 1. installs `wrk` (Debian's package) when it is missing;
//! 2. builds the release `entitle` binary and the module;
//! 3. writes a bundle and 101 licenses whose quotas cannot run out during
//!    the run, into `<target>/loadtest/`, with a fresh meter database;
//! 4. starts `entitle serve --workers 2` on loopback;
//! 5. runs wrk (`-t1 -c32 -d15s --latency` by default) against `/healthz`
//!    (the HTTP stack's own cost, the baseline every row is compared to), a
//!    feature check, forward-auth by feature and by route, consuming checks
//!    of one license (a journal line per request, folded into SQLite behind
//!    the answers), and consuming checks
//!    spread over 100 licenses (the script picks one per request);
//! 6. reads the gateway's metrics to prove every request was decided as
//!    intended (no deny, no error), reads every license's count back from
//!    its status and checks that they add up to the consuming checks the
//!    metrics counted as allowed, prints the table and writes it into
//!    `BENCHMARKS.md` with the command, the machine and the date.
//!
//! `--only check-metered,check-metered-spread --no-write` runs those rows and
//! the `/healthz` baseline only, to compare a change quickly.

mod fleet;
mod report;
mod server;
mod wrk;

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
use report::*;
use server::*;
use wrk::*;

/// The goal of the issue: p99 of every decision row.
pub(super) const TARGET_P99_MS: f64 = 5.0;

/// Other processes' share of a core (percent) above which a row is marked
/// as disturbed.
pub(super) const DISTURBED_PERCENT: f64 = 25.0;

/// The license every scenario but the spread one asks about.
pub(super) const LICENSE: &str = "lic-load";

/// How many licenses the spread scenario picks from: `lic-spread-000` on.
pub(super) const SPREAD: usize = 100;

/// The id of the `n`th license of the spread scenario.
pub(super) fn spread_license(n: usize) -> String {
    format!("lic-spread-{n:03}")
}

/// Where the section of `BENCHMARKS.md` starts and ends.
pub(super) const BEGIN: &str = "<!-- loadtest:begin (written by `cargo xtask loadtest`) -->";
pub(super) const END: &str = "<!-- loadtest:end -->";

/// The task's flags.
pub(super) struct Options {
    pub(super) duration: u64,
    pub(super) connections: u64,
    pub(super) threads: u64,
    pub(super) workers: u64,
    pub(super) write: bool,
    /// Serve with `--decision-log`, to measure what logging every answer costs.
    pub(super) decision_log: bool,
    /// Only these rows (and `/healthz`, the baseline), to compare one change
    /// quickly; never written to `BENCHMARKS.md`.
    pub(super) only: Vec<String>,
    /// Measure the consuming rows on every meter (SQLite, Redis and
    /// PostgreSQL, exact and leased) beside the stores' own benchmarks.
    pub(super) fleet: bool,
    /// With `--fleet`, only these meters (and SQLite, the reference of the
    /// ratios); never written to `BENCHMARKS.md`.
    pub(super) meters: Vec<String>,
}

impl Options {
    pub(super) fn parse(args: &[String]) -> anyhow::Result<Options> {
        let mut options = Options {
            duration: 15,
            connections: 32,
            threads: 1,
            workers: 2,
            write: true,
            decision_log: false,
            only: Vec::new(),
            fleet: false,
            meters: Vec::new(),
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
                "--decision-log" => options.decision_log = true,
                "--fleet" => options.fleet = true,
                "--meter" => {
                    let names = args.next().context("`--meter` needs meter names")?;
                    for name in names.split(',') {
                        if !fleet::METERS.contains(&name) {
                            bail!(
                                "`--meter {name}`: no such meter (meters: {})",
                                fleet::METERS.join(", ")
                            );
                        }
                        options.meters.push(name.to_string());
                    }
                    options.fleet = true;
                }
                "--only" => {
                    let rows = args.next().context("`--only` needs row names")?;
                    let known: Vec<&str> = scenarios().iter().map(|s| s.name).collect();
                    for row in rows.split(',') {
                        if !known.contains(&row) {
                            bail!("`--only {row}`: no such row (rows: {})", known.join(", "));
                        }
                        options.only.push(row.to_string());
                    }
                }
                other => bail!(
                    "unknown argument `{other}` (expected --duration SECS, --connections N, \
                     --threads N, --workers N, --no-write, --decision-log, --only ROW,ROW, --fleet, \
                     --meter METER,METER)"
                ),
            }
        }
        if !options.only.is_empty() && options.write {
            bail!("`--only` measures part of the table: add `--no-write`");
        }
        if !options.meters.is_empty() && options.write {
            bail!("`--meter` measures part of the table: add `--no-write`");
        }
        Ok(options)
    }

    /// The wrk command line, as run and as recorded.
    pub(super) fn wrk_flags(&self) -> Vec<String> {
        vec![
            format!("-t{}", self.threads),
            format!("-c{}", self.connections),
            format!("-d{}s", self.duration),
            String::from("--latency"),
        ]
    }
}

/// One load: what is asked, how.
pub(super) struct Scenario {
    pub(super) name: &'static str,
    pub(super) what: &'static str,
    pub(super) method: &'static str,
    pub(super) path: &'static str,
    pub(super) headers: Vec<(&'static str, &'static str)>,
    pub(super) body: Option<Value>,
    /// The metrics line every answer must count under (endpoint, outcome).
    pub(super) decision: Option<(&'static str, &'static str)>,
    /// The licenses whose `api_calls` the row consumes (none: it consumes nothing).
    pub(super) consumes: Vec<String>,
    /// The least share of the `/healthz` rate the row must reach.
    pub(super) target: Option<f64>,
}

pub(super) fn scenarios() -> Vec<Scenario> {
    let check = |name, what, body: Value, consumes: Vec<String>, target| Scenario {
        name,
        what,
        method: "POST",
        path: "/v1/check",
        headers: vec![("Content-Type", "application/json")],
        body: Some(body),
        decision: Some(("check", "allow")),
        consumes,
        target: Some(target),
    };
    let forward_auth = |name, what, headers| Scenario {
        name,
        what,
        method: "GET",
        path: "/v1/forward-auth",
        headers,
        body: None,
        decision: Some(("forward_auth", "allow")),
        consumes: Vec::new(),
        target: Some(0.9),
    };
    vec![
        Scenario {
            name: "healthz",
            what: "`GET /healthz` (baseline: HTTP, routing, a small JSON answer; no decision)",
            method: "GET",
            path: "/healthz",
            headers: vec![],
            body: None,
            decision: None,
            consumes: Vec::new(),
            target: None,
        },
        check(
            "check-feature",
            "`POST /v1/check` feature `reports`",
            json!({"license": LICENSE, "feature": "reports"}),
            Vec::new(),
            0.9,
        ),
        forward_auth(
            "forward-auth-feature",
            "`GET /v1/forward-auth`, `X-Entitle-Feature: reports`",
            vec![
                ("X-Entitle-License", LICENSE),
                ("X-Entitle-Feature", "reports"),
            ],
        ),
        forward_auth(
            "forward-auth-route",
            "`GET /v1/forward-auth`, `X-Original-Method: GET`, `X-Original-URI: /api/reports`",
            vec![
                ("X-Entitle-License", LICENSE),
                ("X-Original-Method", "GET"),
                ("X-Original-URI", "/api/reports"),
            ],
        ),
        check(
            "check-metered",
            "`POST /v1/check` `api_calls` +1, one license (a meter journal line per request)",
            json!({"license": LICENSE, "metric": "api_calls", "amount": 1}),
            vec![LICENSE.to_string()],
            0.6,
        ),
        check(
            "check-metered-spread",
            "`POST /v1/check` `api_calls` +1, a license picked at random of 100 per request",
            json!({"license": spread_license(0), "metric": "api_calls", "amount": 1}),
            (0..SPREAD).map(spread_license).collect(),
            0.75,
        ),
    ]
}

/// One row of the report.
pub(super) struct Row {
    pub(super) scenario: Scenario,
    pub(super) measured: Measured,
    /// The counts the row's licenses hold after it, checked against the
    /// allowed consuming checks.
    pub(super) consumed: Option<u64>,
}

/// What wrk measured, and what the processes spent.
pub(super) struct Measured {
    pub(super) requests: u64,
    pub(super) rps: f64,
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) non_2xx: u64,
    pub(super) socket_errors: String,
    /// CPU seconds the gateway spent during the run.
    pub(super) server_cpu: f64,
    /// CPU seconds wrk spent.
    pub(super) wrk_cpu: f64,
    /// CPU seconds every process of the machine spent (both included).
    pub(super) machine_cpu: f64,
    pub(super) seconds: f64,
}

impl Measured {
    /// CPU seconds as a share of one core over the run, in percent.
    pub(super) fn share(&self, cpu: f64) -> f64 {
        if self.seconds > 0.0 {
            100.0 * cpu / self.seconds
        } else {
            0.0
        }
    }

    /// Whether other work took a noticeable share of the machine.
    pub(super) fn disturbed(&self) -> bool {
        self.share(self.other_cpu()) > DISTURBED_PERCENT
    }

    /// What the rest of the machine (the kernel's interrupts included) spent.
    pub(super) fn other_cpu(&self) -> f64 {
        (self.machine_cpu - self.server_cpu - self.wrk_cpu).max(0.0)
    }
}

/// What every run needs before it starts a gateway.
struct Prepared {
    wrk: PathBuf,
    /// The release `entitle` binary.
    entitle: PathBuf,
    root: PathBuf,
    /// `<target>/loadtest`, with the documents written.
    dir: PathBuf,
    /// Where wrk's scripts go.
    scripts: PathBuf,
}

/// Installs wrk when missing, builds the release binary and the module,
/// and writes the documents.
fn prepare() -> anyhow::Result<Prepared> {
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
    Ok(Prepared {
        wrk,
        entitle,
        root,
        dir,
        scripts,
    })
}

/// Runs the task.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let options = Options::parse(args)?;
    if options.fleet {
        return fleet::run(&options);
    }
    let Prepared {
        wrk,
        entitle,
        root,
        dir,
        scripts,
    } = prepare()?;
    let mut server = Server::start(
        &entitle,
        &root.join("dist/entitle.wasm"),
        &dir,
        &options,
        &[],
    )?;
    println!(
        "loadtest: entitle serve on {} (pid {})",
        server.addr, server.pid
    );

    let mut rows = Vec::new();
    let chosen = scenarios().into_iter().filter(|s| {
        s.decision.is_none() || options.only.is_empty() || options.only.iter().any(|o| o == s.name)
    });
    for scenario in chosen {
        let base = rows.first().map(|row: &Row| row.measured.rps);
        let row = measure(
            &wrk,
            &options,
            &scripts,
            &server,
            scenario,
            base,
            Duration::ZERO,
        )?;
        rows.push(row);
    }
    server.stop();

    let machine = Machine::read();
    let wrk_version = wrk_version(&wrk);
    let section = section(&options, &rows, &machine, &wrk_version);
    println!("\n{section}");
    if options.write {
        let path = root.join("BENCHMARKS.md");
        update_benchmarks(&path, &section)?;
        println!("loadtest: wrote the section to `{}`", path.display());
    }
    Ok(())
}

/// Runs one scenario against the gateway (a short warm-up, then the
/// measured run) and checks that every request was decided as intended
/// and, for a consuming row, that the licenses' counts (read `settle`
/// after the run: leases give back what they did not spend) add up to the
/// allowed checks. `base` is the `/healthz` rate the row is compared to.
fn measure(
    wrk: &Path,
    options: &Options,
    scripts: &Path,
    server: &Server,
    scenario: Scenario,
    base: Option<f64>,
    settle: Duration,
) -> anyhow::Result<Row> {
    let script = scripts.join(format!("{}.lua", scenario.name));
    fs::write(&script, lua(&scenario))
        .with_context(|| format!("cannot write `{}`", script.display()))?;
    let url = format!("http://{}{}", server.addr, scenario.path);
    let first = decisions(server.addr, &scenario)?;
    // A short warm-up: connections, instances and caches as in a long run.
    wrk_run(wrk, options, &["-d2s"], &script, &url, server.pid)?;
    let before = decisions(server.addr, &scenario)?;
    let measured = wrk_run(wrk, options, &[], &script, &url, server.pid)?;
    // Requests still in flight when wrk stopped are decided (and, when
    // they consume, committed and counted) all the same: wait for them.
    let after = settled(server.addr, &scenario)?;
    let decided = after.intended.saturating_sub(before.intended);
    println!(
        "loadtest: {:<22} {:>9.0} req/s ({:>4.0}% of /healthz)  p50 {:>6.2} ms  p99 {:>6.2} ms  CPU: gateway {:>4.0}%  wrk {:>4.0}%  other {:>4.0}%",
        scenario.name,
        measured.rps,
        base.map_or(100.0, |base| 100.0 * measured.rps / base),
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
    let otherwise = (after.all - after.intended).saturating_sub(first.all - first.intended);
    if let Some(line) = after
        .otherwise
        .iter()
        .find(|l| l.starts_with("entitle_compact_disagreements_total ") && !l.ends_with(" 0"))
    {
        bail!("{}: {line}", scenario.name);
    }
    if otherwise > 0 {
        bail!(
            "{}: the gateway decided {otherwise} requests otherwise than intended:\n{}",
            scenario.name,
            after.otherwise.join("\n")
        );
    }
    let mut row = Row {
        scenario,
        measured,
        consumed: None,
    };
    if !row.scenario.consumes.is_empty() {
        std::thread::sleep(settle);
        // Warm-up included: every allowed consuming check of the row is
        // a count in the meter, and every count an allowed check.
        let allowed = after.intended - first.intended;
        let used = metered_counts(server.addr, &row.scenario.consumes)?;
        if used != allowed {
            bail!(
                "{}: the gateway allowed {allowed} consuming checks but its licenses' counts add up to {used}",
                row.scenario.name
            );
        }
        println!(
            "loadtest: {:<22} {used} api_calls over {} license(s), as many as allowed",
            row.scenario.name,
            row.scenario.consumes.len()
        );
        row.consumed = Some(used);
    }
    Ok(row)
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
    fn the_spread_script_picks_one_of_its_licenses_per_request() {
        let spread = scenarios()
            .into_iter()
            .find(|s| s.consumes.len() == SPREAD)
            .unwrap();
        let script = lua(&spread);
        assert_eq!(script.matches("bodies[#bodies + 1] = ").count(), SPREAD);
        assert!(
            script.contains(r#"\"license\":\"lic-spread-099\""#),
            "{script}"
        );
        assert!(script.contains("return requests[math.random(#requests)]"));
        let one = scenarios()
            .into_iter()
            .find(|s| s.name == "check-metered")
            .unwrap();
        assert!(!lua(&one).contains("request = function"));
    }

    #[test]
    fn lua_strings_are_escaped() {
        assert_eq!(lua_string(r#"{"a":"b\c"}"#), r#""{\"a\":\"b\\c\"}""#);
    }
}
