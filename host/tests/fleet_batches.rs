//! Consuming checks batched into one PostgreSQL call: 32 clients at once
//! send keyed checks of 1 to 4 units, of one hot license and of 20 others,
//! through one gateway. The gateway batches them (its metrics say how many
//! calls carried how many checks); every answer is its own check's: the
//! units each answer says were used before it, with its amount, tile each
//! license's count with no gap and no overlap, the store holds exactly
//! their sum, and each key sent again gets its first answer byte for byte.
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
use support::{agent, post, write_bundle, write_license, Gateway, PostgresServer};

const CLIENTS: usize = 32;
const EACH: usize = 12;

fn bundle() -> Value {
    json!({
      "bundle": "fleet-batches",
      "version": "1.0.0",
      "currency": "USD",
      "billing_period": "month",
      "features": { "api_calls": { "kind": "metered", "unit": "call" } },
      "tiers": { "pro": {
          "rank": 1, "price": "10.00", "features": ["api_calls"],
          "quotas": { "api_calls": { "limit": 1_000_000, "period": "month",
                                     "enforcement": { "mode": "hard" } } } } },
      "expiry": { "renewal_grace_days": 10, "expiring_soon_days": 30,
                  "after_grace": { "access": "revoke" } }
    })
}

#[test]
fn batched_checks_each_get_their_own_answer() {
    let postgres = PostgresServer::start("batches-postgres");
    let dir = support::scratch("batches-gw");
    write_bundle(&dir, &bundle());
    let licenses: Vec<String> = (0..21).map(|n| format!("lic-{n:02}")).collect();
    for id in &licenses {
        write_license(&dir, &support::license(id, "pro", 30, 365));
    }
    let journal = dir.join("gw.journal").display().to_string();
    let gw = Gateway::start(
        &dir,
        &support::module_path(),
        &[
            "--meter",
            &postgres.url,
            "--workers",
            "2",
            "--watch-ms",
            "0",
            "--fleet-journal",
            &journal,
        ],
    );
    let url = gw.url("/v1/check");
    let start = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (url, start) = (url.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                let http = agent();
                start.wait();
                (0..EACH)
                    .map(|n| {
                        // Half the checks on the hot license, the rest spread.
                        let license = if n % 2 == 0 {
                            String::from("lic-00")
                        } else {
                            format!("lic-{:02}", 1 + (client + n) % 20)
                        };
                        let amount = 1 + (client + n) as u64 % 4;
                        let key = format!("k-{client}-{n}");
                        let ask =
                            json!({"license": license, "metric": "api_calls", "amount": amount});
                        let a =
                            post(&http, &url, &ask, &[("Idempotency-Key", key.as_str())]).unwrap();
                        assert_eq!(a.status, 200, "{}", a.body);
                        (license, amount, key, ask, a.body)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let answers: Vec<_> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    // Each license's answers tile its count: sorted by the count each was
    // decided on, each starts where the one before ended.
    let mut spans: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for (license, amount, _, _, body) in &answers {
        let answer: Value = serde_json::from_str(body).unwrap();
        assert_eq!(answer["result"]["decision"], "allow", "{body}");
        assert_eq!(answer["result"]["quota"]["requested"], *amount, "{body}");
        let before = answer["result"]["quota"]["used"].as_u64().unwrap();
        spans
            .entry(license.clone())
            .or_default()
            .push((before, *amount));
    }
    for (license, mut spans) in spans {
        spans.sort_unstable();
        let mut end = 0;
        for (before, amount) in &spans {
            assert_eq!(*before, end, "{license}: {spans:?}");
            end += amount;
        }
        assert_eq!(support::used(&gw, &license, "api_calls"), end, "{license}");
    }
    // Each key again: its first answer, byte for byte.
    let http = agent();
    for (_, _, key, ask, body) in &answers {
        let again = post(&http, &url, ask, &[("Idempotency-Key", key.as_str())]).unwrap();
        assert_eq!(&again.body, body, "{key}");
    }
    // The checks did wait for one another: batched calls carried them.
    let (calls, checks) = (
        support::counter(&gw, "entitle_store_batches_total"),
        support::counter(&gw, "entitle_store_batched_checks_total"),
    );
    assert!(
        calls > 0 && checks > calls,
        "{calls} batched calls, {checks} checks"
    );
    eprintln!("{calls} batched calls carried {checks} checks");
}
