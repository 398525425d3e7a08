//! Crash safety: the gateway killed with SIGKILL in the middle of a metering
//! load, then restarted on the same database. Every acknowledged consuming
//! check is counted, none twice; the requests cut off by the kill are
//! retried with their idempotency keys and then the count equals the
//! acknowledged checks exactly. A gateway stopped by SIGTERM leaves every
//! record in the database, and a second gateway on a database in use is
//! refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use support::{agent, post, write_documents, Gateway};

/// Keys of consuming checks acknowledged (allowed) and cut off, per client.
struct Outcome {
    acknowledged: Vec<String>,
    cut_off: Vec<String>,
}

fn consume(url: &str, key: &str) -> Result<u16, ureq::Error> {
    let ask = json!({"license": "lic-pro", "metric": "api_calls", "amount": 1});
    let a = post(&agent(), url, &ask, &[("idempotency-key", key)])?;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["result"]["decision"], "allow", "{}", a.body);
    Ok(a.status)
}

fn db_count(dir: &std::path::Path) -> u64 {
    let db = rusqlite::Connection::open(dir.join("meter.db")).unwrap();
    let used: i64 = db
        .query_row(
            "SELECT COALESCE(SUM(used), 0) FROM counts WHERE license = 'lic-pro' AND metric = 'api_calls'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    u64::try_from(used).unwrap()
}

/// Lines in the meter's journal files (`meter.db.records/*.jsonl`).
fn journal_lines(dir: &std::path::Path) -> usize {
    let Ok(files) = std::fs::read_dir(dir.join("meter.db.records")) else {
        return 0;
    };
    files
        .map(|f| {
            std::fs::read_to_string(f.unwrap().path())
                .unwrap()
                .lines()
                .count()
        })
        .sum()
}

#[test]
fn a_killed_gateway_loses_no_acknowledged_consumption_and_counts_none_twice() {
    let dir = support::scratch("gw-crash");
    write_documents(&dir, "1.0.0");
    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let url = gw.url("/v1/check");
    let killed = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let url = url.clone();
            let killed = Arc::clone(&killed);
            std::thread::spawn(move || {
                let mut outcome = Outcome {
                    acknowledged: Vec::new(),
                    cut_off: Vec::new(),
                };
                for n in 0.. {
                    let key = format!("c{client}-{n}");
                    match consume(&url, &key) {
                        Ok(_) => outcome.acknowledged.push(key),
                        Err(_) => {
                            // The answer never came: the check may or may not be stored.
                            assert!(
                                killed.load(Ordering::SeqCst),
                                "a request failed before the kill"
                            );
                            outcome.cut_off.push(key);
                            break;
                        }
                    }
                }
                outcome
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    killed.store(true, Ordering::SeqCst);
    gw.signal("KILL");
    let status = gw.wait();
    assert!(!status.success());
    let outcomes: Vec<Outcome> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let acknowledged: usize = outcomes.iter().map(|o| o.acknowledged.len()).sum();
    let cut_off: Vec<String> = outcomes.iter().flat_map(|o| o.cut_off.clone()).collect();
    assert!(
        acknowledged > 100,
        "only {acknowledged} checks before the kill"
    );

    // What the database held at the kill; the rest is in the journal.
    let in_database = db_count(&dir);
    let journaled = journal_lines(&dir);

    // Restarted on the same database, which folds the journal in first: on
    // disk, every acknowledged check, plus at most the ones cut off.
    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let stored = db_count(&dir);
    let acknowledged = u64::try_from(acknowledged).unwrap();
    let in_flight = u64::try_from(cut_off.len()).unwrap();
    assert!(
        stored >= acknowledged && stored <= acknowledged + in_flight,
        "stored {stored}, acknowledged {acknowledged}, cut off {in_flight}"
    );
    eprintln!(
        "acknowledged {acknowledged}, cut off {in_flight}, in the database at the kill {in_database}, journal lines {journaled}, stored {stored}"
    );
    assert_eq!(journal_lines(&dir), 0, "the journal is folded and gone");
    // The cut-off requests can be retried: each is acknowledged exactly once.
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), stored);
    for key in &cut_off {
        consume(&gw.url("/v1/check"), key).unwrap();
        // A second retry is a replay: it counts nothing.
        consume(&gw.url("/v1/check"), key).unwrap();
    }
    let total = acknowledged + in_flight;
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), total);
    drop(gw);
    // Killed again: the database has them once the next start folds the journal.
    let _gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    assert_eq!(db_count(&dir), total);
}

#[test]
fn a_stopped_gateway_leaves_every_record_in_the_database() {
    let dir = support::scratch("gw-stop");
    write_documents(&dir, "1.0.0");
    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let url = gw.url("/v1/check");
    for n in 0..200 {
        consume(&url, &format!("s-{n}")).unwrap();
    }
    gw.signal("TERM");
    assert!(gw.wait().success());
    // Folded on the way out: nothing is left for the next start to do.
    assert_eq!(db_count(&dir), 200);
    assert_eq!(journal_lines(&dir), 0);
}

#[test]
fn a_second_gateway_on_the_same_database_is_refused() {
    let dir = support::scratch("gw-twice");
    write_documents(&dir, "1.0.0");
    let gw = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let second = Gateway::command(&dir, &support::module_path(), &["--watch-ms", "0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{stderr}");
    assert!(stderr.contains("in use by another gateway"), "{stderr}");
    // The first goes on counting.
    consume(&gw.url("/v1/check"), "after").unwrap();
    assert_eq!(support::used(&gw, "lic-pro", "api_calls"), 1);
}
