//! Floating seats across a fleet: two `entitle serve` processes on one
//! store (a redis-server, then a PostgreSQL cluster, each started by the
//! test), 10 clients on 8 machines asking at once for seats of a 5-seat
//! license. Exactly 5 machines get one; heartbeats keep them past several
//! times the seats' time to live; a client that stops frees its seat after
//! the time to live and not before; a gateway SIGKILLed and started again
//! finds every held seat still held. On one gateway's own SQLite file, the
//! seats outlive a restart too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{agent, get, post, Gateway, PostgresServer, RedisServer};

/// The license's seats (`support::license` sells 5).
const SEATS: usize = 5;
/// Clients asking at once, and the machines they run on (clients 8 and 9
/// share machines 0 and 1 with clients 0 and 1).
const CLIENTS: usize = 10;
const MACHINES: usize = 8;
/// How long a seat is held without a heartbeat.
const TTL: Duration = Duration::from_millis(2000);
/// How often holders send heartbeats.
const BEAT: Duration = Duration::from_millis(400);

fn documents(name: &str) -> std::path::PathBuf {
    let dir = support::scratch(name);
    support::write_documents(&dir, "1.0.0");
    dir
}

fn gateway(dir: &std::path::Path, meter: Option<&str>, journal: &str) -> Gateway {
    let ttl = TTL.as_millis().to_string();
    let journal = dir.join(journal).display().to_string();
    let mut flags = vec!["--workers", "2", "--watch-ms", "0", "--seat-ttl-ms", &ttl];
    if let Some(url) = meter {
        flags.extend(["--meter", url, "--fleet-journal", &journal]);
    }
    Gateway::start(dir, &support::module_path(), &flags)
}

fn machine(client: usize) -> String {
    format!("machine-{}", client % MACHINES)
}

/// One seat request: (status, body).
fn seat(url: &str, action: &str, fingerprint: &str) -> (u16, Value) {
    let body = json!({"license": "lic-pro", "fingerprint": fingerprint});
    let a = post(&agent(), &format!("{url}/v1/seats/{action}"), &body, &[]).unwrap();
    (a.status, a.json())
}

/// The seats a gateway's status shows in use.
fn active(url: &str) -> u64 {
    let status = get(&agent(), &format!("{url}/v1/status/lic-pro"), &[])
        .unwrap()
        .json();
    status["result"]["license"]["seats"]["active"]
        .as_u64()
        .unwrap()
}

#[test]
fn two_gateways_on_one_redis_grant_exactly_the_seats() {
    let redis = RedisServer::start("seats-redis");
    let dir = documents("seats-redis-gw");
    exactly_the_seats(&dir, &redis.url);
}

#[test]
fn two_gateways_on_one_postgres_grant_exactly_the_seats() {
    let postgres = PostgresServer::start("seats-postgres");
    let dir = documents("seats-postgres-gw");
    exactly_the_seats(&dir, &postgres.url);
}

fn exactly_the_seats(dir: &std::path::Path, store: &str) {
    let mut a = gateway(dir, Some(store), "a.journal");
    let b = gateway(dir, Some(store), "b.journal");
    let urls = [a.url(""), b.url("")];

    // 10 clients at once, client n through gateway n % 2.
    let start = Arc::new(Barrier::new(CLIENTS));
    let asks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let url = urls[client % 2].clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                (client, seat(&url, "activate", &machine(client)))
            })
        })
        .collect();
    let mut granted = BTreeSet::new();
    let mut outcome_of: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    for ask in asks {
        let (client, (status, body)) = ask.join().unwrap();
        outcome_of.entry(machine(client)).or_default().push(status);
        match status {
            200 => {
                assert_eq!(body["held"], true, "{body}");
                assert_eq!(
                    body["answer"]["result"]["reason"], "seat_available",
                    "{body}"
                );
                assert!(body["expires_at"].is_string(), "{body}");
                granted.insert(machine(client));
            }
            402 => {
                assert_eq!(body["held"], false, "{body}");
                assert_eq!(
                    body["answer"]["result"]["reason"], "seats_exhausted",
                    "{body}"
                );
                assert_eq!(body["answer"]["result"]["seats"]["held"], 5, "{body}");
            }
            other => panic!("client {client}: {other} {body}"),
        }
    }
    assert_eq!(granted.len(), SEATS, "machines granted: {granted:?}");
    // Two clients on one machine hold one seat between them: both are
    // granted or both refused.
    for (machine, statuses) in &outcome_of {
        assert!(
            statuses.windows(2).all(|w| w[0] == w[1]),
            "{machine}: {statuses:?}"
        );
    }
    let waiting: Vec<String> = (0..MACHINES)
        .map(|m| format!("machine-{m}"))
        .filter(|m| !granted.contains(m))
        .collect();
    assert_eq!(waiting.len(), MACHINES - SEATS);
    for url in &urls {
        assert_eq!(active(url), SEATS as u64);
    }

    // Heartbeats keep the seats for three times their time to live; the
    // machines waiting stay refused all along.
    let holders: Vec<String> = granted.iter().cloned().collect();
    let beats = |holders: &[String], through: &[String]| {
        for (i, holder) in holders.iter().enumerate() {
            let (status, body) = seat(&through[i % through.len()], "heartbeat", holder);
            assert_eq!(status, 200, "{holder}: {body}");
            assert_eq!(body["renewed"], true, "{body}");
        }
    };
    let until = Instant::now() + TTL * 3;
    while Instant::now() < until {
        beats(&holders, &urls);
        for (i, waiter) in waiting.iter().enumerate() {
            let (status, body) = seat(&urls[i % 2], "activate", waiter);
            assert_eq!(status, 402, "{waiter}: {body}");
        }
        std::thread::sleep(BEAT);
    }
    assert_eq!(active(&urls[0]), SEATS as u64);

    // A client killed: its machine sends nothing more. Its seat is still
    // held before the time to live runs out, and free after it.
    let (gone, holders) = holders.split_first().unwrap();
    let holders = holders.to_vec();
    let gone_at = Instant::now();
    let (status, body) = seat(&urls[1], "activate", &waiting[0]);
    assert_eq!(status, 402, "{gone} was still held: {body}");
    let mut freed = None;
    while gone_at.elapsed() < TTL * 3 {
        beats(&holders, &urls);
        let (status, body) = seat(&urls[0], "activate", &waiting[0]);
        if status == 200 {
            freed = Some(gone_at.elapsed());
            break;
        }
        assert_eq!(status, 402, "{body}");
        std::thread::sleep(BEAT);
    }
    let freed = freed.expect("the killed client's seat was never freed");
    assert!(
        freed >= TTL - BEAT,
        "freed after {freed:?}, before its time to live"
    );
    let mut holders = holders;
    holders.push(waiting[0].clone());
    let waiting = &waiting[1..];
    assert_eq!(active(&urls[1]), SEATS as u64);

    // Gateway a SIGKILLed and started again on the same store, while the
    // holders keep beating through b: every held seat stays held, and a
    // sees them all.
    a.signal("KILL");
    drop(a);
    let restart = {
        let dir = dir.to_path_buf();
        let store = store.to_string();
        std::thread::spawn(move || gateway(&dir, Some(&store), "a.journal"))
    };
    while !restart.is_finished() {
        beats(&holders, &urls[1..]);
        std::thread::sleep(BEAT);
    }
    a = restart.join().unwrap();
    let a_url = a.url("");
    beats(&holders, std::slice::from_ref(&a_url));
    assert_eq!(active(&a_url), SEATS as u64);
    for waiter in waiting {
        let (status, body) = seat(&a_url, "activate", waiter);
        assert_eq!(status, 402, "{waiter}: {body}");
    }

    // A release frees the seat at once, and counts once.
    let (status, body) = seat(&a_url, "release", &holders[0]);
    assert_eq!((status, &body["released"]), (200, &json!(true)), "{body}");
    let (status, body) = seat(&urls[1], "release", &holders[0]);
    assert_eq!((status, &body["released"]), (200, &json!(false)), "{body}");
    let (status, body) = seat(&urls[1], "activate", &waiting[0]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["renewed"], false, "{body}");

    // Forward-auth holds the seat through `X-Entitle-Seat`: a holder
    // passes and learns until when, a machine without one is refused.
    let http = agent();
    let ask = |machine: &str| {
        get(
            &http,
            &format!("{a_url}/v1/forward-auth"),
            &[
                ("x-entitle-license", "lic-pro"),
                ("x-entitle-seat", machine),
                ("x-entitle-feature", "reports"),
            ],
        )
        .unwrap()
    };
    let held = ask(&waiting[0]);
    assert_eq!(held.status, 200, "{}", held.body);
    assert!(held.header("x-entitle-seat-expires").is_some());
    assert_eq!(held.header("x-entitle-reason"), Some("entitled"));
    let refused = ask(&waiting[1]);
    assert_eq!(refused.status, 402, "{}", refused.body);
    assert_eq!(refused.json()["reason"], "seats_exhausted");
}

#[test]
fn seats_on_one_gateway_outlive_its_restart() {
    let dir = documents("seats-sqlite");
    let first = gateway(&dir, None, "");
    let url = first.url("");
    for m in 0..SEATS {
        let (status, body) = seat(&url, "activate", &format!("machine-{m}"));
        assert_eq!(status, 200, "{body}");
    }
    let (status, _) = seat(&url, "activate", "machine-late");
    assert_eq!(status, 402);
    first.signal("KILL");
    drop(first);
    let again = gateway(&dir, None, "");
    let url = again.url("");
    assert_eq!(active(&url), SEATS as u64);
    // The portal decides again from the documents the status hands over:
    // their usage holds the seats too.
    let portal = get(
        &agent(),
        &format!("{url}/v1/status/lic-pro?documents=true"),
        &[],
    )
    .unwrap()
    .json();
    assert_eq!(portal["documents"]["usage"]["active_seats"], SEATS as u64);
    assert_eq!(
        portal["status"]["result"]["license"]["seats"]["active"],
        SEATS as u64
    );
    let (status, body) = seat(&url, "heartbeat", "machine-0");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["renewed"], true, "{body}");
    let (status, body) = seat(&url, "activate", "machine-late");
    assert_eq!(status, 402, "{body}");
    // Bad input is named by its path.
    let bad = post(
        &agent(),
        &format!("{url}/v1/seats/activate"),
        &json!({"license": "lic-pro", "fingerprint": ""}),
        &[],
    )
    .unwrap();
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["errors"][0]["path"], "$.fingerprint");
    assert_eq!(bad.json()["errors"][0]["code"], "malformed_fingerprint");
    let no_license = post(
        &agent(),
        &format!("{url}/v1/seats/heartbeat"),
        &json!({"fingerprint": "machine-0"}),
        &[],
    )
    .unwrap();
    assert_eq!(no_license.status, 400);
    assert_eq!(no_license.json()["errors"][0]["path"], "$.license");
    assert_eq!(no_license.json()["errors"][0]["code"], "missing_license");
    let not_object = post(
        &agent(),
        &format!("{url}/v1/seats/release"),
        &json!([1]),
        &[],
    )
    .unwrap();
    assert_eq!(not_object.status, 400);
    assert_eq!(not_object.json()["errors"][0]["path"], "$");
    assert_eq!(not_object.json()["errors"][0]["code"], "malformed_body");
    let unknown = post(
        &agent(),
        &format!("{url}/v1/seats/activate"),
        &json!({"license": "lic-nobody", "fingerprint": "m"}),
        &[],
    )
    .unwrap();
    assert_eq!(unknown.status, 400, "{}", unknown.body);
}
