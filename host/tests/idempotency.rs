//! Idempotency keys through a real gateway: a key belongs to the license and
//! the request it was first used with. The same request again gets its first
//! answer and counts nothing; any other request with that key is refused
//! with `idempotency_key_reused`, never allowed; and a replay never lets
//! through what the license's current state refuses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};
use support::{agent, get, post, write_documents, write_license, Answer, Gateway};

fn started(name: &str) -> (std::path::PathBuf, Gateway) {
    let dir = support::scratch(name);
    write_documents(&dir, "1.0.0");
    let gateway = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    (dir, gateway)
}

fn consume(license: &str, amount: u64) -> Value {
    json!({"license": license, "metric": "api_calls", "amount": amount})
}

/// `/v1/check`'s refusal for reusing a key: 422 with its own code, at the
/// key's path.
fn assert_reused(answer: &Answer, path: &str, what: &str) {
    assert_eq!(answer.status, 422, "{what}: {}", answer.body);
    let body = answer.json();
    assert_eq!(body["outcome"], "error", "{what}: {body}");
    assert_eq!(
        body["errors"][0]["code"], "idempotency_key_reused",
        "{what}"
    );
    assert_eq!(body["errors"][0]["path"], path, "{what}");
    assert_eq!(
        answer.header("x-entitle-reason"),
        Some("idempotency_key_reused")
    );
}

/// Forward-auth's refusal for reusing a key: 422, the reason in the header
/// and in the short body a proxy hands the client.
fn assert_forward_reused(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 422, "{what}: {}", answer.body);
    assert_eq!(answer.header("x-entitle-decision"), Some("error"), "{what}");
    assert_eq!(
        answer.header("x-entitle-reason"),
        Some("idempotency_key_reused"),
        "{what}"
    );
    assert_eq!(answer.json()["reason"], "idempotency_key_reused", "{what}");
}

#[test]
fn a_key_on_v1_check_replays_only_the_same_request_of_the_same_license() {
    let (_dir, gw) = started("idem-check");
    let http = agent();
    let url = gw.url("/v1/check");
    let key = [("idempotency-key", "k-1")];

    let first = post(&http, &url, &consume("lic-pro", 5), &key).unwrap();
    assert_eq!(first.status, 200);
    assert_eq!(first.json()["result"]["decision"], "allow");

    // The same request with the same key: its first answer, counted once.
    let again = post(&http, &url, &consume("lic-pro", 5), &key).unwrap();
    assert_eq!((again.status, &again.body), (200, &first.body));
    // The key also comes in the body as `request_id`; key order in the body
    // does not make it another request.
    let reordered: Value = serde_json::from_str(
        r#"{"amount": 5, "request_id": "k-1", "metric": "api_calls", "license": "lic-pro"}"#,
    )
    .unwrap();
    let by_body = post(&http, &url, &reordered, &[]).unwrap();
    assert_eq!(by_body.body, first.body);
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 5);

    // Another request of the same license with that key is refused.
    let larger = post(&http, &url, &consume("lic-pro", 500), &key).unwrap();
    assert_reused(&larger, "$.headers.idempotency-key", "a larger amount");
    let feature = post(
        &http,
        &url,
        &json!({"license": "lic-pro", "route": {"method": "GET", "path": "/api/sso"}}),
        &key,
    )
    .unwrap();
    assert_reused(&feature, "$.headers.idempotency-key", "a route");
    let by_body = post(
        &http,
        &url,
        &json!({"license": "lic-pro", "metric": "api_calls", "amount": 6, "request_id": "k-1"}),
        &[],
    )
    .unwrap();
    assert_reused(&by_body, "$.request_id", "the key in the body");
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 5);

    // The key means nothing to another license: each decides for itself.
    let basic = post(&http, &url, &consume("lic-basic", 1), &key).unwrap();
    assert_eq!(basic.status, 200);
    assert_eq!(basic.json()["result"]["quota"]["used"], 0);
    assert_eq!(basic.json()["result"]["remaining"], 2);
    assert_eq!(support::used(&gw, "lic-basic", "api_calls"), 1);
    let over = post(&http, &url, &consume("lic-basic", 3), &key).unwrap();
    assert_reused(&over, "$.headers.idempotency-key", "over basic's quota");
    let nobody = post(&http, &url, &consume("lic-nobody", 5), &key).unwrap();
    assert_eq!(nobody.status, 400, "{}", nobody.body);
    assert_eq!(nobody.json()["errors"][0]["code"], "unknown_license");

    // And nothing else was counted.
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 5);
    assert_eq!(support::used(&gw, "lic-basic", "api_calls"), 1);
}

/// Forward-auth as a proxy calls it, the key in `X-Request-Id` or
/// `Idempotency-Key`.
fn forward(gw: &Gateway, license: &str, method: &str, path: &str, key: (&str, &str)) -> Answer {
    get(
        &agent(),
        &gw.url("/v1/forward-auth"),
        &[
            ("x-entitle-license", license),
            ("x-forwarded-method", method),
            ("x-forwarded-uri", path),
            key,
        ],
    )
    .unwrap()
}

#[test]
fn a_key_on_forward_auth_never_opens_another_route_or_license() {
    let (_dir, gw) = started("idem-fa");
    for (round, header) in ["x-request-id", "idempotency-key"].into_iter().enumerate() {
        let value = format!("r-{header}");
        let key = (header, value.as_str());
        let before = support::used(&gw, "lic-basic", "api_calls");
        let search = forward(&gw, "lic-basic", "POST", "/api/search", key);
        assert_eq!(search.status, 200, "{header}: {}", search.body);
        // A retry of the same request: allowed again, counted once.
        let retry = forward(&gw, "lic-basic", "POST", "/api/search", key);
        assert_eq!(retry.status, 200, "{header}");
        assert_eq!(support::used(&gw, "lic-basic", "api_calls"), before + 1);

        // basic has no `sso`: the key must not open it.
        let sso = forward(&gw, "lic-basic", "GET", "/api/sso", key);
        assert_forward_reused(&sso, &format!("another route, {header}"));
        // A route no rule maps, with the key.
        let unknown = forward(&gw, "lic-basic", "GET", "/admin", key);
        assert_forward_reused(&unknown, &format!("an unknown route, {header}"));
        // Another license, or one that does not exist, with the key.
        let nobody = forward(&gw, "lic-nobody", "POST", "/api/search", key);
        assert_eq!(nobody.status, 403, "{header}: {}", nobody.body);
        assert_eq!(nobody.header("x-entitle-reason"), Some("unknown_license"));
        let pro = forward(&gw, "lic-pro", "POST", "/api/search", key);
        assert_eq!(pro.status, 200);
        // pro: 1,000,000 a month, soft, 10 % grace: 1,100,000 in all.
        let left = (1_099_999 - round).to_string();
        assert_eq!(pro.header("x-entitle-remaining"), Some(left.as_str()));

        // nginx passes 401/403 only: `deny_status` applies to the refusal too.
        let nginx = get(
            &agent(),
            &gw.url("/v1/forward-auth?deny_status=403"),
            &[
                ("x-entitle-license", "lic-basic"),
                ("x-original-method", "GET"),
                ("x-original-uri", "/api/sso"),
                key,
            ],
        )
        .unwrap();
        assert_eq!(nginx.status, 403);
        assert_eq!(nginx.header("x-entitle-status"), Some("422"));
    }
    // Two rounds, one unit each, on pro and on basic.
    assert_eq!(support::used(&gw, "lic-basic", "api_calls"), 2);
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 2);
}

#[test]
fn a_replay_answers_with_the_license_as_it_stands_now() {
    let (dir, gw) = started("idem-state");
    let http = agent();
    let url = gw.url("/v1/check");
    let key = [("idempotency-key", "k-s")];
    let first = post(&http, &url, &consume("lic-pro", 7), &key).unwrap();
    assert_eq!(first.json()["result"]["decision"], "allow");
    let search = ("x-request-id", "f-s");
    let searched = forward(&gw, "lic-pro", "POST", "/api/search", search);
    assert_eq!(searched.status, 200);

    // A new bundle version that still grants the metric: the replay is the
    // first answer, as decided under the bundle of its time.
    support::write_bundle(&dir, &support::bundle("1.1.0"));
    gw.signal("HUP");
    gw.wait_for_log("reloaded", Duration::from_secs(30));
    let replay = post(&http, &url, &consume("lic-pro", 7), &key).unwrap();
    assert_eq!((replay.status, &replay.body), (200, &first.body));
    assert_eq!(first.json()["meta"]["bundle"]["version"], "1.0.0");

    // The license is suspended: a replay is refused as a fresh request
    // would be, and counts nothing.
    let mut suspended = support::license("lic-pro", "pro", 30, 365);
    suspended["status"] = json!("suspended");
    write_license(&dir, &suspended);
    gw.signal("HUP");
    gw.wait_for_log("reloaded", Duration::from_secs(30));
    let refused = post(&http, &url, &consume("lic-pro", 7), &key).unwrap();
    assert_eq!(refused.status, 200, "{}", refused.body);
    let body = refused.json();
    assert_eq!(body["result"]["decision"], "deny", "{body}");
    assert_eq!(body["result"]["reason"], "license_suspended");
    assert_eq!(body["result"]["record"], Value::Null);
    assert_eq!(body["meta"]["bundle"]["version"], "1.1.0");
    let fa = forward(&gw, "lic-pro", "POST", "/api/search", search);
    assert_eq!(fa.status, 403, "{}", fa.body);
    assert_eq!(fa.header("x-entitle-reason"), Some("license_suspended"));

    // Active again: the first answer comes back; still counted once.
    write_license(&dir, &support::license("lic-pro", "pro", 30, 365));
    gw.signal("HUP");
    gw.wait_for_log("reloaded", Duration::from_secs(30));
    let back = post(&http, &url, &consume("lic-pro", 7), &key).unwrap();
    assert_eq!(back.body, first.body);
    let fa = forward(&gw, "lic-pro", "POST", "/api/search", search);
    assert_eq!(fa.status, 200, "{}", fa.body);
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 8);
}

#[test]
fn keys_survive_a_restart_scoped_as_before() {
    let dir = support::scratch("idem-restart");
    write_documents(&dir, "1.0.0");
    let first = {
        let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
        post(
            &agent(),
            &gw.url("/v1/check"),
            &consume("lic-pro", 3),
            &[("idempotency-key", "k-r")],
        )
        .unwrap()
    };
    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let url = gw.url("/v1/check");
    let key = [("idempotency-key", "k-r")];
    let again = post(&agent(), &url, &consume("lic-pro", 3), &key).unwrap();
    assert_eq!(again.body, first.body);
    let other = post(&agent(), &url, &consume("lic-pro", 4), &key).unwrap();
    assert_reused(&other, "$.headers.idempotency-key", "after a restart");
    let basic = post(&agent(), &url, &consume("lic-basic", 1), &key).unwrap();
    assert_eq!(basic.json()["result"]["decision"], "allow");
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 3);
}

#[test]
fn a_key_that_is_not_ascii_is_refused_not_ignored() {
    // Ignored, it would let a retry count twice.
    let (_dir, gw) = started("idem-ascii");
    let mut stream = TcpStream::connect(gw.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(
            b"GET /v1/forward-auth HTTP/1.1\r\nHost: x\r\nX-Entitle-License: lic-basic\r\n\
              X-Entitle-Metric: api_calls\r\nX-Request-Id: r-\xff\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 400"), "{text}");
    assert!(
        text.contains("x-entitle-reason: malformed_header"),
        "{text}"
    );
    assert_eq!(support::used(&gw, "lic-basic", "api_calls"), 0);
}

#[test]
fn keys_of_a_meter_from_before_scoping_are_kept_and_never_count_twice() {
    let dir = support::scratch("idem-legacy");
    write_documents(&dir, "1.0.0");
    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    gw.signal("TERM");
    assert!(gw.wait().success());
    // The table an older gateway kept: one global key, no fingerprint.
    let db = rusqlite::Connection::open(dir.join("meter.db")).unwrap();
    db.execute_batch(
        "CREATE TABLE requests (key TEXT PRIMARY KEY, license TEXT NOT NULL,
                                answer TEXT NOT NULL, at_unix INTEGER NOT NULL);
         INSERT INTO requests VALUES ('k-old', 'lic-pro', '{\"outcome\":\"ok\"}', strftime('%s','now'));",
    )
    .unwrap();
    drop(db);

    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let url = gw.url("/v1/check");
    let retry = post(
        &agent(),
        &url,
        &consume("lic-pro", 3),
        &[("idempotency-key", "k-old")],
    )
    .unwrap();
    assert_reused(
        &retry,
        "$.headers.idempotency-key",
        "a key from before scoping",
    );
    // Another license is free to use the same key.
    let basic = post(
        &agent(),
        &url,
        &consume("lic-basic", 1),
        &[("idempotency-key", "k-old")],
    )
    .unwrap();
    assert_eq!(basic.json()["result"]["decision"], "allow");
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 0);
    let db = rusqlite::Connection::open(dir.join("meter.db")).unwrap();
    let legacy: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'requests'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(legacy, 0, "the old table is gone once its keys moved");
}
