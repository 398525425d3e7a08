//! A fleet's store failing under a gateway: Redis killed and started
//! again, PostgreSQL stopped and started. While it is away each metric's
//! `on_store_failure` behaves as declared (`deny` refuses at once with 503,
//! `lease_only` spends the lease held and no more, `bounded_open` admits
//! up to its units and journals them), feature checks keep being answered,
//! and `/healthz` says so; once it is back the owed units are counted
//! exactly once, nothing acknowledged is lost, and a gateway killed and
//! started again counts nothing twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{
    agent, get, post, write_bundle, write_license, Gateway, PostgresServer, RedisServer,
};

/// What `bounded_open` may admit per license on one gateway.
const BOUND: u64 = 5;
/// Units a lease of `uploads` reserves.
const SLICE: u64 = 20;

/// `exports` can hardly run out: the load test sends thousands.
fn bundle() -> Value {
    let quota = |limit: u64| json!({ "limit": limit, "period": "month", "enforcement": { "mode": "hard" } });
    json!({
      "bundle": "fleet-faults",
      "version": "1.0.0",
      "currency": "USD",
      "billing_period": "month",
      "features": {
        "api_calls": { "kind": "metered", "unit": "call",
                       "on_store_failure": { "mode": "bounded_open", "units": BOUND } },
        "exports": { "kind": "metered", "unit": "export" },
        "uploads": { "kind": "metered", "unit": "upload",
                     "on_store_failure": { "mode": "lease_only" } },
        "reports": { "kind": "boolean" }
      },
      "tiers": {
        "pro": {
          "rank": 1, "price": "10.00", "features": ["api_calls", "exports", "uploads", "reports"],
          "quotas": { "api_calls": quota(1000), "exports": quota(1_000_000), "uploads": quota(1000) }
        }
      },
      "expiry": { "renewal_grace_days": 10, "expiring_soon_days": 30,
                  "after_grace": { "access": "revoke" } }
    })
}

fn start_gateway(dir: &std::path::Path, url: &str) -> Gateway {
    let journal = dir.join("gw.journal").display().to_string();
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

fn consume(gw: &Gateway, metric: &str) -> (u16, Value) {
    let ask = json!({"license": "lic-pro", "metric": metric, "amount": 1});
    let answer = post(&agent(), &gw.url("/v1/check"), &ask, &[]).unwrap();
    (answer.status, answer.json())
}

fn healthz(gw: &Gateway) -> Value {
    get(&agent(), &gw.url("/healthz"), &[]).unwrap().json()["store"].clone()
}

/// The fault itself, as each store has it.
trait Store {
    fn url(&self) -> String;
    fn fail(&mut self);
    fn recover(&mut self);
}

impl Store for RedisServer {
    fn url(&self) -> String {
        self.url.clone()
    }
    fn fail(&mut self) {
        self.kill();
    }
    fn recover(&mut self) {
        self.start_again();
    }
}

impl Store for PostgresServer {
    fn url(&self) -> String {
        self.url.clone()
    }
    fn fail(&mut self) {
        self.stop();
    }
    fn recover(&mut self) {
        self.start_again();
    }
}

#[test]
fn redis_killed_and_started_again() {
    let mut redis = RedisServer::start_durable("faults-redis");
    through_an_outage("faults-redis-gw", &mut redis);
}

#[test]
fn postgres_stopped_and_started_again() {
    let mut postgres = PostgresServer::start("faults-postgres");
    through_an_outage("faults-postgres-gw", &mut postgres);
}

/// A client that gives up while its check waits on the store: the store
/// counts it, so the gateway still decides it and counts it in its
/// metrics, and the two agree.
#[test]
fn a_check_whose_client_left_is_still_decided_and_counted() {
    use std::io::Write as _;
    let redis = RedisServer::start("faults-redis-gone");
    let dir = support::scratch("faults-redis-gone-gw");
    write_bundle(&dir, &bundle());
    write_license(&dir, &support::license("lic-pro", "pro", 30, 365));
    let gw = start_gateway(&dir, &redis.url);
    redis.signal("STOP");
    let body = r#"{"license":"lic-pro","metric":"exports","amount":1}"#;
    let mut stream =
        std::net::TcpStream::connect(gw.url("").trim_start_matches("http://")).unwrap();
    write!(
        stream,
        "POST /v1/check HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(stream);
    // The store wakes within its one-second wait, and counts the check.
    std::thread::sleep(Duration::from_millis(300));
    redis.signal("CONT");
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(support::used(&gw, "lic-pro", "exports"), 1);
    let metrics = get(&agent(), &gw.url("/metrics"), &[]).unwrap().body;
    let allowed: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("entitle_decisions_total{endpoint=\"check\",outcome=\"allow\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|n| n as u64)
        .sum();
    assert_eq!(allowed, 1, "{metrics}");
}

/// 16 clients send keyed consuming checks through three gateways on one
/// Redis, 20 ms apart, retrying each (same key, next gateway) until it is
/// allowed; meanwhile one gateway is SIGKILLed and started again, then
/// Redis is killed and started again. Once the faults are over the store
/// counts each acknowledged check exactly once, and every gateway says so.
#[test]
fn keyed_retries_through_a_gateway_kill_and_a_redis_restart_count_once() {
    let mut redis = RedisServer::start_durable("faults-load-redis");
    keyed_retries_under_faults("faults-load-gw", &mut redis);
}

#[test]
fn keyed_retries_through_a_gateway_kill_and_a_postgres_restart_count_once() {
    let mut postgres = PostgresServer::start("faults-load-postgres");
    keyed_retries_under_faults("faults-load-pg-gw", &mut postgres);
}

/// 16 clients send keyed checks through three gateways, each retried with
/// its key on the next gateway until allowed, while one gateway is
/// SIGKILLed and started again and the store is taken down and brought
/// back: the store counts each acknowledged check exactly once.
fn keyed_retries_under_faults(name: &str, store: &mut dyn Store) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    const CLIENTS: usize = 16;
    let url = store.url();
    let dir = support::scratch(name);
    write_bundle(&dir, &bundle());
    write_license(&dir, &support::license("lic-pro", "pro", 30, 365));
    let start = |n: usize| {
        let journal = dir.join(format!("gw{n}.journal")).display().to_string();
        Gateway::start(
            &dir,
            &support::module_path(),
            &[
                "--meter",
                &url,
                "--workers",
                "2",
                "--watch-ms",
                "0",
                "--fleet-journal",
                &journal,
            ],
        )
    };
    let mut gateways: Vec<Gateway> = (0..3).map(start).collect();
    let urls: Arc<Vec<Mutex<String>>> = Arc::new(
        gateways
            .iter()
            .map(|g| Mutex::new(g.url("/v1/check")))
            .collect(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let urls = Arc::clone(&urls);
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let http = agent();
                let (mut acknowledged, mut retries) = (0_u64, 0_u64);
                let ask = json!({"license": "lic-pro", "metric": "exports", "amount": 1});
                for n in 0.. {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("c{client}-{n}");
                    let mut last = String::new();
                    for attempt in 0.. {
                        assert!(attempt < 500, "client {client} never got through: {last}");
                        let url = urls[(client + n + attempt) % urls.len()]
                            .lock()
                            .unwrap()
                            .clone();
                        let answer = post(&http, &url, &ask, &[("Idempotency-Key", key.as_str())]);
                        match answer {
                            Ok(a)
                                if a.status == 200 && a.json()["result"]["decision"] == "allow" =>
                            {
                                break
                            }
                            Ok(a) => last = format!("{} {}", a.status, a.body),
                            Err(error) => last = error.to_string(),
                        }
                        retries += 1;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    acknowledged += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                (acknowledged, retries)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    gateways[1].signal("KILL");
    gateways[1] = start(1);
    *urls[1].lock().unwrap() = gateways[1].url("/v1/check");
    std::thread::sleep(Duration::from_millis(500));
    store.fail();
    std::thread::sleep(Duration::from_millis(1500));
    store.recover();
    std::thread::sleep(Duration::from_millis(1000));
    done.store(true, Ordering::Relaxed);
    let (mut acknowledged, mut retries) = (0, 0);
    for client in clients {
        let (a, r) = client.join().unwrap();
        acknowledged += a;
        retries += r;
    }
    // The faults were met: requests had to be sent again.
    assert!(
        retries > 0 && acknowledged > 500,
        "{acknowledged} acknowledged, {retries} retries"
    );
    // The store holds exactly what was acknowledged: every gateway's
    // status reads it from the store (not its last sight of the counts),
    // once its breaker lets it try the store again.
    for gateway in &gateways {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let status = get(&agent(), &gateway.url("/v1/status/lic-pro"), &[]).unwrap();
            let from_store = status.status == 200 && status.header("x-entitle-counts").is_none();
            let used = status.json()["result"]["quotas"]
                .as_array()
                .and_then(|q| q.iter().find(|q| q["metric"] == "exports"))
                .and_then(|q| q["used"].as_u64());
            if from_store && used == Some(acknowledged) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{used:?} for {acknowledged}, {}",
                healthz(gateway)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn through_an_outage(name: &str, store: &mut dyn Store) {
    let dir = support::scratch(name);
    write_bundle(&dir, &bundle());
    write_license(&dir, &support::license("lic-pro", "pro", 30, 365));
    let url = store.url();
    let gw = start_gateway(&dir, &url);
    for metric in [
        "api_calls",
        "api_calls",
        "api_calls",
        "exports",
        "uploads",
        "uploads",
    ] {
        let (status, body) = consume(&gw, metric);
        assert_eq!(
            (status, body["result"]["decision"].as_str()),
            (200, Some("allow")),
            "{body}"
        );
    }
    assert_eq!(healthz(&gw)["health"]["up"], true);

    store.fail();

    // `deny`: refused with 503, nothing counted; once the breaker is open,
    // at once.
    for _ in 0..4 {
        let (status, body) = consume(&gw, "exports");
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["result"]["decision"], "deny");
        assert_eq!(body["result"]["failure"], "store_failed");
    }
    let started = Instant::now();
    let (status, _) = consume(&gw, "exports");
    assert_eq!(status, 503);
    // Well under the store's one-second wait: the breaker answered.
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    // `bounded_open`: its units admitted, journaled, then refused.
    let mut admitted = 0;
    for _ in 0..BOUND + 3 {
        let (status, body) = consume(&gw, "api_calls");
        match status {
            200 => {
                assert_eq!(body["result"]["decision"], "allow", "{body}");
                admitted += 1;
            }
            503 => assert_eq!(body["result"]["failure"], "store_failed", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(admitted, BOUND);
    // `lease_only`: what the lease holds, and no more.
    let mut spent = 0;
    for _ in 0..SLICE {
        let (status, body) = consume(&gw, "uploads");
        match status {
            200 => spent += 1,
            503 => assert_eq!(body["result"]["failure"], "store_failed", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(spent, SLICE - 2, "the lease's 20 units, 2 spent before");
    // Feature checks need no store.
    let feature = post(
        &agent(),
        &gw.url("/v1/check"),
        &json!({"license": "lic-pro", "feature": "reports"}),
        &[],
    )
    .unwrap();
    assert_eq!(feature.json()["result"]["decision"], "allow");
    let health = healthz(&gw);
    assert_eq!(health["health"]["up"], false, "{health}");
    assert_eq!(health["units_owed"], BOUND, "{health}");
    // A status says its counts are the last this gateway saw.
    let status = get(&agent(), &gw.url("/v1/status/lic-pro"), &[]).unwrap();
    assert_eq!(status.status, 200);
    assert_eq!(status.header("x-entitle-counts"), Some("last-seen"));

    store.recover();

    // The owed units are counted once the store is back.
    let deadline = Instant::now() + Duration::from_secs(20);
    while healthz(&gw)["units_owed"] != 0 {
        assert!(Instant::now() < deadline, "{}", healthz(&gw));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 3 + BOUND);
    assert_eq!(support::used(&gw, "lic-pro", "exports"), 1);
    let status = get(&agent(), &gw.url("/v1/status/lic-pro"), &[]).unwrap();
    assert_eq!(status.header("x-entitle-counts"), None);
    assert_eq!(support::used(&gw, "lic-pro", "uploads"), SLICE);
    let (status, body) = consume(&gw, "exports");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["quota"]["used"], 1);

    // Killed and started again on its journal: nothing counted twice.
    gw.signal("KILL");
    drop(gw);
    let again = start_gateway(&dir, &url);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(support::used(&again, "lic-pro", "api_calls"), 3 + BOUND);
    assert_eq!(support::used(&again, "lic-pro", "exports"), 2);
    assert_eq!(support::used(&again, "lic-pro", "uploads"), SLICE);
}
