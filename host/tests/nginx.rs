//! The gateway behind a real nginx: `auth_request` asks `entitle serve`
//! before every request, and the client sees the gateway's decision (status
//! and `X-Entitle-*` headers) while refused requests never reach the upstream.
//!
//! Needs Debian's nginx: `bash tests/setup.sh` installs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{agent, get, write_documents, Answer, Gateway};

/// The nginx binary Debian installs.
fn nginx_binary() -> PathBuf {
    let installed = Path::new("/usr/sbin/nginx");
    if installed.is_file() {
        return installed.to_path_buf();
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("nginx"))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_default();
    on_path.unwrap_or_else(|| {
        panic!(
            "nginx is not installed: run `bash tests/setup.sh` (as root) to install Debian's nginx"
        )
    })
}

/// What the upstream saw: how many requests, and their request lines.
#[derive(Default)]
struct Hits {
    count: AtomicUsize,
    lines: Mutex<Vec<String>>,
}

/// A tiny HTTP/1.1 upstream answering every request `200 upstream ok`.
fn upstream() -> (SocketAddr, Arc<Hits>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(Hits::default());
    let seen = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || serve_one(stream, &seen));
        }
    });
    (addr, hits)
}

fn serve_one(mut stream: TcpStream, hits: &Hits) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
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
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    hits.count.fetch_add(1, Ordering::SeqCst);
    hits.lines
        .lock()
        .unwrap()
        .push(request_line.trim_end().to_string());
    let answer = "upstream ok";
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
        answer.len()
    );
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

/// A free loopback port (bound, then released for nginx to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running nginx, stopped (and its port freed) on drop.
struct Nginx {
    child: Child,
    addr: SocketAddr,
}

impl Nginx {
    /// Writes the config template with the addresses filled in and starts
    /// nginx in the foreground as one process, then waits until it listens.
    fn start(dir: &Path, gateway: SocketAddr, upstream: SocketAddr) -> Nginx {
        let template = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nginx/nginx.conf"),
        )
        .unwrap();
        let prefix = dir.join("nginx");
        std::fs::create_dir_all(&prefix).unwrap();
        let mut last_error = String::new();
        // The port is free when picked but another process may take it
        // before nginx binds it: try a few.
        for _ in 0..5 {
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let config = template
                .replace("{{PREFIX}}", prefix.to_str().unwrap())
                .replace("{{LISTEN}}", &addr.to_string())
                .replace("{{GATEWAY}}", &gateway.to_string())
                .replace("{{UPSTREAM}}", &upstream.to_string());
            assert!(!config.contains("{{"), "a placeholder is left: {config}");
            let conf = prefix.join("nginx.conf");
            std::fs::write(&conf, config).unwrap();
            let error_log = prefix.join("error.log");
            let mut child = Command::new(nginx_binary())
                .arg("-p")
                .arg(&prefix)
                .arg("-c")
                .arg(&conf)
                .arg("-e")
                .arg(&error_log)
                .args(["-g", "daemon off; master_process off;"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    last_error = format!(
                        "nginx exited with {status}: {}",
                        std::fs::read_to_string(&error_log).unwrap_or_default()
                    );
                    break;
                }
                if TcpStream::connect(addr).is_ok() {
                    return Nginx { child, addr };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("nginx did not listen on {addr} within 10 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("nginx did not start: {last_error}");
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `X-Entitle-*` headers the client got, for assertion messages.
fn entitle_headers(answer: &Answer) -> Vec<(String, String)> {
    answer
        .headers
        .iter()
        .filter(|(name, _)| name.starts_with("x-entitle-"))
        .cloned()
        .collect()
}

#[test]
fn nginx_auth_request_passes_the_decision_on_and_keeps_refusals_from_the_upstream() {
    // Fails here, before anything starts, when nginx is missing.
    nginx_binary();
    let dir = support::scratch("nginx");
    write_documents(&dir, "1.0.0");
    let gateway = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let (upstream_addr, hits) = upstream();
    let nginx = Nginx::start(&dir, gateway.addr, upstream_addr);

    let http = agent();
    let hits_now = || hits.count.load(Ordering::SeqCst);
    let send = |method: &str, path: &str, license: Option<&str>| -> Answer {
        let mut headers = Vec::new();
        if let Some(license) = license {
            headers.push(("x-license", license));
        }
        match method {
            "GET" => get(&http, &nginx.url(path), &headers).unwrap(),
            "POST" => {
                support::post(&http, &nginx.url(path), &serde_json::json!({}), &headers).unwrap()
            }
            other => panic!("no {other} here"),
        }
    };

    // Allowed: the upstream answers, the decision rides along.
    let a = send("GET", "/api/reports?page=2", Some("lic-basic"));
    assert_eq!((a.status, a.body.as_str()), (200, "upstream ok"), "{a:?}");
    assert_eq!(a.header("x-entitle-decision"), Some("allow"), "{a:?}");
    assert_eq!(a.header("x-entitle-reason"), Some("entitled"));
    assert_eq!(a.header("x-entitle-status"), Some("200"));
    assert!(a.header("x-entitle-valid-until").is_some(), "{a:?}");
    assert_eq!(a.header("x-entitle-warning"), None);
    assert_eq!(hits_now(), 1);
    assert_eq!(
        hits.lines.lock().unwrap().last().map(String::as_str),
        Some("GET /api/reports?page=2 HTTP/1.0")
    );

    // In grace: still the upstream's 200, with the warning for the client.
    let a = send("GET", "/api/reports", Some("lic-grace"));
    assert_eq!((a.status, a.body.as_str()), (200, "upstream ok"), "{a:?}");
    assert_eq!(a.header("x-entitle-decision"), Some("allow_in_grace"));
    assert_eq!(a.header("x-entitle-reason"), Some("renewal_grace"));
    assert_eq!(
        a.header("x-entitle-warning"),
        Some("in grace: renewal_grace")
    );
    assert_eq!(hits_now(), 2);

    // Denied: basic has no sso.
    let a = send("GET", "/api/sso", Some("lic-basic"));
    assert_eq!(a.status, 403, "{:?}", entitle_headers(&a));
    assert_eq!(a.header("x-entitle-decision"), Some("deny"));
    assert_eq!(a.header("x-entitle-reason"), Some("feature_not_entitled"));
    assert_eq!(a.header("x-entitle-status"), Some("403"));
    assert!(a.body.contains("feature_not_entitled"), "{}", a.body);
    assert_eq!(hits_now(), 2, "a refused request reached the upstream");

    // A client cannot pick what it is checked for: the route decides.
    let a = get(
        &http,
        &nginx.url("/api/sso"),
        &[("x-license", "lic-basic"), ("x-entitle-feature", "reports")],
    )
    .unwrap();
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (403, Some("feature_not_entitled"))
    );
    assert_eq!(hits_now(), 2);

    // Over quota: basic has 3 searches a day (hard). The 4th is 402, not
    // nginx's 500 and not a bare 403.
    for left in [2, 1, 0] {
        let a = send("POST", "/api/search", Some("lic-basic"));
        assert_eq!((a.status, a.body.as_str()), (200, "upstream ok"), "{a:?}");
        assert_eq!(
            a.header("x-entitle-remaining"),
            Some(left.to_string().as_str())
        );
    }
    assert_eq!(hits_now(), 5);
    let a = send("POST", "/api/search", Some("lic-basic"));
    assert_eq!(a.status, 402, "{:?}", entitle_headers(&a));
    assert_eq!(a.header("x-entitle-decision"), Some("deny"));
    assert_eq!(a.header("x-entitle-reason"), Some("quota_exceeded"));
    assert_eq!(a.header("x-entitle-status"), Some("402"));
    assert_eq!(a.header("x-entitle-remaining"), Some("0"));
    assert!(a.header("x-entitle-valid-until").is_some(), "{a:?}");
    assert_eq!(hits_now(), 5, "an over-quota request reached the upstream");

    // Unknown license, and none at all.
    let a = send("GET", "/api/reports", Some("lic-nobody"));
    assert_eq!(a.status, 403, "{:?}", entitle_headers(&a));
    assert_eq!(a.header("x-entitle-decision"), Some("error"));
    assert_eq!(a.header("x-entitle-reason"), Some("unknown_license"));
    let a = send("GET", "/api/reports", None);
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (403, Some("missing_license"))
    );
    assert_eq!(hits_now(), 5, "a refused request reached the upstream");

    // A client's idempotency key reaches the gateway: a retry is counted
    // once. (pro: a million a month, soft, 10% grace: 1,100,000 reachable.)
    let search = |key: Option<&str>| {
        let mut headers = vec![("x-license", "lic-pro")];
        if let Some(key) = key {
            headers.push(("idempotency-key", key));
        }
        support::post(
            &http,
            &nginx.url("/api/search"),
            &serde_json::json!({}),
            &headers,
        )
        .unwrap()
    };
    let first = search(Some("retry-1"));
    let again = search(Some("retry-1"));
    let other = search(None);
    assert_eq!([first.status, again.status, other.status], [200, 200, 200]);
    assert_eq!(first.header("x-entitle-remaining"), Some("1099999"));
    assert_eq!(again.header("x-entitle-remaining"), Some("1099999"));
    assert_eq!(other.header("x-entitle-remaining"), Some("1099998"));
    assert_eq!(hits_now(), 8);

    let lines = hits.lines.lock().unwrap().clone();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("POST /api/search "))
            .count(),
        6,
        "{lines:?}"
    );

    // No gateway, no access: nginx answers 500 and the upstream is not reached.
    drop(gateway);
    let a = send("GET", "/api/reports", Some("lic-basic"));
    assert_eq!(a.status, 500, "{a:?}");
    assert_eq!(hits_now(), 8, "a request went through without a decision");
}
