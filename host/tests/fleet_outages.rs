//! A fleet's store cut off under load: three gateways reach the store
//! through a relay that cuts the network for three seconds (every byte
//! held, or only the store's replies: it applies requests the gateways
//! never hear back about), while 12 clients consume three metrics, one per
//! failure mode. During the cut each mode does what it declares, under
//! that load: `deny` answers 503 at once and never hangs, `bounded_open`
//! admits at most its units on each gateway, `lease_only` spends what the
//! gateways hold. Afterwards nothing acknowledged is lost; requests sent
//! with idempotency keys and retried are counted exactly once, lost replies
//! and all; and what an unkeyed request may have had counted without an
//! acknowledgement stays within the refusals the store's failure caused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{
    agent, get, post, write_bundle, write_license, Cut, Gateway, PostgresServer, RedisServer,
};

/// What `bounded_open` may admit per license on one gateway.
const BOUND: u64 = 5;
/// Units a lease of `uploads` reserves.
const SLICE: u64 = 20;
const CLIENTS: usize = 12;
const GATEWAYS: usize = 3;
const CUT_FOR: Duration = Duration::from_secs(3);

fn bundle() -> Value {
    let quota = json!({ "limit": 1_000_000, "period": "month", "enforcement": { "mode": "hard" } });
    json!({
      "bundle": "fleet-outages",
      "version": "1.0.0",
      "currency": "USD",
      "billing_period": "month",
      "features": {
        "api_calls": { "kind": "metered", "unit": "call",
                       "on_store_failure": { "mode": "bounded_open", "units": BOUND } },
        "exports": { "kind": "metered", "unit": "export" },
        "uploads": { "kind": "metered", "unit": "upload",
                     "on_store_failure": { "mode": "lease_only" } }
      },
      "tiers": {
        "pro": {
          "rank": 1, "price": "10.00", "features": ["api_calls", "exports", "uploads"],
          "quotas": { "api_calls": quota, "exports": quota, "uploads": quota }
        }
      },
      "expiry": { "renewal_grace_days": 10, "expiring_soon_days": 30,
                  "after_grace": { "access": "revoke" } }
    })
}

fn start(dir: &std::path::Path, url: &str, n: usize) -> Gateway {
    let journal = dir.join(format!("gw{n}.journal")).display().to_string();
    Gateway::start(
        dir,
        &support::module_path(),
        &[
            "--meter",
            url,
            "--workers",
            "2",
            "--watch-ms",
            "0",
            "--fleet-journal",
            &journal,
            "--lease",
            &format!("uploads={SLICE}"),
            "--lease-ttl-ms",
            "60000",
        ],
    )
}

/// What the clients of one metric saw.
#[derive(Default)]
struct Tally {
    /// Requests allowed (for keyed ones: keys, each acknowledged once).
    acknowledged: AtomicU64,
    /// Answers refused because the store failed (503).
    store_failed: AtomicU64,
    /// Of those, answered while the network was cut.
    failed_in_cut: AtomicU64,
    /// Allowed while the network was cut.
    allowed_in_cut: AtomicU64,
    /// The slowest answer, milliseconds.
    slowest_ms: AtomicU64,
}

#[test]
fn redis_replies_lost_for_three_seconds_under_load() {
    let redis = RedisServer::start_durable("outage-redis");
    through_a_cut("outage-redis-gw", &redis.url, Cut::cut_replies);
}

#[test]
fn postgres_unreachable_for_three_seconds_under_load() {
    let postgres = PostgresServer::start("outage-postgres");
    through_a_cut("outage-postgres-gw", &postgres.url, Cut::cut);
}

fn through_a_cut(name: &str, store: &str, cut_how: fn(&Cut)) {
    let dir = support::scratch(name);
    write_bundle(&dir, &bundle());
    write_license(&dir, &support::license("lic-pro", "pro", 30, 365));
    let (head, port) = store.rsplit_once(':').unwrap();
    let (port, tail) = port.split_once('/').map_or((port, ""), |(p, t)| (p, t));
    let relay = Cut::start(&format!("127.0.0.1:{port}"));
    let via = format!(
        "{}:{}{}{}",
        head,
        relay.port,
        if tail.is_empty() { "" } else { "/" },
        tail
    );
    let gateways: Vec<Gateway> = (0..GATEWAYS).map(|n| start(&dir, &via, n)).collect();
    let urls: Arc<Vec<String>> = Arc::new(gateways.iter().map(|g| g.url("/v1/check")).collect());
    let metrics = ["api_calls", "exports", "uploads"];
    let tallies: Arc<Vec<Tally>> = Arc::new(metrics.iter().map(|_| Tally::default()).collect());
    let (done, cutting) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (urls, tallies) = (Arc::clone(&urls), Arc::clone(&tallies));
            let (done, cutting) = (Arc::clone(&done), Arc::clone(&cutting));
            std::thread::spawn(move || {
                let http = agent();
                let which = client % metrics.len();
                let tally = &tallies[which];
                // `exports` is sent with keys and retried until allowed;
                // the others once each, without a key.
                let keyed = metrics[which] == "exports";
                let ask = json!({"license": "lic-pro", "metric": metrics[which], "amount": 1});
                for n in 0.. {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("c{client}-{n}");
                    for attempt in 0.. {
                        assert!(attempt < 1000, "client {client} never got through");
                        let url = &urls[(client + n + attempt) % urls.len()];
                        let headers: &[(&str, &str)] = if keyed {
                            &[("Idempotency-Key", key.as_str())]
                        } else {
                            &[]
                        };
                        let sent = Instant::now();
                        let answer = post(&http, url, &ask, headers).unwrap();
                        let took = u64::try_from(sent.elapsed().as_millis()).unwrap();
                        tally.slowest_ms.fetch_max(took, Ordering::Relaxed);
                        let in_cut = cutting.load(Ordering::Relaxed);
                        let body = answer.json();
                        match answer.status {
                            200 => {
                                assert_eq!(body["result"]["decision"], "allow", "{body}");
                                tally.acknowledged.fetch_add(1, Ordering::Relaxed);
                                if in_cut {
                                    tally.allowed_in_cut.fetch_add(1, Ordering::Relaxed);
                                }
                                break;
                            }
                            503 => {
                                assert_eq!(body["result"]["failure"], "store_failed", "{body}");
                                tally.store_failed.fetch_add(1, Ordering::Relaxed);
                                if in_cut {
                                    tally.failed_in_cut.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            other => panic!("{other}: {body}"),
                        }
                        if !keyed {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(1000));
    cut_how(&relay);
    cutting.store(true, Ordering::Relaxed);
    let healthz =
        |g: &Gateway| get(&agent(), &g.url("/healthz"), &[]).unwrap().json()["store"].clone();
    // While cut, and until every breaker has let the store back, no
    // gateway ever owes more than `bounded_open`'s units.
    let cut_at = Instant::now();
    let mut most_owed = 0;
    let mut healed = false;
    while cut_at.elapsed() < CUT_FOR + Duration::from_millis(2500) {
        if !healed && cut_at.elapsed() >= CUT_FOR {
            cutting.store(false, Ordering::Relaxed);
            relay.heal();
            healed = true;
        }
        for g in &gateways {
            let owed = healthz(g)["units_owed"].as_u64().unwrap();
            assert!(owed <= BOUND, "{owed} owed");
            most_owed = most_owed.max(owed);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    // Owed units counted, then every lease settled as the gateways stop.
    for g in &gateways {
        let deadline = Instant::now() + Duration::from_secs(20);
        while healthz(g)["units_owed"] != 0 {
            assert!(Instant::now() < deadline, "{}", healthz(g));
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // What each gateway admitted under `bounded_open` and owed.
    let owed_admissions: Vec<u64> = gateways
        .iter()
        .map(|g| support::counter(g, "entitle_owed_admissions_total"))
        .collect();
    for g in gateways {
        g.signal("TERM");
        assert!(g.wait().success());
    }
    let reader = start(&dir, store, 9);
    let report: Vec<String> = metrics
        .iter()
        .zip(tallies.iter())
        .map(|(m, t)| {
            format!(
                "{m}: {} acknowledged, {} store_failed ({} in the cut), {} allowed in the cut, slowest {} ms, stored {}",
                t.acknowledged.load(Ordering::Relaxed),
                t.store_failed.load(Ordering::Relaxed),
                t.failed_in_cut.load(Ordering::Relaxed),
                t.allowed_in_cut.load(Ordering::Relaxed),
                t.slowest_ms.load(Ordering::Relaxed),
                support::used(&reader, "lic-pro", m),
            )
        })
        .collect();
    let report = report.join("\n");
    let report = format!("{report}\nmost owed on one gateway at once: {most_owed}; admitted owing, per gateway: {owed_admissions:?}");
    eprintln!("{report}");
    let [api, exports, uploads] = &tallies[..] else {
        unreachable!()
    };
    let read = |t: &AtomicU64| t.load(Ordering::Relaxed);
    // The cut was met by every mode.
    assert!(read(&exports.failed_in_cut) > 0, "{report}");
    assert!(owed_admissions.iter().any(|n| *n > 0), "{report}");
    // Nothing hangs: each store call gives up after one second (connection
    // and query alike), and the breaker answers at once after three
    // failures. A `deny` check waits on at most one call and a fresh
    // connection; a leased metric's checks may also wait for their lease's
    // turn, behind one call.
    assert!(read(&exports.slowest_ms) < 2500, "{report}");
    for tally in [api, uploads] {
        assert!(read(&tally.slowest_ms) < 3500, "{report}");
    }
    // `bounded_open`: at most its units owed on each gateway at once (the
    // polls above); paid as soon as the store answers, they may be owed
    // again while the breaker still keeps the store away.
    // `lease_only`: no more than the leases the gateways held.
    assert!(
        read(&uploads.allowed_in_cut) <= SLICE * GATEWAYS as u64,
        "{report}"
    );
    // Keyed and retried: exactly once, lost replies and all.
    assert_eq!(
        support::used(&reader, "lic-pro", "exports"),
        read(&exports.acknowledged),
        "{report}"
    );
    // Unkeyed: nothing acknowledged lost. Anything more is a request the
    // store applied before its reply was lost: answered as a failure, or
    // admitted under `bounded_open` and counted again from the journal
    // (at most its units per gateway); for a lease, the slice reserved.
    let owed_total: u64 = owed_admissions.iter().sum();
    for (metric, tally, explained) in [
        ("api_calls", api, read(&api.store_failed) + owed_total),
        ("uploads", uploads, read(&uploads.store_failed) * SLICE),
    ] {
        let stored = support::used(&reader, "lic-pro", metric);
        let acknowledged = read(&tally.acknowledged);
        assert!(
            stored >= acknowledged,
            "{metric} lost acknowledged units\n{report}"
        );
        assert!(
            stored - acknowledged <= explained,
            "{metric} counted more than its failures explain\n{report}"
        );
    }
}
