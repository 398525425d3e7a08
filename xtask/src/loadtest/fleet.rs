//! `cargo xtask loadtest --fleet`: the consuming rows on every meter a
//! gateway can count in (its own SQLite; Redis and PostgreSQL, exact and
//! leased), beside what each store does on its own in the same run
//! (`redis-benchmark` running the consume script, `pgbench` calling the
//! consume function), so each row's share of its store's ceiling shows.
//!
//! The stores are started here, on free loopback ports in folders of the
//! run's own (Debian's redis-server with `appendfsync everysec`, a
//! PostgreSQL cluster made by `initdb` with its default durability), and
//! stopped at the end. Every row is checked as the single-meter rows are:
//! every request decided as intended, and the licenses' counts in the
//! store equal to the allowed checks (leases settled first).

use super::*;

/// Where the section of `BENCHMARKS.md` starts and ends.
const FLEET_BEGIN: &str =
    "<!-- loadtest-fleet:begin (written by `cargo xtask loadtest --fleet`) -->";
const FLEET_END: &str = "<!-- loadtest-fleet:end -->";

/// Units a lease reserves (the `-lease` rows; the `-lease-1000` rows
/// reserve ten times as many), and how long it is spent from.
const LEASE: &str = "api_calls=100";
const LEASE_LARGE: &str = "api_calls=1000";
const LEASE_TTL_MS: u64 = 1000;

/// Every meter the table measures, in its order.
pub(super) const METERS: [&str; 6] = [
    "sqlite",
    "redis",
    "redis-lease",
    "postgres",
    "postgres-lease",
    "postgres-lease-1000",
];

/// The consume script's hot key, as the gateway names it.
const BENCH_KEY: &str = "entitle:{lic-bench}:count:api_calls:1796083200";

/// One way of counting, measured on the consuming rows.
struct Meter {
    name: &'static str,
    flags: Vec<String>,
    leased: bool,
}

/// What a store does on its own.
struct Ceiling {
    what: String,
    rps: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    latency_avg_ms: Option<f64>,
}

/// Runs the task.
pub(super) fn run(options: &Options) -> anyhow::Result<()> {
    let Prepared {
        wrk,
        entitle,
        root,
        dir,
        scripts,
    } = prepare()?;

    let redis = Redis::start(&dir.join("redis"))?;
    let postgres = Postgres::start()?;
    let journal = |name: &str| dir.join(format!("{name}.journal")).display().to_string();
    let meter = |name: &'static str, url: &str, lease: Option<&str>| {
        let leased = lease.is_some();
        let mut flags = vec![
            String::from("--meter"),
            url.to_string(),
            String::from("--fleet-journal"),
            journal(name),
        ];
        if let Some(lease) = lease {
            flags.extend([
                String::from("--lease"),
                String::from(lease),
                String::from("--lease-ttl-ms"),
                LEASE_TTL_MS.to_string(),
            ]);
        }
        Meter {
            name,
            flags,
            leased,
        }
    };
    let meters = vec![
        Meter {
            name: "sqlite",
            flags: Vec::new(),
            leased: false,
        },
        meter("redis", &redis.url, None),
        meter("redis-lease", &redis.url, Some(LEASE)),
        meter("postgres", &postgres.url, None),
        meter("postgres-lease", &postgres.url, Some(LEASE)),
        meter("postgres-lease-1000", &postgres.url, Some(LEASE_LARGE)),
    ];
    let names: Vec<&str> = meters.iter().map(|m| m.name).collect();
    anyhow::ensure!(names == METERS, "the meters run ({names:?}) are not METERS");
    // SQLite always runs: every other row's ratio is to it.
    let meters: Vec<Meter> = meters
        .into_iter()
        .filter(|m| {
            m.name == "sqlite"
                || options.meters.is_empty()
                || options.meters.iter().any(|n| n == m.name)
        })
        .collect();
    let module = root.join("dist/entitle.wasm");
    let mut rows: Vec<(&'static str, Row)> = Vec::new();
    let mut base = None;
    for meter in &meters {
        let _ = fs::remove_file(journal(meter.name));
        redis.flush()?;
        postgres.empty()?;
        let mut server = Server::start(&entitle, &module, &dir, options, &meter.flags)?;
        println!("loadtest: meter {} (pid {})", meter.name, server.pid);
        let settle = if meter.leased {
            Duration::from_millis(LEASE_TTL_MS * 2)
        } else {
            Duration::ZERO
        };
        for scenario in scenarios() {
            let baseline = scenario.decision.is_none();
            if (baseline && base.is_some()) || (!baseline && scenario.consumes.is_empty()) {
                continue;
            }
            let row = measure(&wrk, options, &scripts, &server, scenario, base, settle)?;
            if baseline {
                base = Some(row.measured.rps);
            }
            rows.push((meter.name, row));
        }
        server.stop();
    }
    let ceilings = vec![
        redis.benchmark(&root, options)?,
        postgres.benchmark(&dir, options)?,
    ];
    for ceiling in &ceilings {
        println!("loadtest: {} {:.0} calls/s", ceiling.what, ceiling.rps);
    }
    drop(redis);
    drop(postgres);

    let section = report(
        options,
        &rows,
        &ceilings,
        &Machine::read(),
        &wrk_version(&wrk),
    );
    println!("\n{section}");
    if options.write {
        let path = root.join("BENCHMARKS.md");
        update_between(&path, &section, FLEET_BEGIN, FLEET_END)?;
        println!("loadtest: wrote the section to `{}`", path.display());
    }
    Ok(())
}

/// A free loopback port.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("no free port")?;
    Ok(listener.local_addr().context("no free port")?.port())
}

/// A redis-server of the run's own.
struct Redis {
    child: Child,
    port: u16,
    url: String,
}

impl Redis {
    fn start(dir: &Path) -> anyhow::Result<Redis> {
        let _ = fs::remove_dir_all(dir);
        fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
        let port = free_port()?;
        let child = Command::new("/usr/bin/redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start redis-server: run `bash tests/setup.sh` to install it")?;
        let redis = Redis {
            child,
            port,
            url: format!("redis://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.cli(&["PING"]).is_err() {
            if Instant::now() > deadline {
                bail!("redis-server did not answer on port {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(redis)
    }

    fn cli(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .context("cannot run redis-cli")?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if !out.status.success() || text.starts_with("Could not connect") {
            bail!("redis-cli {args:?}: {text}");
        }
        Ok(text)
    }

    fn flush(&self) -> anyhow::Result<()> {
        self.cli(&["FLUSHALL"]).map(|_| ())
    }

    /// `redis-benchmark` running the gateway's consume script on one hot
    /// count, 32 connections, as the gateway calls it.
    fn benchmark(&self, root: &Path, options: &Options) -> anyhow::Result<Ceiling> {
        let script = fs::read_to_string(root.join("host/src/gateway/store/consume.lua"))
            .context("cannot read consume.lua")?;
        let requests = (options.duration * 20_000).to_string();
        let out = Command::new("redis-benchmark")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "-c",
                &options.connections.to_string(),
                "-n",
                &requests,
                "--csv",
            ])
            .args(["EVAL", &script, "3", BENCH_KEY])
            .args(["entitle:{lic-bench}:key:", "entitle:{lic-bench}:periods"])
            .args([
                "1",
                "1000000000000",
                "4102444800000",
                "",
                "2026-12-06T00:00:00Z",
            ])
            .args(["86400000", "", "", "api_calls", "1796083200", ""])
            .output()
            .context("cannot run redis-benchmark")?;
        let text = String::from_utf8_lossy(&out.stdout);
        // The test's name is the whole command, the script's newlines in it.
        let mut records = csv(&text).into_iter();
        let header = records.next().unwrap_or_default();
        let values = records.next().unwrap_or_default();
        let field = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| values.get(i))
                .and_then(|v| v.parse::<f64>().ok())
        };
        let rps = field("rps").with_context(|| format!("redis-benchmark said: {text}"))?;
        let counted = self.cli(&["HGET", BENCH_KEY, "used"])?;
        if counted.trim().parse::<u64>().ok() != Some(options.duration * 20_000) {
            bail!(
                "redis-benchmark's consumes left `{}` counted",
                counted.trim()
            );
        }
        Ok(Ceiling {
            what: format!(
                "`redis-benchmark -c {} -n {requests} EVAL <consume.lua> 3 …` (one hot count)",
                options.connections
            ),
            rps,
            p50_ms: field("p50_latency_ms"),
            p99_ms: field("p99_latency_ms"),
            latency_avg_ms: field("avg_latency_ms"),
        })
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The records of CSV text whose fields are quoted (`""` a quote) and may
/// hold newlines.
fn csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

/// A PostgreSQL cluster of the run's own.
struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    url: String,
}

impl Postgres {
    fn start() -> anyhow::Result<Postgres> {
        let bin = fs::read_dir("/usr/lib/postgresql")
            .context("PostgreSQL is not installed: run `bash tests/setup.sh`")?
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").is_file())
            .max()
            .context("no initdb under /usr/lib/postgresql")?;
        let dir = std::env::temp_dir().join(format!("entitle-loadtest-pg-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
        if is_root() {
            run_ok(
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres:postgres")
                    .arg(&dir),
            )?;
        }
        let data = dir.join("data");
        run_ok(as_postgres(&bin.join("initdb")).arg("-D").arg(&data).args([
            "-U",
            "entitle",
            "--auth=trust",
            "-E",
            "UTF8",
        ]))?;
        let port = free_port()?;
        let settings = format!(
            "-p {port} -h 127.0.0.1 -k {} -c max_connections=200",
            dir.display()
        );
        run_ok(
            as_postgres(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.join("log"))
                .args(["-w", "-t", "30", "-o", &settings, "start"]),
        )?;
        Ok(Postgres {
            bin,
            dir,
            port,
            url: format!("postgres://entitle@127.0.0.1:{port}/postgres"),
        })
    }

    /// A client program of the cluster, connected as the gateway is.
    fn client(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "entitle",
        ]);
        command
    }

    fn psql(&self, sql: &str) -> anyhow::Result<()> {
        run_ok(self.client("psql").args([
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            sql,
        ]))
    }

    /// Empties the gateway's tables, when there are any.
    fn empty(&self) -> anyhow::Result<()> {
        self.psql(
            "DO $$ BEGIN IF to_regclass('entitle_counts') IS NOT NULL THEN \
             TRUNCATE entitle_counts, entitle_keys, entitle_settled; END IF; END $$;",
        )
    }

    /// `pgbench` calling the consume function on one hot count, as many
    /// clients as wrk's connections.
    fn benchmark(&self, dir: &Path, options: &Options) -> anyhow::Result<Ceiling> {
        self.empty()?;
        let script = dir.join("pgbench-consume.sql");
        fs::write(
            &script,
            "SELECT r_outcome FROM entitle_consume('lic-bench', 'api_calls', 1796083200, \
             4102444800, 1, 1000000000000, NULL, NULL, '2026-12-06T00:00:00Z', 0, NULL, NULL, NULL);\n",
        )
        .context("cannot write the pgbench script")?;
        let out = self
            .client("pgbench")
            .args(["-n", "-c", &options.connections.to_string(), "-j", "2"])
            .args(["-T", &options.duration.to_string(), "-f"])
            .arg(&script)
            .arg("postgres")
            .output()
            .context("cannot run pgbench")?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let number = |prefix: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(prefix))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<f64>().ok())
        };
        let rps = number("tps = ").with_context(|| format!("pgbench said: {text}"))?;
        Ok(Ceiling {
            what: format!(
                "`pgbench -c {} -j 2 -T {}` calling `entitle_consume` (one hot count)",
                options.connections, options.duration
            ),
            rps,
            p50_ms: None,
            p99_ms: None,
            latency_avg_ms: number("latency average = "),
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .output();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// PostgreSQL refuses to run as root: as the `postgres` user then.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run_ok(command: &mut Command) -> anyhow::Result<()> {
    let out = command
        .output()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The section of `BENCHMARKS.md`.
fn report(
    options: &Options,
    rows: &[(&'static str, Row)],
    ceilings: &[Ceiling],
    machine: &Machine,
    wrk_version: &str,
) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{FLEET_BEGIN}");
    let _ = writeln!(text, "## A fleet's meters under load\n");
    let _ = writeln!(text, "```sh\ncargo xtask loadtest --fleet\n```\n");
    paragraph(
        &mut text,
        &format!(
            "One `entitle serve --workers {}` (release build) per meter in turn, on loopback, \
             driven by {wrk_version} (`wrk {}`), on {} ({} logical CPUs, {} memory), {}. \
             The store runs on the same two cores as the gateway and wrk. Redis: \
             `appendonly yes`, `appendfsync everysec`. PostgreSQL: `initdb` defaults \
             (`synchronous_commit = on`, fsync on). Leases: `--lease {LEASE} --lease-ttl-ms \
             {LEASE_TTL_MS}` (`-lease` rows), `--lease {LEASE_LARGE}` (`-lease-1000` rows: \
             at most 1,000 units a gateway may leave unspent at a period's end instead of \
             100, one reservation per 1,000 checks). Every row's licenses' counts in the store equal its allowed \
             checks (leases settled first). % SQLite: the row's rate over the SQLite meter's \
             same row in this run.",
            options.workers,
            options.wrk_flags().join(" "),
            machine.model,
            machine.cpus,
            machine.memory,
            chrono::Utc::now().format("%Y-%m-%d"),
        ),
    );
    let _ = writeln!(
        text,
        "| meter | row | checks/s | % SQLite | p50 ms | p99 ms | gateway CPU | other CPU |"
    );
    let _ = writeln!(
        text,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let sqlite = |name: &str| {
        rows.iter()
            .find(|(meter, row)| *meter == "sqlite" && row.scenario.name == name)
            .map(|(_, row)| row.measured.rps)
    };
    for (meter, row) in rows {
        let m = &row.measured;
        let share = sqlite(row.scenario.name)
            .filter(|_| row.scenario.decision.is_some())
            .map_or(String::from("–"), |base| {
                format!("{:.0}%", 100.0 * m.rps / base)
            });
        let _ = writeln!(
            text,
            "| {meter} | {} | {} | {share} | {:.2} | {:.2} | {:.0}% | {:.0}% |",
            row.scenario.name,
            thousands(m.rps as u64),
            m.p50_ms,
            m.p99_ms,
            m.share(m.server_cpu),
            m.share(m.other_cpu()),
        );
    }
    let _ = writeln!(text);
    let _ = writeln!(text, "The stores on their own, in the same run:\n");
    for ceiling in ceilings {
        let latency = match (ceiling.p50_ms, ceiling.p99_ms, ceiling.latency_avg_ms) {
            (Some(p50), Some(p99), _) => format!(", p50 {p50:.2} ms, p99 {p99:.2} ms"),
            (_, _, Some(avg)) => format!(", average latency {avg:.2} ms"),
            _ => String::new(),
        };
        let _ = writeln!(
            text,
            "- {}: {} calls/s{latency}",
            ceiling.what,
            thousands(ceiling.rps as u64)
        );
    }
    let _ = writeln!(text, "\n{FLEET_END}");
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn csv_fields_keep_their_newlines_and_quotes() {
        let text = "\"test\",\"rps\"\n\"EVAL -- a\n-- \"\"b\"\"\",\"123.5\"\n";
        assert_eq!(
            super::csv(text),
            [vec!["test", "rps"], vec!["EVAL -- a\n-- \"b\"", "123.5"]]
        );
    }
}
