//! What the Caddy, Traefik and Envoy tests share: an upstream that records
//! every request it gets, a proxy process stopped on drop, and the one
//! scenario each proxy must pass in front of a real `entitle serve`.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{self, agent, free_port, Answer, Gateway};

/// The path the upstream answers without counting it: proxies that load
/// their routes after they listen are ready once it gets through.
pub const READY: &str = "/_proxy_ready";

/// One request as the upstream got it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`...
    pub method: String,
    /// The path with its query.
    pub target: String,
    /// Headers, names lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Seen {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `X-Entitle-*` headers.
    pub fn entitle_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(n, _)| n.starts_with("x-entitle-"))
            .cloned()
            .collect()
    }
}

/// A tiny HTTP/1.1 upstream answering every request `200 upstream ok`
/// (one request a connection) and keeping what it got.
pub struct Upstream {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Upstream {
    /// Listens on a free loopback port.
    pub fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve_one(stream, &shared));
            }
        });
        Upstream { addr, seen }
    }

    /// How many requests reached it.
    pub fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// The last request that reached it.
    pub fn last(&self) -> Seen {
        self.seen
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("no request reached the upstream")
    }
}

fn serve_one(mut stream: TcpStream, seen: &Mutex<Vec<Seen>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if name == "content-length" {
                length = value.trim().parse().unwrap_or(0);
            }
            headers.push((name, value.trim().to_string()));
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    if target != READY {
        seen.lock().unwrap().push(Seen {
            method,
            target,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    let answer = "upstream ok";
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

/// A template of `host/tests/proxies/` with its `{{NAME}}` placeholders filled in.
pub fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/proxies")
            .join(template),
    )
    .unwrap();
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(
        !text.contains("{{"),
        "a placeholder is left in {template}: {text}"
    );
    text
}

/// The lines that matter: no blank lines, no comments, trimmed.
fn significant(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split(" # ").next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Checks that docs/gateway.md shows the configuration the test runs: the
/// lines of `template` from the line `from` up to the line `until`
/// (excluded), filled in with `values` (the addresses the
/// docs use), appear in this order in the docs' section `heading`.
pub fn assert_documented(
    heading: &str,
    template: &str,
    values: &[(&str, String)],
    from: &str,
    until: Option<&str>,
) {
    let docs = std::fs::read_to_string(support::root().join("docs/gateway.md")).unwrap();
    let start = docs
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/gateway.md has no `## {heading}`"));
    let section = &docs[start + 1..];
    let section = &section[..section[1..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 1)];
    let documented = significant(section);
    let lines = significant(&render(template, values));
    let first = lines
        .iter()
        .position(|line| line == from)
        .unwrap_or_else(|| panic!("{template} has no `{from}`"));
    let last = until.map_or(lines.len(), |until| {
        lines
            .iter()
            .position(|line| line == until)
            .unwrap_or_else(|| panic!("{template} has no `{until}`"))
    });
    let mut at = 0;
    for line in &lines[first..last] {
        match documented[at..].iter().position(|doc| doc == line) {
            Some(found) => at += found + 1,
            None => panic!(
                "docs/gateway.md, `## {heading}`, does not show `{line}` of {template} (in its order)"
            ),
        }
    }
}

/// A binary `tests/setup.sh` installs with pip into `tests/proxies/pylib`.
pub fn pip_binary(relative: &str, name: &str) -> PathBuf {
    let path = support::root().join("tests/proxies/pylib").join(relative);
    assert!(
        path.is_file(),
        "{name} is not installed at `{}`: run `bash tests/setup.sh`",
        path.display()
    );
    path
}

/// A running proxy, killed (and waited for) on drop.
pub struct Proxy {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it wrote (stdout and stderr), for failure messages.
    pub log: PathBuf,
    /// Which proxy, for messages.
    pub name: &'static str,
}

impl Proxy {
    /// Starts `command` (its output going to `log`) and waits until `addr`
    /// answers `GET /_proxy_ready` through the proxy with the upstream's 200
    /// (or, with `ready_path` false, until `addr` accepts connections).
    pub fn start(
        name: &'static str,
        mut command: Command,
        addr: SocketAddr,
        log: PathBuf,
        ready_path: bool,
    ) -> Result<Proxy, String> {
        let out = std::fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} did not start: {e}"));
        let mut proxy = Proxy {
            child,
            addr,
            log,
            name,
        };
        let http = agent();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = proxy.child.try_wait().unwrap() {
                return Err(format!("{name} exited with {status}: {}", proxy.output()));
            }
            let ready = if ready_path {
                support::get(&http, &proxy.url(READY), &[])
                    .is_ok_and(|a| a.status == 200 && a.body == "upstream ok")
            } else {
                TcpStream::connect(addr).is_ok()
            };
            if ready {
                return Ok(proxy);
            }
            if Instant::now() > deadline {
                panic!(
                    "{name} was not ready on {addr} within 30 s: {}",
                    proxy.output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://addr` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the proxy wrote so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a proxy with `start(port)` on free ports until one is taken by
/// the proxy (another process may take a free port first).
pub fn start_on_free_port(mut start: impl FnMut(SocketAddr) -> Result<Proxy, String>) -> Proxy {
    let mut last = String::new();
    for _ in 0..5 {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        match start(addr) {
            Ok(proxy) => return proxy,
            Err(error) => last = error,
        }
    }
    panic!("the proxy did not start: {last}");
}

/// How a proxy is set up in front of the gateway.
pub struct Setup {
    /// The header the client names its license in.
    pub license_header: &'static str,
    /// What the client gets when the gateway cannot be reached.
    pub gateway_down_status: u16,
}

/// Every `X-Entitle-*` header a client might forge, and the two headers
/// that would pick the route, pointing at a route the license has.
const FORGED: [(&str, &str); 13] = [
    ("x-entitle-decision", "forged"),
    ("x-entitle-reason", "forged"),
    ("x-entitle-warning", "forged"),
    ("x-entitle-remaining", "forged"),
    ("x-entitle-valid-until", "forged"),
    ("x-entitle-status", "forged"),
    ("x-entitle-failure", "forged"),
    ("x-entitle-feature", "forged"),
    ("x-entitle-metric", "api_calls"),
    ("x-entitle-amount", "1000"),
    ("x-original-method", "GET"),
    ("x-original-uri", "/api/reports"),
    ("x-forwarded-uri", "/api/reports"),
];

/// The refusal body forward-auth answers and the proxy passes on.
fn refusal(answer: &Answer) -> Value {
    assert_eq!(
        answer.header("content-type"),
        Some("application/json"),
        "{answer:?}"
    );
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("not json ({e}): {answer:?}"))
}

/// The scenario every proxy passes: allowed, in grace, denied, over quota,
/// unknown or no license, retries counted once, forged headers stripped,
/// and nothing reaching the upstream once the gateway is down.
pub fn scenario(setup: &Setup, gateway: Gateway, proxy: &Proxy, upstream: &Upstream) {
    let name = proxy.name;
    let http = agent();
    let send = |method: &str, path: &str, license: Option<&str>, extra: &[(&str, &str)]| {
        let mut headers = extra.to_vec();
        if let Some(license) = license {
            headers.push((setup.license_header, license));
        }
        let answer = match method {
            "GET" => support::get(&http, &proxy.url(path), &headers),
            "POST" => support::post(&http, &proxy.url(path), &json!({}), &headers),
            other => panic!("no {other} here"),
        };
        answer.unwrap_or_else(|e| panic!("{name}: {method} {path}: {e}: {}", proxy.output()))
    };
    let used = |license: &str| support::used(&gateway, license, "api_calls");

    // Allowed: the upstream answers and is told the decision.
    let a = send("GET", "/api/reports?page=2", Some("lic-basic"), &[]);
    assert_eq!(
        (a.status, a.body.as_str()),
        (200, "upstream ok"),
        "{name}: {a:?}"
    );
    assert_eq!(upstream.hits(), 1);
    let seen = upstream.last();
    assert_eq!(
        (seen.method.as_str(), seen.target.as_str()),
        ("GET", "/api/reports?page=2")
    );
    assert_eq!(
        seen.header("x-entitle-decision"),
        Some("allow"),
        "{name}: {seen:?}"
    );
    assert_eq!(
        seen.header("x-entitle-reason"),
        Some("entitled"),
        "{name}: {seen:?}"
    );
    assert_eq!(seen.header("x-entitle-warning"), None, "{name}: {seen:?}");

    // In grace: the upstream still answers, and gets the warning.
    let a = send("GET", "/api/reports", Some("lic-grace"), &[]);
    assert_eq!(
        (a.status, a.body.as_str()),
        (200, "upstream ok"),
        "{name}: {a:?}"
    );
    assert_eq!(upstream.hits(), 2);
    let seen = upstream.last();
    assert_eq!(
        seen.header("x-entitle-decision"),
        Some("allow_in_grace"),
        "{name}: {seen:?}"
    );
    assert_eq!(
        seen.header("x-entitle-warning"),
        Some("in grace: renewal_grace"),
        "{name}: {seen:?}"
    );

    // Denied: basic has no sso. The client gets the gateway's 403 and why.
    let a = send("GET", "/api/sso", Some("lic-basic"), &[]);
    assert_eq!(a.status, 403, "{name}: {a:?}");
    assert_eq!(
        a.header("x-entitle-reason"),
        Some("feature_not_entitled"),
        "{name}: {a:?}"
    );
    assert_eq!(
        refusal(&a),
        json!({"decision": "deny", "reason": "feature_not_entitled"}),
        "{name}"
    );
    assert_eq!(
        upstream.hits(),
        2,
        "{name}: a refused request reached the upstream"
    );

    // The client cannot pick the route or the feature it is checked for.
    let a = send("GET", "/api/sso", Some("lic-basic"), &FORGED);
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (403, Some("feature_not_entitled")),
        "{name}: {a:?}"
    );
    assert_eq!(
        upstream.hits(),
        2,
        "{name}: a refused request reached the upstream"
    );

    // Over quota: basic has 3 searches a day (hard); the body reaches the
    // upstream; the 4th is 402 with the reason.
    for left in [2, 1, 0] {
        let a = send("POST", "/api/search", Some("lic-basic"), &[]);
        assert_eq!(
            (a.status, a.body.as_str()),
            (200, "upstream ok"),
            "{name}: {a:?}"
        );
        let seen = upstream.last();
        assert_eq!(
            (seen.method.as_str(), seen.body.as_str()),
            ("POST", "{}"),
            "{name}"
        );
        assert_eq!(
            seen.header("x-entitle-remaining"),
            Some(left.to_string().as_str()),
            "{name}: {seen:?}"
        );
    }
    assert_eq!(upstream.hits(), 5);
    assert_eq!(used("lic-basic"), 3);
    let a = send("POST", "/api/search", Some("lic-basic"), &[]);
    assert_eq!(a.status, 402, "{name}: {a:?}");
    assert_eq!(
        a.header("x-entitle-reason"),
        Some("quota_exceeded"),
        "{name}: {a:?}"
    );
    assert_eq!(a.header("x-entitle-status"), Some("402"), "{name}: {a:?}");
    assert_eq!(
        refusal(&a),
        json!({"decision": "deny", "reason": "quota_exceeded"}),
        "{name}"
    );
    assert_eq!(
        upstream.hits(),
        5,
        "{name}: an over-quota request reached the upstream"
    );
    assert_eq!(used("lic-basic"), 3);

    // Unknown license, and none at all.
    let a = send("GET", "/api/reports", Some("lic-nobody"), &[]);
    assert_eq!(a.status, 403, "{name}: {a:?}");
    assert_eq!(
        refusal(&a),
        json!({"decision": "error", "reason": "unknown_license"}),
        "{name}"
    );
    let a = send("GET", "/api/reports", None, &[]);
    assert_eq!(a.status, 403, "{name}: {a:?}");
    assert_eq!(
        refusal(&a),
        json!({"decision": "error", "reason": "missing_license"}),
        "{name}"
    );
    assert_eq!(
        upstream.hits(),
        5,
        "{name}: a refused request reached the upstream"
    );

    // A retry with the client's key is counted once, by `Idempotency-Key`
    // and by `X-Request-Id`; a request without a key is counted anew.
    assert_eq!(used("lic-pro"), 0);
    for (header, key, count) in [
        ("idempotency-key", "retry-1", 1),
        ("idempotency-key", "retry-1", 1),
        ("x-request-id", "retry-2", 2),
        ("x-request-id", "retry-2", 2),
    ] {
        let a = send("POST", "/api/search", Some("lic-pro"), &[(header, key)]);
        assert_eq!(
            (a.status, a.body.as_str()),
            (200, "upstream ok"),
            "{name}: {a:?}"
        );
        assert_eq!(
            used("lic-pro"),
            count,
            "{name}: {header} {key} counted again"
        );
    }
    send("POST", "/api/search", Some("lic-pro"), &[]);
    assert_eq!(used("lic-pro"), 3, "{name}");
    assert_eq!(upstream.hits(), 10);

    // Forged headers never reach the upstream: it sees the gateway's
    // answer only, and no placeholder text. basic's quota is spent, so had
    // the forged metric reached the gateway this would be refused.
    let a = send("GET", "/api/reports", Some("lic-basic"), &FORGED);
    assert_eq!(
        (a.status, a.body.as_str()),
        (200, "upstream ok"),
        "{name}: {a:?}"
    );
    assert_eq!(upstream.hits(), 11);
    let seen = upstream.last();
    let entitle = seen.entitle_headers();
    assert_eq!(
        seen.header("x-entitle-decision"),
        Some("allow"),
        "{name}: {entitle:?}"
    );
    assert_eq!(
        seen.header("x-entitle-reason"),
        Some("entitled"),
        "{name}: {entitle:?}"
    );
    for (header, value) in &entitle {
        assert!(
            value != "forged"
                && !value.contains('{')
                && ![
                    "x-entitle-feature",
                    "x-entitle-metric",
                    "x-entitle-amount",
                    "x-entitle-warning",
                    "x-entitle-remaining",
                    "x-entitle-failure"
                ]
                .contains(&header.as_str()),
            "{name}: the upstream got `{header}: {value}`: {entitle:?}"
        );
    }
    assert_eq!(used("lic-basic"), 3, "{name}");

    // No gateway, no access: the proxy refuses and the upstream is not reached.
    drop(gateway);
    let a = send("GET", "/api/reports", Some("lic-basic"), &[]);
    assert_eq!(a.status, setup.gateway_down_status, "{name}: {a:?}");
    let a = send("POST", "/api/search", Some("lic-pro"), &[]);
    assert_eq!(a.status, setup.gateway_down_status, "{name}: {a:?}");
    assert_eq!(
        upstream.hits(),
        11,
        "{name}: a request went through without a decision"
    );
}
