//! A fleet: three `entitle serve` processes counting in one store, a
//! redis-server or a PostgreSQL cluster the test starts, with 32 clients
//! spread over them consuming one license's quota past its limit. The
//! units admitted are exactly what the quota allows (a hard limit; a soft
//! limit and its grace, whose start every gateway agrees on), every
//! admission is decided on a count of its own, the store holds exactly
//! what was admitted, and a retried key is counted once whichever gateway
//! it reaches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use serde_json::{json, Value};
use support::{agent, post, write_bundle, write_license, Gateway, PostgresServer, RedisServer};

/// Units `lic-hard` may use a day.
const HARD: u64 = 120;
/// `lic-soft`'s monthly limit, and how far its grace reaches (+20%).
const SOFT: u64 = 100;
const GRACE: u64 = 120;
/// Clients sending at once, and requests each sends per license.
const CLIENTS: usize = 32;
const EACH: usize = 5;

fn bundle() -> Value {
    json!({
      "bundle": "fleet-test",
      "version": "1.0.0",
      "currency": "USD",
      "billing_period": "month",
      "features": { "api_calls": { "kind": "metered", "unit": "call" } },
      "tiers": {
        "hard": {
          "rank": 1, "price": "10.00", "features": ["api_calls"],
          "quotas": { "api_calls": { "limit": HARD, "period": "day",
                                     "enforcement": { "mode": "hard" } } }
        },
        "soft": {
          "rank": 2, "price": "20.00", "features": ["api_calls"],
          "quotas": { "api_calls": { "limit": SOFT, "period": "month",
            "enforcement": { "mode": "soft", "grace_allowance": { "percent": "20" }, "grace_hours": 48 } } }
        }
      },
      "expiry": { "renewal_grace_days": 10, "expiring_soon_days": 30,
                  "after_grace": { "access": "revoke" } }
    })
}

/// The documents of a fleet's test, in a scratch folder of its own.
fn documents(name: &str) -> std::path::PathBuf {
    let dir = support::scratch(name);
    write_bundle(&dir, &bundle());
    write_license(&dir, &support::license("lic-hard", "hard", 30, 365));
    write_license(&dir, &support::license("lic-soft", "soft", 30, 365));
    write_license(&dir, &support::license("lic-keys", "hard", 30, 365));
    dir
}

/// One gateway of a fleet counting in the store at `url`, journaling in
/// `dir/<journal>`; `lease`, when given, leases `api_calls` that many
/// units at a time for that many milliseconds.
fn gateway(
    dir: &std::path::Path,
    url: &str,
    journal: &str,
    lease: Option<(&str, &str)>,
) -> Gateway {
    let journal = dir.join(journal).display().to_string();
    let mut flags = vec![
        "--meter",
        url,
        "--workers",
        "2",
        "--watch-ms",
        "0",
        "--fleet-journal",
        &journal,
    ];
    if let Some((size, ttl_ms)) = lease {
        flags.extend(["--lease", size, "--lease-ttl-ms", ttl_ms]);
    }
    Gateway::start(dir, &support::module_path(), &flags)
}

/// Three gateways of one fleet counting in the store at `url`.
fn fleet(name: &str, url: &str) -> Vec<Gateway> {
    let dir = documents(name);
    ["a", "b", "c"]
        .iter()
        .map(|n| gateway(&dir, url, &format!("{n}.journal"), None))
        .collect()
}

/// Three gateways of one fleet leasing `api_calls` 10 units at a time,
/// each lease spent from for at most 300 ms.
fn leasing_fleet(name: &str, url: &str) -> Vec<Gateway> {
    let dir = documents(name);
    let lease = Some(("api_calls=10", "300"));
    ["a", "b", "c"]
        .iter()
        .map(|n| gateway(&dir, url, &format!("{n}.journal"), lease))
        .collect()
}

#[test]
fn three_gateways_on_one_redis_admit_exactly_the_quota() {
    let redis = RedisServer::start("fleet-redis");
    let gateways = fleet("fleet-redis-gw", &redis.url);
    exactly_the_quota(&gateways);
    keys_count_once_across_the_fleet(&gateways);
}

#[test]
fn three_gateways_on_one_postgres_admit_exactly_the_quota() {
    let postgres = PostgresServer::start("fleet-postgres");
    let gateways = fleet("fleet-postgres-gw", &postgres.url);
    exactly_the_quota(&gateways);
    keys_count_once_across_the_fleet(&gateways);
}

#[test]
fn three_leasing_gateways_on_one_redis_admit_exactly_the_quota() {
    let redis = RedisServer::start("fleet-redis-lease");
    let gateways = leasing_fleet("fleet-redis-lease-gw", &redis.url);
    leased_quota(&gateways);
}

#[test]
fn three_leasing_gateways_on_one_postgres_admit_exactly_the_quota() {
    let postgres = PostgresServer::start("fleet-postgres-lease");
    let gateways = leasing_fleet("fleet-postgres-lease-gw", &postgres.url);
    leased_quota(&gateways);
}

#[test]
fn a_lease_gives_back_what_it_did_not_spend_once_its_time_is_up() {
    let redis = RedisServer::start("fleet-redis-ttl");
    let dir = documents("fleet-redis-ttl-gw");
    let gw = gateway(
        &dir,
        &redis.url,
        "ttl.journal",
        Some(("api_calls=50", "300")),
    );
    let http = agent();
    let ask = json!({"license": "lic-hard", "metric": "api_calls", "amount": 1});
    for _ in 0..7 {
        post(&http, &gw.url("/v1/check"), &ask, &[]).unwrap();
    }
    assert_eq!(support::used(&gw, "lic-hard", "api_calls"), 50);
    // Settled within one and a half times its 300 ms; the status this
    // gateway gives reads the smaller count back.
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert_eq!(support::used(&gw, "lic-hard", "api_calls"), 7);
    assert_eq!(support::counter(&gw, "entitle_lease_units_unspent"), 0);
}

#[test]
fn a_lease_a_killed_gateway_held_is_settled_when_it_starts_again() {
    let redis = RedisServer::start("fleet-redis-crash");
    let dir = documents("fleet-redis-crash-gw");
    let lease = Some(("api_calls=50", "60000"));
    let first = gateway(&dir, &redis.url, "crash.journal", lease);
    let http = agent();
    let ask = json!({"license": "lic-hard", "metric": "api_calls", "amount": 1});
    for _ in 0..7 {
        let a = post(&http, &first.url("/v1/check"), &ask, &[]).unwrap();
        assert_eq!(a.json()["result"]["decision"], "allow", "{}", a.body);
    }
    // The store counts the whole lease while the gateway holds it.
    assert_eq!(support::used(&first, "lic-hard", "api_calls"), 50);
    first.signal("KILL");
    drop(first);
    // Started again on its journal, it gives back what it did not spend.
    let again = gateway(&dir, &redis.url, "crash.journal", lease);
    assert_eq!(support::used(&again, "lic-hard", "api_calls"), 7);
    let a = post(&http, &again.url("/v1/check"), &ask, &[]).unwrap();
    assert_eq!(a.json()["result"]["quota"]["used"], 7, "{}", a.body);
}

/// 32 clients, client `n` on gateway `n % 3`, each asking one unit of
/// each license `EACH` times, all at once.
fn exactly_the_quota(gateways: &[Gateway]) {
    let urls: Vec<String> = gateways.iter().map(|g| g.url("/v1/check")).collect();
    let start = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let url = urls[client % urls.len()].clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let http = agent();
                start.wait();
                let mut seen = Vec::new();
                for n in 0..EACH * 2 {
                    let license = if (client + n) % 2 == 0 {
                        "lic-hard"
                    } else {
                        "lic-soft"
                    };
                    let ask = json!({"license": license, "metric": "api_calls", "amount": 1});
                    let a = post(&http, &url, &ask, &[]).unwrap();
                    assert_eq!(a.status, 200, "{}", a.body);
                    seen.push((license, a.json()["result"].clone()));
                }
                seen
            })
        })
        .collect();
    let mut hard = Vec::new();
    let mut soft = Vec::new();
    let mut in_grace = Vec::new();
    let mut grace_ends = BTreeSet::new();
    let mut denied = 0;
    for client in clients {
        for (license, result) in client.join().unwrap() {
            let used = result["quota"]["used"].as_u64().unwrap();
            match (license, result["decision"].as_str().unwrap()) {
                ("lic-hard", "allow") => hard.push(used),
                ("lic-soft", "allow") => {
                    assert_eq!(result["reason"], "within_quota", "{result}");
                    soft.push(used);
                }
                ("lic-soft", "allow_in_grace") => {
                    assert_eq!(result["reason"], "soft_limit_grace", "{result}");
                    in_grace.push(used);
                    grace_ends.insert(result["quota"]["grace_ends_at"].to_string());
                    // What every gateway records carries the one crossing.
                    assert!(result["record"]["soft_exceeded_at"].is_string(), "{result}");
                }
                (_, "deny") => {
                    assert!(result["record"].is_null(), "{result}");
                    denied += 1;
                }
                other => panic!("{other:?}: {result}"),
            }
            if result["decision"] != "deny" {
                assert_eq!(result["record"]["used"].as_u64().unwrap(), used + 1);
            }
        }
    }
    // Exactly min(asked, limit [+ grace]) admitted, each on its own count.
    let asked = (CLIENTS * EACH) as u64;
    hard.sort_unstable();
    assert_eq!(hard, (0..HARD).collect::<Vec<_>>());
    soft.sort_unstable();
    assert_eq!(soft, (0..SOFT).collect::<Vec<_>>());
    in_grace.sort_unstable();
    assert_eq!(in_grace, (SOFT..GRACE).collect::<Vec<_>>());
    assert_eq!(denied, 2 * asked - HARD - GRACE);
    // One grace for the whole fleet: its end is the same in every answer
    // of every gateway.
    assert_eq!(grace_ends.len(), 1, "{grace_ends:?}");
    // Every gateway's status reads the store: the same counts everywhere.
    // Each decided through the compact check, and never counted a check
    // the module then answered otherwise.
    for gateway in gateways {
        assert_eq!(support::used(gateway, "lic-hard", "api_calls"), HARD);
        assert_eq!(support::used(gateway, "lic-soft", "api_calls"), GRACE);
        assert!(support::counter(gateway, "entitle_compact_checks_total") > 0);
        assert_eq!(
            support::counter(gateway, "entitle_compact_disagreements_total"),
            0
        );
    }
}

/// The same load on leasing gateways, then one client going round the
/// gateways until each refuses in turn (no lease anywhere holds a unit the
/// store could give): exactly the quota admitted. Positions are not each
/// admission's own here (a settled lease's positions are reserved again),
/// but the totals are exact, the grace's end is one, and once the leases
/// are settled the store holds exactly what was admitted.
fn leased_quota(gateways: &[Gateway]) {
    let mut admitted = std::collections::BTreeMap::new();
    let mut grace_ends = BTreeSet::new();
    let mut tally = |license: &str, result: &Value| {
        let decision = result["decision"].as_str().unwrap();
        if decision != "deny" {
            *admitted.entry(license.to_string()).or_insert(0_u64) += 1;
            assert_eq!(
                result["record"]["used"].as_u64().unwrap(),
                result["quota"]["used"].as_u64().unwrap() + 1
            );
        }
        if decision == "allow_in_grace" {
            grace_ends.insert(result["quota"]["grace_ends_at"].to_string());
        }
        decision == "deny"
    };
    let urls: Vec<String> = gateways.iter().map(|g| g.url("/v1/check")).collect();
    let start = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let url = urls[client % urls.len()].clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let http = agent();
                start.wait();
                let mut seen = Vec::new();
                for n in 0..EACH * 2 {
                    let license = if (client + n) % 2 == 0 {
                        "lic-hard"
                    } else {
                        "lic-soft"
                    };
                    let ask = json!({"license": license, "metric": "api_calls", "amount": 1});
                    let a = post(&http, &url, &ask, &[]).unwrap();
                    assert_eq!(a.status, 200, "{}", a.body);
                    seen.push((license, a.json()["result"].clone()));
                }
                seen
            })
        })
        .collect();
    for client in clients {
        for (license, result) in client.join().unwrap() {
            tally(license, &result);
        }
    }
    let http = agent();
    for license in ["lic-hard", "lic-soft"] {
        let ask = json!({"license": license, "metric": "api_calls", "amount": 1});
        let mut refusals_in_a_row = 0;
        let mut sent = 0;
        while refusals_in_a_row < urls.len() {
            let url = &urls[sent % urls.len()];
            let result = post(&http, url, &ask, &[]).unwrap().json()["result"].clone();
            refusals_in_a_row = if tally(license, &result) {
                refusals_in_a_row + 1
            } else {
                0
            };
            sent += 1;
            assert!(
                sent < 1_000,
                "the fleet never refused on every gateway in turn"
            );
        }
    }
    assert_eq!(admitted["lic-hard"], HARD);
    assert_eq!(admitted["lic-soft"], GRACE);
    assert_eq!(grace_ends.len(), 1, "{grace_ends:?}");
    // Leases were spent from, and each settles within its 300 ms.
    std::thread::sleep(std::time::Duration::from_millis(900));
    for gateway in gateways {
        assert!(support::counter(gateway, "entitle_lease_spends_total") > 0);
        assert_eq!(
            support::counter(gateway, "entitle_compact_disagreements_total"),
            0
        );
        assert_eq!(support::used(gateway, "lic-hard", "api_calls"), HARD);
        assert_eq!(support::used(gateway, "lic-soft", "api_calls"), GRACE);
    }
}

/// A keyed request sent to one gateway and retried on the two others:
/// counted once, and every gateway answers the first answer; the key sent
/// with another request is refused.
fn keys_count_once_across_the_fleet(gateways: &[Gateway]) {
    let http = agent();
    let ask = json!({"license": "lic-keys", "metric": "api_calls", "amount": 5});
    let key = [("Idempotency-Key", "order-17")];
    let first = post(&http, &gateways[0].url("/v1/check"), &ask, &key).unwrap();
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["result"]["decision"], "allow");
    // Another request moves the count between the first and its retries.
    let other = json!({"license": "lic-keys", "metric": "api_calls", "amount": 2});
    post(&http, &gateways[1].url("/v1/check"), &other, &[]).unwrap();
    for gateway in &gateways[1..] {
        let retry = post(&http, &gateway.url("/v1/check"), &ask, &key).unwrap();
        assert_eq!(retry.status, 200, "{}", retry.body);
        assert_eq!(retry.body, first.body, "a retry gets the first answer");
    }
    let reused = json!({"license": "lic-keys", "metric": "api_calls", "amount": 6});
    let refused = post(&http, &gateways[2].url("/v1/check"), &reused, &key).unwrap();
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(
        refused.json()["errors"][0]["code"],
        "idempotency_key_reused"
    );
    for gateway in gateways {
        assert_eq!(support::used(gateway, "lic-keys", "api_calls"), 7);
    }
}
