//! Reload under load: a new bundle swapped in while clients keep sending
//! checks; no request fails, and every request sent after the swap is
//! answered under the new bundle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{
    agent, get, post, write_bundle, write_documents, write_json, write_license, Gateway,
};

/// One answer: when its request was sent and answered, and under which bundle version.
struct Seen {
    sent: Instant,
    answered: Instant,
    version: String,
}

/// Clients sending feature checks and consuming checks in a loop until told to stop.
fn load(
    gw: &Gateway,
    clients: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<(Vec<Seen>, Vec<String>)>> {
    (0..clients)
        .map(|client| {
            let url = gw.url("/v1/check");
            let stop = Arc::clone(stop);
            std::thread::spawn(move || {
                let http = agent();
                let (mut seen, mut failures) = (Vec::new(), Vec::new());
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let ask = if n.is_multiple_of(2) {
                        json!({"license": "lic-pro", "feature": "reports"})
                    } else {
                        json!({"license": "lic-pro", "metric": "api_calls", "amount": 1})
                    };
                    let key = format!("c{client}-{n}");
                    let sent = Instant::now();
                    match post(&http, &url, &ask, &[("idempotency-key", &key)]) {
                        Ok(a) if a.status == 200 && a.json()["outcome"] == "ok" => {
                            seen.push(Seen {
                                sent,
                                answered: Instant::now(),
                                version: a.json()["meta"]["bundle"]["version"]
                                    .as_str()
                                    .unwrap()
                                    .to_string(),
                            })
                        }
                        Ok(a) => failures.push(format!("{}: {}", a.status, a.body)),
                        Err(e) => failures.push(e.to_string()),
                    }
                }
                (seen, failures)
            })
        })
        .collect()
}

fn swap_under_load(by_signal: bool) {
    let name = if by_signal {
        "gw-reload-hup"
    } else {
        "gw-reload-watch"
    };
    let dir = support::scratch(name);
    write_documents(&dir, "1.0.0");
    let watch = if by_signal { "0" } else { "100" };
    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", watch]);
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(&gw, 4, &stop);

    std::thread::sleep(Duration::from_millis(700));
    // A bundle the module refuses (here: not signed) is logged and changes nothing.
    write_json(&dir.join("bundle.json"), &support::bundle("1.5.0"));
    if by_signal {
        gw.signal("HUP");
    }
    gw.wait_for_log(
        "reload refused; still serving the previous generation",
        Duration::from_secs(30),
    );
    std::thread::sleep(Duration::from_millis(300));

    write_bundle(&dir, &support::bundle("2.0.0"));
    if by_signal {
        gw.signal("HUP");
    }
    gw.wait_for_log("reloaded", Duration::from_secs(30));
    let swapped = Instant::now();
    std::thread::sleep(Duration::from_millis(700));
    stop.store(true, Ordering::Relaxed);

    let mut seen = Vec::new();
    let failures: Vec<String> = clients
        .into_iter()
        .flat_map(|c| {
            let (s, f) = c.join().unwrap();
            seen.extend(s);
            f
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed requests: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let before: Vec<&Seen> = seen.iter().filter(|s| s.answered < swapped).collect();
    let after: Vec<&Seen> = seen.iter().filter(|s| s.sent > swapped).collect();
    assert!(
        before.len() > 20 && after.len() > 20,
        "{} before, {} after",
        before.len(),
        after.len()
    );
    // The refused 1.5.0 never answered anything.
    assert!(seen
        .iter()
        .all(|s| s.version == "1.0.0" || s.version == "2.0.0"));
    assert!(before.iter().any(|s| s.version == "1.0.0"));
    let stale: Vec<_> = after.iter().filter(|s| s.version != "2.0.0").collect();
    assert!(
        stale.is_empty(),
        "{} requests sent after the swap answered under the old bundle",
        stale.len()
    );
    // Metered counts carried across the swap: status counts every allowed consuming check.
    let consumed = support::used(&gw, "lic-pro", "api_calls");
    assert!(consumed > 0);
    let _ = post(
        &agent(),
        &gw.url("/v1/check"),
        &json!({"license": "lic-pro", "metric": "api_calls", "amount": 1}),
        &[],
    )
    .unwrap();
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), consumed + 1);
}

#[test]
fn a_bundle_swapped_by_sighup_under_load_fails_no_request() {
    swap_under_load(true);
}

#[test]
fn a_bundle_swapped_by_file_change_under_load_fails_no_request() {
    swap_under_load(false);
}

#[test]
fn licenses_come_and_go_with_their_files() {
    let dir = support::scratch("gw-reload-licenses");
    write_documents(&dir, "1.0.0");
    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "100"]);
    let http = agent();
    let ask = json!({"license": "lic-new", "feature": "reports"});
    let a = post(&http, &gw.url("/v1/check"), &ask, &[]).unwrap();
    assert_eq!(a.json()["errors"][0]["code"], "unknown_license");
    write_license(&dir, &support::license("lic-new", "basic", 1, 30));
    gw.wait_for_log("reloaded", Duration::from_secs(30));
    let a = post(&http, &gw.url("/v1/check"), &ask, &[]).unwrap();
    assert_eq!(a.json()["result"]["decision"], "allow");
    std::fs::remove_file(dir.join("licenses").join("lic-new.json")).unwrap();
    gw.wait_for_log("reloaded", Duration::from_secs(30));
    let a = post(&http, &gw.url("/v1/check"), &ask, &[]).unwrap();
    assert_eq!(a.json()["errors"][0]["code"], "unknown_license");

    // A license that is not signed by a trusted key is refused, logged and counted.
    let mut forged = support::license("lic-forged", "pro", 1, 30);
    forged["seats"] = json!(500);
    write_json(&dir.join("licenses").join("lic-forged.json"), &forged);
    gw.wait_for_log("reloaded", Duration::from_secs(30));
    let a = post(
        &http,
        &gw.url("/v1/check"),
        &json!({"license": "lic-forged", "feature": "reports"}),
        &[],
    )
    .unwrap();
    assert_eq!(a.json()["errors"][0]["code"], "unknown_license");
    let health = get(&http, &gw.url("/healthz"), &[]).unwrap().json();
    assert_eq!(health["refused_licenses"], 1);
    assert_eq!(health["signed_by"], "test-only-a");
}
