//! The gateway as a client sees it: a real `entitle serve` process on
//! loopback, the real module, a real SQLite meter.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use serde_json::json;
use support::{agent, get, post, write_documents, Gateway};

fn started(name: &str) -> (std::path::PathBuf, Gateway) {
    let dir = support::scratch(name);
    write_documents(&dir, "1.0.0");
    let gateway = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    (dir, gateway)
}

#[test]
fn check_answers_as_the_module_does_and_meters_consumption() {
    let (_dir, gw) = started("gw-check");
    let http = agent();
    let url = gw.url("/v1/check");

    let a = post(
        &http,
        &url,
        &json!({"license": "lic-basic", "feature": "reports"}),
        &[],
    )
    .unwrap();
    assert_eq!(a.status, 200);
    let body = a.json();
    assert_eq!(body["result"]["decision"], "allow");
    assert_eq!(body["meta"]["bundle"]["version"], "1.0.0");
    assert_eq!(a.header("x-entitle-decision"), Some("allow"));

    // basic: 3 calls a day, hard. Three are allowed and counted, the fourth is refused.
    for n in 1..=3u64 {
        let a = post(
            &http,
            &url,
            &json!({"license": "lic-basic", "metric": "api_calls", "amount": 1}),
            &[],
        )
        .unwrap();
        let body = a.json();
        assert_eq!(body["result"]["decision"], "allow", "call {n}: {body}");
        assert_eq!(body["result"]["quota"]["used"], n - 1);
        assert_eq!(body["result"]["remaining"], 3 - n);
    }
    let a = post(
        &http,
        &url,
        &json!({"license": "lic-basic", "metric": "api_calls", "amount": 1}),
        &[],
    )
    .unwrap();
    assert_eq!(a.json()["result"]["reason"], "quota_exceeded");
    assert_eq!(a.json()["result"]["http_status"], 402);

    // The status the portal reads shows the metered count.
    let s = get(&http, &gw.url("/v1/status/lic-basic"), &[]).unwrap();
    assert_eq!(s.status, 200);
    let quotas = s.json()["result"]["quotas"].clone();
    let calls = quotas
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["metric"] == "api_calls")
        .unwrap();
    assert_eq!(calls["used"], 3);
    assert_eq!(
        get(&http, &gw.url("/v1/status/lic-nobody"), &[])
            .unwrap()
            .status,
        404
    );
}

#[test]
fn an_idempotency_key_counts_once() {
    let (_dir, gw) = started("gw-idem");
    let http = agent();
    let url = gw.url("/v1/check");
    let ask = json!({"license": "lic-pro", "metric": "api_calls", "amount": 5});
    let first = post(&http, &url, &ask, &[("idempotency-key", "k-1")]).unwrap();
    let again = post(&http, &url, &ask, &[("idempotency-key", "k-1")]).unwrap();
    assert_eq!(
        first.body, again.body,
        "a repeated key gets the first answer back"
    );
    let other = post(&http, &url, &ask, &[("idempotency-key", "k-2")]).unwrap();
    assert_eq!(other.json()["result"]["quota"]["used"], 5);
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 10);
}

#[test]
fn requests_may_not_set_what_the_gateway_sets() {
    let (_dir, gw) = started("gw-owned");
    let http = agent();
    for field in ["now", "usage", "bundle"] {
        let mut ask = json!({"license": "lic-pro", "feature": "reports"});
        ask[field] = json!({});
        let a = post(&http, &gw.url("/v1/check"), &ask, &[]).unwrap();
        assert_eq!(a.status, 400);
        assert_eq!(a.json()["errors"][0]["code"], "field_set_by_gateway");
        assert_eq!(a.json()["errors"][0]["path"], format!("$.{field}"));
    }
    let a = post(
        &http,
        &gw.url("/v1/check"),
        &json!({"license": "lic-nobody", "feature": "reports"}),
        &[],
    )
    .unwrap();
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["errors"][0]["code"], "unknown_license");
}

#[test]
fn forward_auth_maps_decisions_to_statuses_and_headers() {
    let (_dir, gw) = started("gw-fa");
    let http = agent();
    let fa = gw.url("/v1/forward-auth");
    let ask = |headers: &[(&str, &str)]| get(&http, &fa, headers).unwrap();

    let a = ask(&[
        ("x-entitle-license", "lic-pro"),
        ("x-original-method", "GET"),
        ("x-original-uri", "/api/reports?x=1"),
    ]);
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (200, Some("entitled"))
    );

    let a = ask(&[
        ("x-entitle-license", "lic-basic"),
        ("x-forwarded-method", "GET"),
        ("x-forwarded-uri", "/api/sso"),
    ]);
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (403, Some("feature_not_entitled"))
    );

    let a = ask(&[
        ("x-entitle-license", "lic-grace"),
        ("x-entitle-feature", "reports"),
    ]);
    assert_eq!(
        (a.status, a.header("x-entitle-decision")),
        (200, Some("allow_in_grace"))
    );
    assert_eq!(
        a.header("x-entitle-warning"),
        Some("in grace: renewal_grace")
    );

    for _ in 0..3 {
        let a = ask(&[
            ("x-entitle-license", "lic-basic"),
            ("x-original-method", "POST"),
            ("x-original-uri", "/api/search"),
        ]);
        assert_eq!(a.status, 200);
    }
    let a = ask(&[
        ("x-entitle-license", "lic-basic"),
        ("x-original-method", "POST"),
        ("x-original-uri", "/api/search"),
    ]);
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (402, Some("quota_exceeded"))
    );
    assert_eq!(a.header("x-entitle-remaining"), Some("0"));
    assert!(a.header("x-entitle-valid-until").is_some());

    // nginx passes only 401 and 403 on: `deny_status=403` keeps the real status in a header.
    let a = get(
        &http,
        &format!("{fa}?deny_status=403"),
        &[
            ("x-entitle-license", "lic-basic"),
            ("x-entitle-metric", "api_calls"),
        ],
    )
    .unwrap();
    assert_eq!((a.status, a.header("x-entitle-status")), (403, Some("402")));

    let a = ask(&[
        ("x-entitle-license", "lic-nobody"),
        ("x-entitle-feature", "reports"),
    ]);
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (403, Some("unknown_license"))
    );
    let a = ask(&[("x-entitle-feature", "reports")]);
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (403, Some("missing_license"))
    );
    let a = ask(&[
        ("x-entitle-license", "lic-pro"),
        ("x-original-method", "GET"),
        ("x-original-uri", "/elsewhere"),
    ]);
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (403, Some("unknown_route"))
    );
}

#[test]
fn metrics_and_health_say_what_is_served() {
    let (_dir, gw) = started("gw-metrics");
    let http = agent();
    let health = get(&http, &gw.url("/healthz"), &[]).unwrap().json();
    let sha = support::sha256_file(&support::module_path());
    assert_eq!(health["module_sha256"], sha);
    assert_eq!(health["licenses"], 3);
    post(
        &http,
        &gw.url("/v1/check"),
        &json!({"license": "lic-pro", "feature": "reports"}),
        &[],
    )
    .unwrap();
    post(
        &http,
        &gw.url("/v1/check"),
        &json!({"license": "lic-pro", "feature": "reports"}),
        &[],
    )
    .unwrap();
    let text = get(&http, &gw.url("/metrics"), &[]).unwrap().body;
    assert!(text.contains(&format!("module_sha256=\"{sha}\"")), "{text}");
    assert!(text.contains("bundle_version=\"1.0.0\""));
    assert!(
        text.contains(
            "entitle_decisions_total{endpoint=\"check\",outcome=\"allow\",reason=\"entitled\"} 2"
        ),
        "{text}"
    );
    assert!(
        text.contains("entitle_decision_cache_hits_total 1"),
        "{text}"
    );
    assert!(text.contains("entitle_request_duration_seconds_bucket"));
}

#[test]
fn sigterm_drains_and_exits_cleanly() {
    let (dir, gw) = started("gw-term");
    let http = agent();
    let ask = json!({"license": "lic-pro", "metric": "api_calls", "amount": 2});
    assert_eq!(
        post(&http, &gw.url("/v1/check"), &ask, &[]).unwrap().status,
        200
    );
    gw.signal("TERM");
    gw.wait_for_log("drained", std::time::Duration::from_secs(20));
    let status = gw.wait();
    assert!(status.success(), "{status:?}");
    // What was acknowledged is in the database the next start reads.
    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 2);
}

#[test]
fn serve_demands_a_key_set_or_an_explicit_opt_out() {
    let dir = support::scratch("gw-keys");
    write_documents(&dir, "1.0.0");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_entitle"))
        .args(["serve", "--bundle"])
        .arg(dir.join("bundle.json"))
        .arg("--licenses")
        .arg(dir.join("licenses"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--keys"));

    // Unsigned documents only with --allow-unsigned; then signed ones are refused.
    support::write_json(&dir.join("bundle.json"), &support::bundle("1.0.0"));
    let gw = Gateway::start(
        &dir,
        &support::module_path(),
        &["--allow-unsigned", "--watch-ms", "0"],
    );
    let health = get(&agent(), &gw.url("/healthz"), &[]).unwrap().json();
    assert_eq!(health["signed_by"], serde_json::Value::Null);
    assert_eq!(health["refused_licenses"], 3);
}

#[test]
fn status_hands_the_portal_its_documents_and_cases_to_listed_origins_only() {
    let dir = support::scratch("gw-portal");
    write_documents(&dir, "1.0.0");
    let cases = dir.join("cases");
    std::fs::create_dir_all(cases.join("lic-pro")).unwrap();
    std::fs::write(cases.join("lic-pro").join("a.json"), br#"{"case":"c-1"}"#).unwrap();
    std::fs::write(cases.join("lic-pro").join("b.json"), b"not json").unwrap();
    std::fs::write(cases.join("lic-pro").join("notes.txt"), b"ignored").unwrap();
    let gw = Gateway::start(
        &dir,
        &support::module_path(),
        &[
            "--watch-ms",
            "0",
            "--cases",
            cases.to_str().unwrap(),
            "--cors-origin",
            "http://portal.example",
        ],
    );
    let http = agent();
    let plain = get(&http, &gw.url("/v1/status/lic-pro"), &[]).unwrap();
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("access-control-allow-origin"), None);

    let portal = "http://portal.example";
    let with = get(
        &http,
        &gw.url("/v1/status/lic-pro?documents=true"),
        &[("origin", portal)],
    )
    .unwrap();
    assert_eq!(with.status, 200);
    assert_eq!(with.header("access-control-allow-origin"), Some(portal));
    // The module's answer comes first, as the module wrote it.
    assert!(
        with.body
            .starts_with(r#"{"status":{"outcome":"ok","op":"status""#),
        "{}",
        with.body
    );
    let body = with.json();
    let documents = &body["documents"];
    // The documents exactly as loaded: the signed envelopes of the files.
    let on_disk = |path: std::path::PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    assert_eq!(documents["bundle"], on_disk(dir.join("bundle.json")));
    assert_eq!(
        documents["license"],
        on_disk(dir.join("licenses/lic-pro.json"))
    );
    assert_eq!(documents["signed"], true);
    assert_eq!(
        documents["usage"],
        json!({"metrics": {}, "active_seats": 0})
    );
    assert!(documents["now"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        documents["cases"][0],
        json!({"file": "a.json", "case": {"case": "c-1"}})
    );
    assert_eq!(documents["cases"][1]["file"], "b.json");
    assert!(documents["cases"][1]["error"].is_string());
    assert_eq!(documents["cases"].as_array().unwrap().len(), 2);

    // Another origin gets no permission; an unknown license no documents.
    let other = get(
        &http,
        &gw.url("/v1/status/lic-pro?documents=true"),
        &[("origin", "http://elsewhere.example")],
    )
    .unwrap();
    assert_eq!(other.header("access-control-allow-origin"), None);
    let unknown = get(&http, &gw.url("/v1/status/nobody?documents=true"), &[]).unwrap();
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["errors"][0]["code"], "unknown_license");
    // A license without a case folder has no cases.
    let basic = get(&http, &gw.url("/v1/status/lic-basic?documents=true"), &[]).unwrap();
    assert_eq!(basic.json()["documents"]["cases"], json!([]));
}

/// Sleeps until 50 ms past the next whole second and returns that second.
fn next_second() -> i64 {
    let now = chrono::Utc::now();
    let wait = 1_050 - i64::from(now.timestamp_subsec_millis());
    std::thread::sleep(std::time::Duration::from_millis(wait.unsigned_abs()));
    chrono::Utc::now().timestamp()
}

fn second(at: &serde_json::Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(at.as_str().unwrap())
        .unwrap()
        .timestamp()
}

#[test]
fn the_meter_keeps_a_reading_per_interval_for_the_portal_s_plot() {
    let dir = support::scratch("gw-readings");
    write_documents(&dir, "1.0.0");
    let flags = ["--watch-ms", "0", "--reading-every", "1"];
    let gw = Gateway::start(&dir, &support::module_path(), &flags);
    let http = agent();
    let consume = |amount: u64| {
        let ask = json!({"license": "lic-pro", "metric": "api_calls", "amount": amount});
        let answer = post(&http, &gw.url("/v1/check"), &ask, &[]).unwrap();
        assert_eq!(
            answer.json()["result"]["decision"],
            "allow",
            "{}",
            answer.body
        );
    };
    // 5 calls in one second; 7 and then 3 in a later one, of which only the
    // count after both (15) is that second's reading.
    let first = next_second();
    consume(5);
    let later = next_second();
    consume(7);
    consume(3);
    next_second();

    let status = |gw: &Gateway| {
        get(&http, &gw.url("/v1/status/lic-pro?documents=true"), &[])
            .unwrap()
            .json()
    };
    let body = status(&gw);
    let counted = &body["documents"]["usage"]["metrics"]["api_calls"];
    assert_eq!(counted["used"], 15, "{counted}");
    let history = counted["history"].as_array().unwrap();
    let used: Vec<u64> = history
        .iter()
        .map(|r| r["used"].as_u64().unwrap())
        .collect();
    assert_eq!(used, [5, 15], "{counted}");
    assert_eq!(second(&history[0]["at"]), first, "{counted}");
    assert_eq!(second(&history[1]["at"]), later, "{counted}");
    // The module plots them: the readings, then the count now.
    let quota = &body["status"]["result"]["quotas"][0];
    assert_eq!(quota["metric"], "api_calls");
    let points: Vec<u64> = quota["series"]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["used"].as_u64().unwrap())
        .collect();
    assert_eq!(points, [5, 15, 15], "{quota}");

    // The readings are on disk: a restart hands over the same history.
    gw.signal("TERM");
    assert!(gw.wait().success());
    let gw = Gateway::start(&dir, &support::module_path(), &flags);
    let again = status(&gw);
    assert_eq!(
        again["documents"]["usage"]["metrics"]["api_calls"]["history"],
        counted["history"]
    );
}

#[test]
fn readings_of_a_period_that_is_over_are_pruned_at_start() {
    let dir = support::scratch("gw-prune");
    write_documents(&dir, "1.0.0");
    // Start once so the database and its tables exist, then stop.
    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    gw.signal("TERM");
    assert!(gw.wait().success());
    let db = rusqlite::Connection::open(dir.join("meter.db")).unwrap();
    // lic-basic counts day by day: 2 June is over once 3 June is counted.
    db.execute_batch(
        "INSERT INTO counts VALUES ('lic-basic', 'api_calls', '2026-06-02T00:00:00Z', 1780358400, 3, NULL);
         INSERT INTO counts VALUES ('lic-basic', 'api_calls', '2026-06-03T00:00:00Z', 1780444800, 1, NULL);
         INSERT INTO readings VALUES ('lic-basic', 'api_calls', 1780398000, '2026-06-02T00:00:00Z', 1780358400, '2026-06-02T11:00:05Z', 1780398005, 3);
         INSERT INTO readings VALUES ('lic-basic', 'api_calls', 1780488000, '2026-06-03T00:00:00Z', 1780444800, '2026-06-03T12:00:05Z', 1780488005, 1);",
    )
    .unwrap();
    let left = || -> Vec<String> {
        let mut rows = db.prepare("SELECT at FROM readings ORDER BY at").unwrap();
        rows.query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(left().len(), 2);
    let _gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while left().len() == 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(left(), ["2026-06-03T12:00:05Z"]);
}

/// `entitle replay` on a decision log with the documents of `dir`.
fn replay(dir: &std::path::Path, log: &std::path::Path) -> (i32, serde_json::Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_entitle"))
        .arg("replay")
        .arg("--log")
        .arg(log)
        .arg("--module")
        .arg(support::module_path())
        .arg("--bundle")
        .arg(dir.join("bundle.json"))
        .arg("--licenses")
        .arg(dir.join("licenses"))
        .arg("--keys")
        .arg(support::keys_dir().join("keys.json"))
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

#[test]
fn the_decision_log_holds_every_module_answer_and_replays_them() {
    let dir = support::scratch("gw-decision-log");
    write_documents(&dir, "1.0.0");
    let log = dir.join("decisions.jsonl");
    let gw = Gateway::start(
        &dir,
        &support::module_path(),
        &["--watch-ms", "0", "--decision-log", log.to_str().unwrap()],
    );
    let http = agent();
    let mut bodies = Vec::new();
    let feature = json!({"license": "lic-pro", "feature": "reports"});
    let first = post(&http, &gw.url("/v1/check"), &feature, &[]).unwrap();
    bodies.push(first.json());
    // The same question again is answered from the cache: not asked again.
    let again = post(&http, &gw.url("/v1/check"), &feature, &[]).unwrap();
    assert_eq!(again.body, first.body);
    // Basic allows 3 calls a day: three allowed, the fourth denied.
    for _ in 0..4 {
        let ask = json!({"license": "lic-basic", "metric": "api_calls", "amount": 1});
        bodies.push(post(&http, &gw.url("/v1/check"), &ask, &[]).unwrap().json());
    }
    assert_eq!(bodies[4]["result"]["decision"], "deny", "{}", bodies[4]);
    bodies.push(
        get(&http, &gw.url("/v1/status/lic-pro"), &[])
            .unwrap()
            .json(),
    );
    gw.signal("TERM");
    assert!(gw.wait().success());

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let answers: Vec<&serde_json::Value> = lines.iter().map(|l| &l["answer"]).collect();
    assert_eq!(answers, bodies.iter().collect::<Vec<_>>(), "{text}");
    // Each request carries the gateway's clock and usage: the third call
    // was decided on a count of 2.
    assert_eq!(
        lines[3]["request"]["usage"]["metrics"]["api_calls"]["used"],
        2
    );
    assert!(lines[3]["request"]["now"].is_string());
    let module = support::sha256_file(&support::module_path());
    assert!(lines.iter().all(|l| l["module_sha256"] == module.as_str()));
    let license = support::sha256_file(&dir.join("licenses/lic-basic.json"));
    assert_eq!(lines[1]["license_sha256"], license.as_str());

    // With the same documents, every answer comes back.
    let (code, report) = replay(&dir, &log);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["decisions"], 6);
    assert_eq!(report["reproduced"], 6);
    assert_eq!(report["differ"], json!([]));

    // A logged answer changed afterwards is found out.
    let mut altered = lines.clone();
    altered[2]["answer"]["result"]["remaining"] = json!(99);
    let forged = dir.join("forged.jsonl");
    let text: Vec<String> = altered.iter().map(|l| l.to_string()).collect();
    std::fs::write(&forged, text.join("\n")).unwrap();
    let (code, report) = replay(&dir, &forged);
    assert_eq!(code, 1);
    assert_eq!(report["reproduced"], 5);
    assert_eq!(report["differ"][0]["line"], 3);
    assert_eq!(report["differ"][0]["why"], "answer");
    assert_eq!(report["differ"][0]["detail"]["given"], lines[2]["answer"]);

    // Another license document than the one decided on is named, not replayed.
    support::write_license(&dir, &support::license("lic-pro", "pro", 5, 365));
    let (code, report) = replay(&dir, &log);
    assert_eq!(code, 1);
    let why: Vec<(u64, &str)> = report["differ"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["why"].as_str().unwrap()))
        .collect();
    assert_eq!(why, [(1, "license"), (6, "license")], "{report:#}");
}
