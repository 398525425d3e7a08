//! The fleet's shared counts on real stores the tests start on free ports,
//! a redis-server and a PostgreSQL cluster: gateways sharing one store never
//! admit past a ceiling between them, a retried key is counted once,
//! numbers stay exact up to the store's bound and an unreachable store is
//! an error naming it; on Redis, counts expire at their period's end and a
//! license's keys stay in one hash slot.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use entitle_core::Timestamp;
use entitle_host::gateway::store::redis::RedisCounts;
use entitle_host::gateway::store::{Consume, Consumed, Counted, Lease, SharedCounts};
use support::{PostgresServer, RedisServer};

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn used(used: u64) -> Counted {
    Counted {
        used,
        soft_exceeded_at: None,
    }
}

fn consume<'a>(license: &'a str, amount: u64, ceiling: Option<u64>) -> Consume<'a> {
    Consume {
        license,
        metric: "api_calls",
        period_start: at("2026-12-01T00:00:00Z"),
        period_end: at("2027-01-01T00:00:00Z"),
        amount,
        ceiling,
        soft_limit: None,
        soft_exceeded_at: None,
        up_to: None,
        key: None,
        now: at("2026-12-06T10:00:00Z"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gateways_on_one_redis_admit_exactly_up_to_the_ceiling() {
    let redis = RedisServer::start("redis-exact");
    exactly_up_to_the_ceiling(&redis.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gateways_on_one_postgres_admit_exactly_up_to_the_ceiling() {
    let postgres = PostgresServer::start("postgres-exact");
    exactly_up_to_the_ceiling(&postgres.url).await;
}

async fn exactly_up_to_the_ceiling(url: &str) {
    // Three gateways, each with its own connection; 32 clients spread
    // over them ask 500 units one at a time of a ceiling of 300 (a limit
    // of 250 and a grace of 50).
    let mut gateways = Vec::new();
    for _ in 0..3 {
        gateways.push(SharedCounts::connect(url).await.unwrap());
    }
    let mut clients = Vec::new();
    for client in 0..32 {
        let gateway = gateways[client % 3].clone();
        let asks = if client < 20 { 16 } else { 15 };
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..asks {
                seen.push(
                    gateway
                        .consume(&consume("lic-hot", 1, Some(300)))
                        .await
                        .unwrap(),
                );
            }
            seen
        }));
    }
    let mut admitted_on = Vec::new();
    let mut refused = 0;
    for client in clients {
        for outcome in client.await.unwrap() {
            match outcome {
                Consumed::Admitted(before) => admitted_on.push(before.used),
                Consumed::Refused(count) => {
                    assert_eq!(count.used, 300, "refused only once the ceiling is reached");
                    refused += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(admitted_on.len() + refused, 500);
    // min(requested, ceiling) admitted, each on a count of its own: no two
    // requests were ever decided on the same count.
    admitted_on.sort_unstable();
    assert_eq!(admitted_on, (0..300).collect::<Vec<u64>>());
    let stored = gateways[0]
        .count("lic-hot", "api_calls", at("2026-12-01T00:00:00Z"))
        .await
        .unwrap()
        .used;
    assert_eq!(stored, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_soft_limit_is_crossed_once_for_the_fleet_on_redis() {
    let redis = RedisServer::start("redis-soft");
    soft_limit_crossed_once(&redis.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_soft_limit_is_crossed_once_for_the_fleet_on_postgres() {
    let postgres = PostgresServer::start("postgres-soft");
    soft_limit_crossed_once(&postgres.url).await;
}

/// A soft limit of 100 with grace up to 129: 24 clients on three
/// gateways ask 3 units at a time, each at an instant of its own, every
/// one decided on the soft state it last saw. The first count past 100
/// records its request's instant; every request decided on another state
/// is refused as stale and counts nothing; 129 units are admitted.
async fn soft_limit_crossed_once(url: &str) {
    let mut gateways = Vec::new();
    for _ in 0..3 {
        gateways.push(SharedCounts::connect(url).await.unwrap());
    }
    let mut clients = Vec::new();
    for client in 0..24_u64 {
        let gateway = gateways[usize::try_from(client).unwrap() % 3].clone();
        clients.push(tokio::spawn(async move {
            let mut seen = None;
            let mut admitted = Vec::new();
            let mut stale = 0;
            for ask in 0..10_u64 {
                let now = at("2026-12-06T10:00:00Z")
                    .plus_seconds(i64::try_from(client * 100 + ask).unwrap())
                    .unwrap();
                let mut request = consume("lic-soft", 3, Some(129));
                request.soft_limit = Some(100);
                request.soft_exceeded_at = seen;
                request.now = now;
                loop {
                    match gateway.consume(&request).await.unwrap() {
                        Consumed::Admitted(before) => {
                            admitted.push((before, now));
                            break;
                        }
                        Consumed::Refused(count) => {
                            seen = count.soft_exceeded_at;
                            break;
                        }
                        Consumed::Stale(count) => {
                            stale += 1;
                            assert_ne!(count.soft_exceeded_at, request.soft_exceeded_at);
                            seen = count.soft_exceeded_at;
                            request.soft_exceeded_at = seen;
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
            }
            (admitted, stale)
        }));
    }
    let mut admitted = Vec::new();
    let mut stale = 0;
    for client in clients {
        let (mine, refused) = client.await.unwrap();
        admitted.extend(mine);
        stale += refused;
    }
    admitted.sort_by_key(|(before, _)| before.used);
    let befores: Vec<u64> = admitted.iter().map(|(b, _)| b.used).collect();
    assert_eq!(befores, (0..129).step_by(3).collect::<Vec<u64>>());
    // The crossing: 99 + 3 > 100, its instant is what every later count
    // carries, and no count before it carries one.
    let (_, crossed_at) = admitted[33];
    for (before, _) in &admitted[..=33] {
        assert_eq!(before.soft_exceeded_at, None, "{before:?}");
    }
    for (before, _) in &admitted[34..] {
        assert_eq!(before.soft_exceeded_at, Some(crossed_at), "{before:?}");
    }
    let period = at("2026-12-01T00:00:00Z");
    let stored = gateways[1]
        .count("lic-soft", "api_calls", period)
        .await
        .unwrap();
    assert_eq!(
        stored,
        Counted {
            used: 129,
            soft_exceeded_at: Some(crossed_at)
        }
    );
    // Every client decided once on the state before the crossing, at most.
    assert!(stale <= 24, "{stale}");
    let newest = gateways[2].counts("lic-soft").await.unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].metric, "api_calls");
    assert_eq!(newest[0].period_start, period);
    assert_eq!(newest[0].counted, stored);
}

#[tokio::test]
async fn leases_take_what_is_left_and_settle_once_on_redis() {
    let redis = RedisServer::start("redis-leases");
    leases_and_settlements(&redis.url).await;
}

#[tokio::test]
async fn leases_take_what_is_left_and_settle_once_on_postgres() {
    let postgres = PostgresServer::start("postgres-leases");
    leases_and_settlements(&postgres.url).await;
}

/// A soft limit of 100, grace to 120, leases of up to 30 units.
async fn leases_and_settlements(url: &str) {
    let store = SharedCounts::connect(url).await.unwrap();
    let lease = |amount: u64, soft: Option<Timestamp>| {
        let mut request = consume("lic-a", amount, Some(120));
        request.soft_limit = Some(100);
        request.soft_exceeded_at = soft;
        request.up_to = Some(30);
        request
    };
    let reserved = |before: u64, soft: Option<Timestamp>, units: u64| Consumed::Reserved {
        before: Counted {
            used: before,
            soft_exceeded_at: soft,
        },
        units,
    };
    assert_eq!(
        store.consume(&lease(1, None)).await.unwrap(),
        reserved(0, None, 30)
    );
    assert_eq!(
        store.consume(&lease(1, None)).await.unwrap(),
        reserved(30, None, 30)
    );
    assert_eq!(
        store.consume(&lease(1, None)).await.unwrap(),
        reserved(60, None, 30)
    );
    // Short of the soft limit a lease stops there: grace starts only with
    // a request that crosses it itself.
    assert_eq!(
        store.consume(&lease(1, None)).await.unwrap(),
        reserved(90, None, 10)
    );
    let period = at("2026-12-01T00:00:00Z");
    assert_eq!(
        store.count("lic-a", "api_calls", period).await.unwrap(),
        used(100)
    );
    let crossing = store.consume(&lease(1, None)).await.unwrap();
    let now = at("2026-12-06T10:00:00Z");
    assert_eq!(crossing, reserved(100, None, 20));
    // Nothing is left under the grace's ceiling.
    assert_eq!(
        store.consume(&lease(1, Some(now))).await.unwrap(),
        Consumed::Refused(Counted {
            used: 120,
            soft_exceeded_at: Some(now)
        })
    );
    // A lease gives back what it did not spend, once.
    let settled = Lease {
        id: "gw-a-7",
        license: "lic-a",
        metric: "api_calls",
        period_start: period,
        unused: 12,
    };
    assert_eq!(store.settle(&settled).await.unwrap(), Some(12));
    assert_eq!(store.settle(&settled).await.unwrap(), None);
    assert_eq!(
        store
            .count("lic-a", "api_calls", period)
            .await
            .unwrap()
            .used,
        108
    );
    // A lease of a count that is gone gives nothing back.
    let mut gone = settled;
    gone.id = "gw-a-8";
    gone.license = "lic-none";
    assert_eq!(store.settle(&gone).await.unwrap(), Some(0));
    assert_eq!(
        store.count("lic-none", "api_calls", period).await.unwrap(),
        used(0)
    );
}

#[tokio::test]
async fn a_retried_key_is_counted_once_and_answered_as_first_on_redis() {
    let redis = RedisServer::start("redis-keys");
    retried_keys(&redis.url).await;
}

#[tokio::test]
async fn a_retried_key_is_counted_once_and_answered_as_first_on_postgres() {
    let postgres = PostgresServer::start("postgres-keys");
    retried_keys(&postgres.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_sent_at_once_are_counted_once_on_redis() {
    let redis = RedisServer::start("redis-retries");
    retries_at_once(&redis.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_sent_at_once_are_counted_once_on_postgres() {
    let postgres = PostgresServer::start("postgres-retries");
    retries_at_once(&postgres.url).await;
}

/// 16 copies of one keyed request through two gateways at once: one is
/// counted, every other gets its outcome.
async fn retries_at_once(url: &str) {
    let gateways = [
        SharedCounts::connect(url).await.unwrap(),
        SharedCounts::connect(url).await.unwrap(),
    ];
    let mut copies = Vec::new();
    for copy in 0..16 {
        let gateway = gateways[copy % 2].clone();
        copies.push(tokio::spawn(async move {
            let mut request = consume("lic-a", 7, Some(100));
            request.key = Some(("k-once", "fingerprint"));
            gateway.consume(&request).await.unwrap()
        }));
    }
    let mut outcomes = Vec::new();
    for copy in copies {
        outcomes.push(copy.await.unwrap());
    }
    let first = Consumed::Admitted(used(0));
    let replay = Consumed::Replayed {
        admitted: true,
        before: used(0),
        at: at("2026-12-06T10:00:00Z"),
    };
    assert_eq!(
        outcomes.iter().filter(|o| **o == first).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == replay).count(),
        15,
        "{outcomes:?}"
    );
    let period = at("2026-12-01T00:00:00Z");
    assert_eq!(
        gateways[0]
            .count("lic-a", "api_calls", period)
            .await
            .unwrap()
            .used,
        7
    );
}

async fn retried_keys(url: &str) {
    let store = SharedCounts::connect(url).await.unwrap();
    let mut first = consume("lic-a", 5, Some(100));
    first.key = Some(("k-1", "fingerprint-1"));
    assert_eq!(
        store.consume(&first).await.unwrap(),
        Consumed::Admitted(used(0))
    );

    // The retry comes later, on a count that moved meanwhile: it gets the
    // first outcome, with the count and instant the first was decided on.
    store
        .consume(&consume("lic-a", 10, Some(100)))
        .await
        .unwrap();
    let mut retry = first;
    retry.now = at("2026-12-06T10:00:07Z");
    assert_eq!(
        store.consume(&retry).await.unwrap(),
        Consumed::Replayed {
            admitted: true,
            before: used(0),
            at: at("2026-12-06T10:00:00Z")
        }
    );
    // The same key with another request is refused, and counts nothing.
    let mut other = first;
    other.key = Some(("k-1", "fingerprint-2"));
    assert_eq!(store.consume(&other).await.unwrap(), Consumed::KeyReused);
    let period = at("2026-12-01T00:00:00Z");
    assert_eq!(
        store
            .count("lic-a", "api_calls", period)
            .await
            .unwrap()
            .used,
        15
    );

    // A key belongs to its license: another license's k-1 is its own.
    let mut elsewhere = first;
    elsewhere.license = "lic-b";
    assert_eq!(
        store.consume(&elsewhere).await.unwrap(),
        Consumed::Admitted(used(0))
    );

    // A refused request's retry is refused again, even once it would fit.
    let mut over = consume("lic-a", 90, Some(100));
    over.key = Some(("k-2", "fingerprint-3"));
    assert_eq!(
        store.consume(&over).await.unwrap(),
        Consumed::Refused(used(15))
    );
    let mut wider = over;
    wider.ceiling = Some(1_000);
    assert!(matches!(
        store.consume(&wider).await.unwrap(),
        Consumed::Replayed {
            admitted: false,
            before: Counted { used: 15, .. },
            ..
        }
    ));
    assert_eq!(
        store
            .count("lic-a", "api_calls", period)
            .await
            .unwrap()
            .used,
        15
    );
}

#[tokio::test]
async fn counts_expire_at_their_period_end_and_each_period_counts_apart() {
    let redis = RedisServer::start("redis-periods");
    let store = RedisCounts::connect(&redis.url, "fleet-a").await.unwrap();
    store.consume(&consume("lic-a", 3, None)).await.unwrap();
    let mut next = consume("lic-a", 4, None);
    next.period_start = at("2027-01-01T00:00:00Z");
    next.period_end = at("2027-02-01T00:00:00Z");
    assert_eq!(
        store.consume(&next).await.unwrap(),
        Consumed::Admitted(used(0))
    );

    let mut plain = redis.connection();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut plain).unwrap();
    keys.sort();
    // 2026-12-01 and 2027-01-01 in Unix seconds.
    assert_eq!(
        keys,
        [
            "fleet-a:{lic-a}:count:api_calls:1796083200",
            "fleet-a:{lic-a}:count:api_calls:1798761600",
            "fleet-a:{lic-a}:periods",
        ]
    );
    // Each expires at its period's end (2027-01-01 and 2027-02-01, ms).
    // The index of newest periods lives as long as the newest of them.
    let ends = [1_798_761_600_000_i64, 1_801_440_000_000, 1_801_440_000_000];
    for (key, end_ms) in keys.iter().zip(ends) {
        let expires: i64 = redis::cmd("PEXPIRETIME")
            .arg(key)
            .query(&mut plain)
            .unwrap();
        assert_eq!(expires, end_ms, "{key}");
    }
}

#[tokio::test]
async fn every_key_of_a_license_shares_its_hash_tag() {
    let redis = RedisServer::start("redis-slots");
    let store = RedisCounts::connect(&redis.url, "entitle").await.unwrap();
    let mut keyed = consume("lic-7", 1, Some(10));
    keyed.key = Some(("retry-me", "f"));
    store.consume(&keyed).await.unwrap();
    let mut plain = redis.connection();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut plain).unwrap();
    assert_eq!(keys.len(), 3, "{keys:?}");
    // Redis Cluster hashes only what is inside the first braces: every key
    // of one script call land in the slot of `lic-7`.
    for key in keys {
        let open = key.find('{').unwrap();
        let close = key.find('}').unwrap();
        assert_eq!(&key[open + 1..close], "lic-7", "{key}");
    }
}

#[tokio::test]
async fn numbers_past_what_redis_holds_exactly_are_refused() {
    let redis = RedisServer::start("redis-bounds");
    let store = SharedCounts::connect(&redis.url).await.unwrap();
    assert_eq!(store.most(), 1 << 53, "Lua's doubles are exact up to 2^53");
    bounds(&store).await;
}

#[tokio::test]
async fn numbers_past_a_postgres_bigint_are_refused() {
    let postgres = PostgresServer::start("postgres-bounds");
    let store = SharedCounts::connect(&postgres.url).await.unwrap();
    assert_eq!(store.most(), 9_223_372_036_854_775_807);
    bounds(&store).await;
}

async fn bounds(store: &SharedCounts) {
    let most = store.most();
    let error = store
        .consume(&consume("lic-a", most + 1, None))
        .await
        .unwrap_err();
    let amount = format!("an amount `{}`", most + 1);
    assert!(error.to_string().contains(&amount), "{error}");
    let error = store
        .consume(&consume("lic-a", 1, Some(u64::MAX)))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("a ceiling"), "{error}");
    // Up to the bound, counts are exact.
    store
        .consume(&consume("lic-a", most - 1, None))
        .await
        .unwrap();
    assert_eq!(
        store
            .consume(&consume("lic-a", 1, Some(most)))
            .await
            .unwrap(),
        Consumed::Admitted(used(most - 1))
    );
    // At the bound, `count + amount` would round (Redis's doubles) or
    // overflow (PostgreSQL's bigint): each compares what is left instead.
    assert_eq!(
        store
            .consume(&consume("lic-a", 1, Some(most)))
            .await
            .unwrap(),
        Consumed::Refused(used(most))
    );
    // Unlimited, a count still cannot pass the bound: an error, not a
    // count that stops being exact.
    let error = store.consume(&consume("lic-a", 1, None)).await.unwrap_err();
    assert!(error.to_string().contains("would pass"), "{error}");
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_naming_it_without_credentials() {
    let port = support::free_port();
    let url = format!("redis://:hunter2@127.0.0.1:{port}");
    let error = match RedisCounts::connect(&url, "entitle").await {
        Ok(_) => panic!("connected to nothing"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.contains(&format!("redis `redis://127.0.0.1:{port}`")),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}

#[tokio::test]
async fn a_redis_that_stops_answering_fails_the_consume_in_bounded_time() {
    use entitle_host::gateway::store::redis::WAIT;
    let redis = RedisServer::start("redis-frozen");
    let store = RedisCounts::connect(&redis.url, "entitle").await.unwrap();
    store.consume(&consume("lic-a", 1, Some(10))).await.unwrap();
    redis.signal("STOP");
    let started = std::time::Instant::now();
    let outcome = store.consume(&consume("lic-a", 1, Some(10))).await;
    let waited = started.elapsed();
    redis.signal("CONT");
    let error = outcome.unwrap_err().to_string();
    assert!(
        error.starts_with("the meter database failed: redis `redis://127.0.0.1:"),
        "{error}"
    );
    // One answer's wait, and the reconnection attempts' (each bounded).
    assert!(waited >= WAIT && waited < WAIT * 6, "{waited:?}");
}

#[tokio::test]
async fn an_unreachable_postgres_is_an_error_naming_it_without_credentials() {
    let port = support::free_port();
    let url = format!("postgres://entitle:hunter2@127.0.0.1:{port}/fleet");
    let error = match SharedCounts::connect(&url).await {
        Ok(_) => panic!("connected to nothing"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.contains(&format!("postgres `127.0.0.1:{port}/fleet`")),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}

#[tokio::test]
async fn an_address_of_no_known_store_is_refused() {
    let error = match SharedCounts::connect("memcached://127.0.0.1:11211").await {
        Ok(_) => panic!("took an unknown store"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("`redis://`"), "{error}");
}
