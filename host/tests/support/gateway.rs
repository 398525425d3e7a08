//! A real `entitle serve` process on a free port, with documents written
//! for the test (dates relative to now, signed with the test-only key), and
//! an HTTP client to talk to it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, Days, Utc};
use serde_json::{json, Value};

use super::keys_dir;

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The test bundle, `version` as given: `basic` has 3 `api_calls` a day
/// (hard), `pro` 1000 a month (soft), `reports` and `sso` are boolean (`sso`
/// fails open); routes map `/api/reports`, `POST /api/search` and `/api/sso`.
pub fn bundle(version: &str) -> Value {
    json!({
      "bundle": "gateway-test",
      "version": version,
      "currency": "USD",
      "billing_period": "month",
      "features": {
        "api_calls": { "kind": "metered", "unit": "call" },
        "reports": { "kind": "boolean" },
        "sso": { "kind": "boolean", "on_failure": "open" }
      },
      "tiers": {
        "basic": {
          "rank": 1, "price": "10.00", "features": ["api_calls", "reports"],
          "quotas": { "api_calls": { "limit": 3, "period": "day", "enforcement": { "mode": "hard" } } }
        },
        "pro": {
          "rank": 2, "price": "50.00", "features": ["api_calls", "reports", "sso"],
          "quotas": { "api_calls": { "limit": 1000000, "period": "month",
            "enforcement": { "mode": "soft", "grace_allowance": { "percent": "10" }, "grace_hours": 48 } } }
        }
      },
      "expiry": { "renewal_grace_days": 10, "expiring_soon_days": 30, "after_grace": { "access": "revoke" } },
      "gateway": { "routes": [
        { "method": "GET", "path": "/api/reports", "feature": "reports" },
        { "method": "POST", "path": "/api/search", "metric": "api_calls", "amount": 1 },
        { "path": "/api/sso", "feature": "sso" }
      ] }
    })
}

/// A license of `tier` whose term runs from `start_days_ago` days ago for `days` days.
pub fn license(id: &str, tier: &str, start_days_ago: u64, days: u64) -> Value {
    let now = Utc::now();
    let start = now.checked_sub_days(Days::new(start_days_ago)).unwrap();
    let end = start.checked_add_days(Days::new(days)).unwrap();
    json!({
      "license": id, "customer": format!("cus-{id}"), "tier": tier, "addons": [], "seats": 5,
      "term": { "start": at(start), "end": at(end) },
      "status": "active", "time_zone": "UTC",
      "anchor_date": start.format("%Y-%m-%d").to_string(),
      "exceptions": []
    })
}

/// Writes the bundle and the standard licenses: `lic-basic`, `lic-pro`,
/// and `lic-grace` (pro, term ended 2 days ago: in renewal grace).
/// Every document is signed with the test-only key `test-only-a`.
pub fn write_documents(dir: &Path, version: &str) {
    write_bundle(dir, &bundle(version));
    for (id, tier, ago, days) in [
        ("lic-basic", "basic", 30, 365),
        ("lic-pro", "pro", 30, 365),
        ("lic-grace", "pro", 367, 365),
    ] {
        write_license(dir, &license(id, tier, ago, days));
    }
}

/// Signs `value` as `kind` with `entitle sign` and the test-only key
/// `test-only-a`, as a vendor would, and writes the envelope to `path`.
pub fn write_signed(path: &Path, kind: &str, value: &Value) {
    let plain = path.with_extension("plain");
    std::fs::write(&plain, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_entitle"))
        .arg("sign")
        .arg("--key")
        .arg(keys_dir().join("test-only-a.pem"))
        .args(["--key-id", "test-only-a", "--kind", kind])
        .arg(&plain)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "entitle sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&plain).unwrap();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &out.stdout).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Writes the bundle, signed.
pub fn write_bundle(dir: &Path, value: &Value) {
    write_signed(&dir.join("bundle.json"), "bundle", value);
}

/// Writes a license, signed, as `licenses/<id>.json`.
pub fn write_license(dir: &Path, value: &Value) {
    let id = value["license"].as_str().unwrap();
    std::fs::create_dir_all(dir.join("licenses")).unwrap();
    write_signed(
        &dir.join("licenses").join(format!("{id}.json")),
        "license",
        value,
    );
}

/// Writes JSON through a rename, so a watching gateway never reads half a file.
pub fn write_json(path: &Path, value: &Value) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A running gateway.
pub struct Gateway {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its log lines so far are sent here.
    pub log: mpsc::Receiver<String>,
}

impl Gateway {
    /// The `entitle serve` command for the documents in `dir` with the
    /// module `module` and extra flags, its meter database `dir/meter.db`
    /// unless `extra` names a `--meter`.
    /// Documents must be signed by the test-only keys unless `extra` has
    /// `--allow-unsigned`.
    pub fn command(dir: &Path, module: &Path, extra: &[&str]) -> Command {
        let keys = if extra.contains(&"--allow-unsigned") {
            Vec::new()
        } else {
            vec![
                std::ffi::OsString::from("--keys"),
                keys_dir().join("keys.json").into_os_string(),
            ]
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_entitle"));
        command
            .arg("serve")
            .args(keys)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--module")
            .arg(module)
            .arg("--bundle")
            .arg(dir.join("bundle.json"))
            .arg("--licenses")
            .arg(dir.join("licenses"));
        // A gateway of a fleet counts in the store `--meter` names.
        if !extra.contains(&"--meter") {
            command.arg("--database").arg(dir.join("meter.db"));
        }
        command.args(extra);
        command
    }

    /// Starts [`Gateway::command`] and waits until it listens.
    pub fn start(dir: &Path, module: &Path, extra: &[&str]) -> Gateway {
        std::fs::create_dir_all(dir.join("licenses")).unwrap();
        let mut child = Gateway::command(dir, module, extra)
            .env("ENTITLE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = match log.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    panic!("the gateway did not start: {:?}", child.wait());
                }
            };
            let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if entry["fields"]["message"] == "serving" {
                let addr = entry["fields"]["listen"].as_str().unwrap().parse().unwrap();
                return Gateway { child, addr, log };
            }
        }
    }

    /// `http://addr`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`HUP`, `KILL`, `TERM`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end.
    pub fn wait(mut self) -> std::process::ExitStatus {
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }

    /// Waits for a log line whose message is `message`.
    pub fn wait_for_log(&self, message: &str, within: Duration) -> Value {
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self
                .log
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no `{message}` log line"));
            if let Ok(entry) = serde_json::from_str::<Value>(&line) {
                if entry["fields"]["message"] == message {
                    return entry;
                }
            }
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not json ({e}): {}", self.body))
    }
}

/// An HTTP client with keep-alive that never treats a status as an error.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn answer(response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let body = response.into_body().read_to_string().unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

/// POSTs JSON.
pub fn post(
    agent: &ureq::Agent,
    url: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> Result<Answer, ureq::Error> {
    let mut request = agent.post(url).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send(body.to_string()).map(answer)
}

/// GETs, with headers.
pub fn get(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Answer, ureq::Error> {
    let mut request = agent.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.call().map(answer)
}

/// The count the gateway's status shows for a license's metric.
pub fn used(gw: &Gateway, license: &str, metric: &str) -> u64 {
    let status = get(&agent(), &gw.url(&format!("/v1/status/{license}")), &[])
        .unwrap()
        .json();
    status["result"]["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["metric"] == metric)
        .unwrap()["used"]
        .as_u64()
        .unwrap()
}

/// A counter or gauge of a gateway's `/metrics`, without labels.
pub fn counter(gw: &Gateway, name: &str) -> u64 {
    let metrics = get(&agent(), &gw.url("/metrics"), &[]).unwrap().body;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
        .parse()
        .unwrap()
}
