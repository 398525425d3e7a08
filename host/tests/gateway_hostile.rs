//! Hostile inputs against a real gateway: oversized bodies, slow clients,
//! malformed HTTP, headers and JSON, and modules that trap or never return.
//! Each gets a clear status, and the gateway keeps serving.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{agent, get, post, write_documents, Gateway};

/// Sends raw bytes and reads until the server closes or `wait` passes.
fn raw(gw: &Gateway, bytes: &[u8], wait: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(gw.addr).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    stream.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

fn still_serving(gw: &Gateway) {
    let a = post(
        &agent(),
        &gw.url("/v1/check"),
        &json!({"license": "lic-pro", "feature": "reports"}),
        &[],
    )
    .unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["result"]["decision"], "allow");
}

#[test]
fn bad_http_and_bad_json_get_clear_statuses() {
    let dir = support::scratch("gw-hostile-http");
    write_documents(&dir, "1.0.0");
    let gw = Gateway::start(
        &dir,
        &support::module_path(),
        &[
            "--watch-ms",
            "0",
            "--header-timeout-ms",
            "400",
            "--request-timeout-ms",
            "800",
            "--max-body",
            "4096",
        ],
    );
    let http = agent();

    // Oversized body: 413, before the module sees it.
    let big = json!({"license": "lic-pro", "feature": "x".repeat(10_000)});
    let a = post(&http, &gw.url("/v1/check"), &big, &[]).unwrap();
    assert_eq!(a.status, 413);
    still_serving(&gw);

    // Malformed JSON: the module's error envelope, naming where it broke.
    let a = http
        .post(&gw.url("/v1/check"))
        .send("{\"license\": ")
        .unwrap();
    assert_eq!(a.status().as_u16(), 400);
    let body: serde_json::Value =
        serde_json::from_str(&a.into_body().read_to_string().unwrap()).unwrap();
    assert_eq!(body["errors"][0]["code"], "invalid_json");
    let a = post(&http, &gw.url("/v1/check"), &json!([1, 2]), &[]).unwrap();
    assert_eq!(
        (a.status, a.json()["errors"][0]["code"].as_str()),
        (400, Some("wrong_type"))
    );
    let a = post(
        &http,
        &gw.url("/v1/check"),
        &json!({"license": "lic-pro", "feature": 7}),
        &[],
    )
    .unwrap();
    assert_eq!(
        (a.status, a.json()["errors"][0]["path"].as_str()),
        (400, Some("$.feature"))
    );

    // Malformed HTTP: a header line without a colon.
    let (text, _) = raw(
        &gw,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");

    // A header that is not visible ASCII.
    let (text, _) = raw(
        &gw,
        b"GET /v1/forward-auth HTTP/1.1\r\nHost: x\r\nX-Entitle-License: lic-\xff\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("x-entitle-reason: malformed_header"),
        "{text}"
    );

    // A client that never finishes its headers is cut off after the header timeout.
    let (text, took) = raw(
        &gw,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(10),
    );
    assert!(took < Duration::from_secs(5), "held for {took:?}: {text}");
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );

    // A client that never finishes its body gets 408 after the request timeout.
    let (text, took) = raw(
        &gw,
        b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"license\"",
        Duration::from_secs(10),
    );
    assert!(took < Duration::from_secs(5), "held for {took:?}");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");

    // Many slow clients at once do not stop the others.
    let slow: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(gw.addr).unwrap();
            s.write_all(b"POST /v1/check HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    still_serving(&gw);
    drop(slow);
    still_serving(&gw);
}

/// A module speaking the byte ABI whose bundle loads fine but whose every
/// evaluation (JSON or compact) runs `behaviour`: an endless loop or a trap.
fn hostile_module(dir: &Path, name: &str, behaviour: &str) -> std::path::PathBuf {
    let version = r#"{"engine":"0.1.0","abi":1}"#;
    let described = r#"{"outcome":"ok","op":"load","result":{"bundle":{"id":"gateway-test","version":"hostile","hash":"sha256:00"},"on_failure":{"default":"closed","features":{"sso":"open","reports":"closed","api_calls":"closed"}}},"meta":{"engine":"0.1.0"}}"#;
    let loaded =
        r#"{"outcome":"ok","op":"load_license","result":{"license":"lic-pro","loaded":1}}"#;
    let packed = |at: u64, text: &str| (at << 32) | text.len() as u64;
    let wat = format!(
        r#"(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 8192))
  (data (i32.const 1024) "{v}")
  (data (i32.const 2048) "{d}")
  (data (i32.const 4096) "{l}")
  (func (export "entitle_alloc") (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (i32.and (i32.add (local.get $len) (i32.const 7)) (i32.const -8))))
    (block $ok
      (loop $grow
        (br_if $ok (i32.le_u (global.get $next) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then (return (i32.const 0))))
        (br $grow)))
    (local.get $p))
  (func (export "entitle_free") (param i32 i32))
  (func (export "entitle_abi_version") (result i32) (i32.const 1))
  (func (export "entitle_version") (result i64) (i64.const {pv}))
  (func (export "entitle_evaluate") (param i32 i32) (result i64) {b} (i64.const 0))
  (func (export "entitle_bundle_load") (param i32 i32 i32) (result i64)
    (i32.store (local.get 2) (i32.const 1))
    (i64.const {pd}))
  (func (export "entitle_bundle_load_signed") (param i32 i32 i32 i32 i32) (result i64)
    (i32.store (local.get 4) (i32.const 1))
    (i64.const {pd}))
  (func (export "entitle_bundle_evaluate") (param i32 i32 i32) (result i64) {b} (i64.const 0))
  (func (export "entitle_bundle_load_license") (param i32 i32 i32) (result i64) (i64.const {pl}))
  (func (export "entitle_bundle_unload_license") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "entitle_bundle_free") (param i32))
  (func (export "entitle_compact_resolve") (param i32 i32 i32 i32 i32 i32 i32) (result i64) {b} (i64.const 0))
  (func (export "entitle_compact_check") (param i32 i32 i32) (result i32) {b} (i32.const 0))
  (func (export "entitle_compact_check_json") (param i32 i32 i32) (result i64) {b} (i64.const 2))
)"#,
        v = version.replace('"', "\\\""),
        d = described.replace('"', "\\\""),
        l = loaded.replace('"', "\\\""),
        pv = packed(1024, version),
        pd = packed(2048, described),
        pl = packed(4096, loaded),
        b = behaviour,
    );
    let path = dir.join(name);
    std::fs::write(&path, wat::parse_str(&wat).unwrap()).unwrap();
    path
}

fn answered_by_failure_mode(behaviour: &str, failure: &str) {
    let dir = support::scratch(&format!("gw-hostile-{failure}"));
    write_documents(&dir, "1.0.0");
    let module = dir.join("module.wasm");
    std::fs::copy(hostile_module(&dir, "hostile.wasm", behaviour), &module).unwrap();
    let gw = Gateway::start(
        &dir,
        &module,
        &["--watch-ms", "0", "--call-timeout-ms", "50"],
    );
    let http = agent();
    let fa = gw.url("/v1/forward-auth");
    for _ in 0..3 {
        let started = Instant::now();
        // Closed by default: refused, and the gateway says why.
        let a = get(
            &http,
            &fa,
            &[
                ("x-entitle-license", "lic-pro"),
                ("x-entitle-feature", "reports"),
            ],
        )
        .unwrap();
        assert_eq!(
            (a.status, a.header("x-entitle-reason")),
            (403, Some("failure_closed"))
        );
        assert_eq!(a.header("x-entitle-failure"), Some(failure));
        assert!(started.elapsed() < Duration::from_secs(2));
        // sso is declared open: allowed.
        let a = get(
            &http,
            &fa,
            &[
                ("x-entitle-license", "lic-pro"),
                ("x-entitle-feature", "sso"),
            ],
        )
        .unwrap();
        assert_eq!(
            (a.status, a.header("x-entitle-reason")),
            (200, Some("failure_open"))
        );
        // A route the module never resolved takes the bundle's default: closed.
        let a = get(
            &http,
            &fa,
            &[
                ("x-entitle-license", "lic-pro"),
                ("x-original-method", "GET"),
                ("x-original-uri", "/api/sso"),
            ],
        )
        .unwrap();
        assert_eq!(a.status, 403);
        let a = post(
            &http,
            &gw.url("/v1/check"),
            &json!({"license": "lic-pro", "metric": "api_calls", "amount": 1}),
            &[],
        )
        .unwrap();
        assert_eq!(a.json()["result"]["reason"], "failure_closed");
        assert_eq!(a.json()["result"]["record"], serde_json::Value::Null);
        assert_eq!(get(&http, &gw.url("/healthz"), &[]).unwrap().status, 200);
    }
    let metrics = get(&http, &gw.url("/metrics"), &[]).unwrap().body;
    assert!(
        metrics.contains(&format!(
            "entitle_module_failures_total{{kind=\"{failure}\"}} 12"
        )),
        "{metrics}"
    );

    // The real module swapped in: real answers again, and nothing was counted meanwhile.
    std::fs::copy(support::module_path(), &module).unwrap();
    gw.signal("HUP");
    gw.wait_for_log("reloaded", Duration::from_secs(60));
    still_serving(&gw);
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 0);
}

#[test]
fn a_module_that_never_returns_is_answered_by_failure_mode() {
    answered_by_failure_mode("(loop $forever (br $forever))", "timeout");
}

#[test]
fn a_module_that_traps_is_answered_by_failure_mode() {
    answered_by_failure_mode("unreachable", "trap");
}
