//! Consuming checks racing each other over real HTTP: many clients at once
//! on two licenses with a hard quota get exactly `limit` allowances per
//! license, every allowance decided on its own count, and the meter holds
//! exactly what was allowed; the same idempotency key sent at once by many
//! clients counts once and gets one answer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use serde_json::{json, Value};
use support::{agent, get, post, write_bundle, write_license, Gateway};

/// Units a license may use a day (hard).
const LIMIT: u64 = 60;
/// Clients sending at once.
const CLIENTS: usize = 12;
/// Requests each client sends, alternating between the two licenses.
const EACH: usize = 16;

fn bundle() -> Value {
    json!({
      "bundle": "concurrency-test",
      "version": "1.0.0",
      "currency": "USD",
      "billing_period": "month",
      "features": { "api_calls": { "kind": "metered", "unit": "call" } },
      "tiers": {
        "capped": {
          "rank": 1, "price": "10.00", "features": ["api_calls"],
          "quotas": { "api_calls": { "limit": LIMIT, "period": "day",
                                     "enforcement": { "mode": "hard" } } }
        }
      },
      "expiry": { "renewal_grace_days": 10, "expiring_soon_days": 30,
                  "after_grace": { "access": "revoke" } }
    })
}

fn started(name: &str) -> Gateway {
    started_with(name, &[])
}

fn started_with(name: &str, flags: &[&str]) -> Gateway {
    let dir = support::scratch(name);
    write_bundle(&dir, &bundle());
    for id in ["lic-a", "lic-b", "lic-c"] {
        write_license(&dir, &support::license(id, "capped", 30, 365));
    }
    let mut all = vec!["--watch-ms", "0", "--workers", "4"];
    all.extend_from_slice(flags);
    Gateway::start(&dir, &support::module_path(), &all)
}

#[test]
fn concurrent_consuming_checks_allow_exactly_the_limit_per_license() {
    exactly_the_limit(&started("gw-concurrency"));
}

/// However the writer groups records into commits, the same checks are
/// allowed and the same counts kept: with no commit delay, and with a long
/// one that makes records share commits (the metrics must show groups of
/// six records or more on average, or the delay did not group them). The
/// delay is for answers that wait for their commit (`--durability power`).
#[test]
fn the_commit_delay_groups_records_and_changes_no_count() {
    let power = ["--durability", "power"];
    let eager = started_with(
        "gw-concurrency-eager",
        &[&power[..], &["--commit-delay-us", "0"]].concat(),
    );
    exactly_the_limit(&eager);
    let grouped = started_with(
        "gw-concurrency-grouped",
        &[&power[..], &["--commit-delay-us", "3000"]].concat(),
    );
    exactly_the_limit(&grouped);
    let commits = support::counter(&grouped, "entitle_meter_commits_total");
    let records = support::counter(&grouped, "entitle_meter_records_total");
    // Every allowance is one record.
    assert_eq!(records, 2 * LIMIT);
    // Twelve clients at once, each waiting for its commit: waiting 3 ms
    // gathers about all of them (10 or 11 commits here), where committing
    // at once wrote 27 to 66 commits for the same 120 records.
    assert!(
        commits * 6 <= records,
        "{commits} commits for {records} records"
    );
}

fn exactly_the_limit(gw: &Gateway) {
    let url = gw.url("/v1/check");
    let start = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let url = url.clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let http = agent();
                start.wait();
                let mut seen = Vec::new();
                for n in 0..EACH {
                    let license = if (client + n) % 2 == 0 {
                        "lic-a"
                    } else {
                        "lic-b"
                    };
                    let ask = json!({"license": license, "metric": "api_calls", "amount": 1});
                    let a = post(&http, &url, &ask, &[]).unwrap();
                    assert_eq!(a.status, 200, "{}", a.body);
                    let body = a.json();
                    seen.push((license, body["result"].clone()));
                }
                seen
            })
        })
        .collect();
    let mut allowed: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut denied: BTreeMap<&str, u64> = BTreeMap::new();
    for client in clients {
        for (license, result) in client.join().unwrap() {
            match result["decision"].as_str() {
                Some("allow") => {
                    assert_eq!(
                        result["record"]["used"],
                        result["quota"]["used"].as_u64().unwrap() + 1
                    );
                    allowed
                        .entry(license)
                        .or_default()
                        .push(result["quota"]["used"].as_u64().unwrap());
                }
                Some("deny") => {
                    assert_eq!(result["reason"], "quota_exceeded", "{result}");
                    assert!(result["record"].is_null(), "{result}");
                    *denied.entry(license).or_default() += 1;
                }
                other => panic!("{other:?}: {result}"),
            }
        }
    }
    let asked = (CLIENTS * EACH / 2) as u64;
    for license in ["lic-a", "lic-b"] {
        let mut counts = allowed.remove(license).unwrap_or_default();
        counts.sort_unstable();
        // Every allowance decided on a count no other allowance saw: 0, 1, … limit - 1.
        assert_eq!(
            counts,
            (0..LIMIT).collect::<Vec<_>>(),
            "{license}: the counts the allowances were decided on"
        );
        assert_eq!(
            denied.get(license).copied(),
            Some(asked - LIMIT),
            "{license}"
        );
        assert_eq!(support::used(gw, license, "api_calls"), LIMIT, "{license}");
    }
    // Decided by the compact check, each full answer held to it; a deny
    // repeats from the cache until the count moves.
    let counter = |name: &str| support::counter(gw, name);
    let compact = counter("entitle_compact_checks_total");
    assert!(compact >= 2 * LIMIT, "{compact}");
    assert_eq!(
        compact + counter("entitle_decision_cache_hits_total"),
        (CLIENTS * EACH) as u64
    );
    assert_eq!(counter("entitle_compact_disagreements_total"), 0);
}

#[test]
fn one_key_sent_at_once_by_many_clients_counts_once() {
    let gw = started("gw-concurrency-key");
    let url = gw.url("/v1/check");
    let start = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let url = url.clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let http = agent();
                start.wait();
                // Every client sends the same request with one key, then a
                // request of its own with another key, on the same license.
                let same = json!({"license": "lic-c", "metric": "api_calls", "amount": 3});
                let first = post(&http, &url, &same, &[("idempotency-key", "shared")]).unwrap();
                let own = json!({"license": "lic-c", "metric": "api_calls", "amount": 1});
                let key = format!("own-{client}");
                let second = post(&http, &url, &own, &[("idempotency-key", &key)]).unwrap();
                (first, second)
            })
        })
        .collect();
    let answers: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let shared = &answers[0].0;
    assert_eq!(shared.status, 200, "{}", shared.body);
    assert_eq!(shared.json()["result"]["decision"], "allow");
    for (first, second) in &answers {
        assert_eq!(first.body, shared.body, "one key, one answer");
        assert_eq!(second.status, 200, "{}", second.body);
        assert_eq!(second.json()["result"]["decision"], "allow");
    }
    // 3 for the shared key, once; 1 for each client's own key.
    let expected = 3 + CLIENTS as u64;
    assert_eq!(support::used(&gw, "lic-c", "api_calls"), expected);
    // The shared key with another request is refused, and counts nothing.
    let other = post(
        &agent(),
        &url,
        &json!({"license": "lic-c", "metric": "api_calls", "amount": 2}),
        &[("idempotency-key", "shared")],
    )
    .unwrap();
    assert_eq!(other.status, 422, "{}", other.body);
    assert_eq!(support::used(&gw, "lic-c", "api_calls"), expected);
    let status = get(&agent(), &gw.url("/v1/status/lic-c"), &[]).unwrap();
    assert_eq!(status.status, 200);
}
