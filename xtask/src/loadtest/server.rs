//! The gateway under test: the release build, its signed documents, the process, and what its metrics say.

use super::*;

/// Builds the release CLI; the path of the `entitle` binary cargo reports.
pub(super) fn build_release() -> anyhow::Result<PathBuf> {
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

/// The bundle, the licenses (`lic-load` and the spread ones; a billion
/// calls a month each, hard: the run cannot spend them) and an empty meter
/// database.
pub(super) fn write_documents(dir: &Path, entitle: &Path, root: &Path) -> anyhow::Result<()> {
    let licenses = dir.join("licenses");
    fs::create_dir_all(&licenses)
        .with_context(|| format!("cannot create `{}`", licenses.display()))?;
    for stale in [
        "meter.db",
        "meter.db-wal",
        "meter.db-shm",
        "decisions.jsonl",
    ] {
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
    let license = |id: &str| {
        json!({
          "license": id, "customer": format!("cus-{id}"), "tier": "scale", "addons": [], "seats": 5,
          "term": { "start": stamp(start), "end": stamp(end) },
          "status": "active", "time_zone": "UTC",
          "anchor_date": start.format("%Y-%m-%d").to_string(),
          "exceptions": []
        })
    };
    let mut documents = vec![(dir.join("bundle.json"), "bundle", bundle)];
    for id in std::iter::once(LICENSE.to_string()).chain((0..SPREAD).map(spread_license)) {
        let path = licenses.join(format!("{id}.json"));
        documents.push((path, "license", license(&id)));
    }
    // Signed with the test-only key, as a vendor would with `entitle sign`:
    // the gateway serves signed documents.
    let key = root.join("tests/conformance/fixtures/keys/test-only-a.pem");
    for (path, kind, value) in documents {
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
pub(super) struct Server {
    pub(super) child: Child,
    pub(super) pid: u32,
    pub(super) addr: SocketAddr,
}

impl Server {
    pub(super) fn start(
        binary: &Path,
        module: &Path,
        dir: &Path,
        options: &Options,
        meter: &[String],
    ) -> anyhow::Result<Server> {
        // Its own SQLite meter unless `meter` names a fleet's store.
        let database = if meter.is_empty() {
            vec![
                std::ffi::OsString::from("--database"),
                dir.join("meter.db").into_os_string(),
            ]
        } else {
            Vec::new()
        };
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
            .args(database)
            .args(meter)
            .args(["--workers", &options.workers.to_string()])
            .args(["--watch-ms", "0"])
            .args(if options.decision_log {
                vec![
                    std::ffi::OsString::from("--decision-log"),
                    dir.join("decisions.jsonl").into_os_string(),
                ]
            } else {
                Vec::new()
            })
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
    pub(super) fn stop(&mut self) {
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

/// A GET over a fresh connection; the body.
pub(super) fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<String> {
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

/// Decisions the gateway counted on a scenario's endpoint.
pub(super) struct Decisions {
    /// With the outcome the scenario intends (every reason).
    pub(super) intended: u64,
    /// With any outcome.
    pub(super) all: u64,
    /// The metrics' lines of other outcomes, of module failures and of
    /// compact checks, to say what went otherwise.
    pub(super) otherwise: Vec<String>,
}

/// How many decisions the gateway counted for a scenario's endpoint, with
/// its outcome and with any; none for the baseline.
pub(super) fn decisions(addr: SocketAddr, scenario: &Scenario) -> anyhow::Result<Decisions> {
    let Some((endpoint, outcome)) = scenario.decision else {
        return Ok(Decisions {
            intended: 0,
            all: 0,
            otherwise: Vec::new(),
        });
    };
    let metrics = http_get(addr, "/metrics")?;
    let sum = |prefix: &str| -> u64 {
        metrics
            .lines()
            .filter(|line| line.starts_with(prefix))
            .filter_map(|line| line.rsplit(' ').next())
            .filter_map(|n| n.parse::<f64>().ok())
            .map(|n| n as u64)
            .sum()
    };
    Ok(Decisions {
        intended: sum(&format!(
            "entitle_decisions_total{{endpoint=\"{endpoint}\",outcome=\"{outcome}\","
        )),
        all: sum(&format!(
            "entitle_decisions_total{{endpoint=\"{endpoint}\","
        )),
        otherwise: metrics
            .lines()
            .filter(|line| {
                (line.starts_with("entitle_decisions_total")
                    && !line.contains(&format!("outcome=\"{outcome}\"")))
                    || line.starts_with("entitle_module_failures_total")
                    || line.starts_with("entitle_compact_")
            })
            .map(str::to_string)
            .collect(),
    })
}

/// The decisions once the gateway has finished every request in flight:
/// two readings 200 ms apart that agree (at most 10 s).
pub(super) fn settled(addr: SocketAddr, scenario: &Scenario) -> anyhow::Result<Decisions> {
    let mut last = decisions(addr, scenario)?;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(200));
        let now = decisions(addr, scenario)?;
        if now.all == last.all {
            return Ok(now);
        }
        last = now;
    }
    bail!("{}: the gateway's decisions did not settle", scenario.name)
}

/// The licenses' `api_calls` counts added up, as their statuses report them.
pub(super) fn metered_counts(addr: SocketAddr, licenses: &[String]) -> anyhow::Result<u64> {
    let mut total = 0;
    for license in licenses {
        total += metered_count(addr, license)?;
    }
    Ok(total)
}

/// A license's `api_calls` count, as its status reports it.
pub(super) fn metered_count(addr: SocketAddr, license: &str) -> anyhow::Result<u64> {
    let body = http_get(addr, &format!("/v1/status/{license}"))?;
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
        .with_context(|| format!("no api_calls count in the status of `{license}`"))
}
