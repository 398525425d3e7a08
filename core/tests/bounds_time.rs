//! Requests whose work once grew with the span of time they cover, not with
//! their size: `escalate` at a `now` in 9999, `simulate` with a far `until`,
//! `business_time` adding a huge duration on a calendar with one minute a
//! week, or measuring from year 1 to 9999, and a sum that once answered the
//! year 12100, and repeats of an escalation without end. Each gets its answer (worked out by hand in its comment) and
//! takes less than 50 ms natively; `cargo test -p entitle-core --test
//! bounds_time -- --nocapture` prints the times measured.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use entitle_core::api::evaluate;
use serde_json::{json, Value};

const SUPPORT: &str = include_str!("../../tests/conformance/fixtures/support_bundle.json");
const LICENSE: &str = include_str!("../../tests/conformance/fixtures/license.json");
const CASE: &str = include_str!("../../tests/conformance/fixtures/case.json");
const LONDON: &str = include_str!("../../tests/conformance/fixtures/calendars/london_office.json");

/// What each request may take natively, measured as the best of three runs
/// so that a busy machine does not fail the test.
const BOUND: Duration = Duration::from_millis(50);

fn doc(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The answer, after checking the request answers within [`BOUND`].
fn answer(name: &str, request: &Value) -> Value {
    let bytes = request.to_string();
    let mut best = Duration::MAX;
    let mut out = String::new();
    for _ in 0..3 {
        let started = Instant::now();
        out = evaluate(bytes.as_bytes());
        best = best.min(started.elapsed());
    }
    println!("{name}: {:.2} ms", best.as_secs_f64() * 1000.0);
    assert!(best < BOUND, "{name} took {best:?}");
    serde_json::from_str(&out).unwrap()
}

fn error_at(got: &Value, code: &str, path: &str) {
    assert_eq!(got["outcome"], "error", "{got}");
    assert_eq!(got["errors"].as_array().unwrap().len(), 1, "{got}");
    assert_eq!(got["errors"][0]["code"], code, "{got}");
    assert_eq!(got["errors"][0]["path"], path, "{got}");
}

/// Monday 09:00-09:01 UTC, nothing else.
fn one_minute_a_week() -> Value {
    json!({"time_zone": "UTC", "weekly": {"monday": [["09:00", "09:01"]]}})
}

#[test]
fn escalate_with_now_in_9999() {
    let request = |now: &str| {
        json!({"op": "escalate", "bundle": doc(SUPPORT), "license": doc(LICENSE),
               "case": doc(CASE), "now": now})
    };
    let got = answer("escalate now=9999-12-31", &request("9999-12-31T23:59:59Z"));
    assert_eq!(got["outcome"], "ok", "{got}");
    let clocks = &got["result"]["clocks"];
    // Opened Monday 2026-11-16 10:00Z under pro/normal, all on london_office
    // (09:00-17:00 London on weekdays, which is 8 hours on every weekday
    // whatever the offset). First response: 240 minutes, due 14:00Z.
    // Resolution: 1440 minutes = Mon 7 h + Tue 8 h + Wed 8 h + Thu 1 h, due
    // Thursday 2026-11-19 10:00Z. Both run to now: 2,080,090 weekdays from
    // 2026-11-16 to 9999-12-31 (a Friday, whose 17:00 London is 17:00Z) of
    // 8 hours, less the hour before 10:00 on the first day and the holidays
    // (2026-12-24 from 13:00: 4 h; 12-25, 12-28 and 2027-01-01: 8 h each).
    let elapsed: u64 = 2_080_090 * 8 * 3600 - 3600 - 28 * 3600;
    assert_eq!(clocks[0]["clock"], "first_response");
    assert_eq!(clocks[0]["state"], "breached");
    assert_eq!(clocks[0]["due_at"], "2026-11-16T14:00:00Z");
    assert_eq!(clocks[0]["elapsed_seconds"], elapsed);
    assert_eq!(clocks[1]["state"], "pending");
    assert_eq!(clocks[2]["clock"], "resolution");
    assert_eq!(clocks[2]["due_at"], "2026-11-19T10:00:00Z");
    assert_eq!(clocks[2]["elapsed_seconds"], elapsed);
    // A century on costs about the same.
    let got = answer("escalate now=2126-12-31", &request("2126-12-31T23:59:59Z"));
    assert_eq!(got["outcome"], "ok", "{got}");
}

#[test]
fn simulate_with_a_far_until_is_refused_at_once() {
    let scenario = |until: &str| {
        json!({"op": "simulate", "bundle": doc(SUPPORT), "license": doc(LICENSE),
               "scenario": {"scenario": "far", "from": "2026-11-01T00:00:00Z",
                            "until": until, "events": [],
                            "watch": {"features": ["sso"], "metrics": ["api_calls"]}}})
    };
    let got = answer(
        "simulate until=9999-12-31",
        &scenario("9999-12-31T00:00:00Z"),
    );
    error_at(&got, "out_of_range", "$.scenario.until");
    // Five years of 366 days from 2026-11-01 is 2031-11-05: the longest
    // window accepted; a second more is refused.
    let got = answer("simulate five years", &scenario("2031-11-05T00:00:00Z"));
    assert_eq!(got["outcome"], "ok", "{got}");
    let got = answer(
        "simulate five years and a second",
        &scenario("2031-11-05T00:00:01Z"),
    );
    error_at(&got, "out_of_range", "$.scenario.until");
}

#[test]
fn adding_on_a_calendar_of_one_minute_a_week() {
    let add = |seconds: u64| {
        json!({"op": "business_time", "action": "add", "calendar": one_minute_a_week(),
               "at": "2026-11-23T10:00:00Z", "seconds": seconds})
    };
    // 200 years of seconds, the most accepted, would take 105 million weeks.
    let got = answer("add 6324480000 s", &add(6_324_480_000));
    error_at(&got, "out_of_range", "$.seconds");
    // 31,536,000 seconds are 525,600 Mondays: once answered `+12100-03-15`.
    let got = answer("add 31536000 s", &add(31_536_000));
    error_at(&got, "out_of_range", "$.seconds");
    // The last Monday minute that can be written: 416,016 Mondays from
    // 2026-11-30 to 9999-12-27, so 9999-12-27T09:01:00Z; a second more
    // would be on 10000-01-03.
    let got = answer("add to the last Monday", &add(416_016 * 60));
    assert_eq!(got["result"]["result"], "9999-12-27T09:01:00Z", "{got}");
    let got = answer("add past the last Monday", &add(416_016 * 60 + 1));
    error_at(&got, "out_of_range", "$.seconds");
    let next = json!({"op": "business_time", "action": "next", "calendar": one_minute_a_week(),
                      "at": "9999-12-27T09:01:00Z"});
    let got = answer("next after the last Monday", &next);
    error_at(&got, "out_of_range", "$.at");
}

#[test]
fn elapsed_from_year_1_to_9999() {
    let request = json!({"op": "business_time", "action": "elapsed", "calendar": doc(LONDON),
                         "from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"});
    let got = answer("elapsed 0001..9999", &request);
    // 0001-01-01 is a Monday: 3,652,059 days are 521,722 weeks and Monday
    // to Friday, so 2,608,615 weekdays of 7.5 hours (09:00-12:00 and
    // 13:00-17:30 local, whatever the offset), less Christmas 2026 (7.5 h)
    // and the afternoon before it (13:00-17:30: 4.5 h).
    let want: u64 = 2_608_615 * 27_000 - 12 * 3600;
    assert_eq!(got["result"]["seconds"], want, "{got}");
}

#[test]
fn instants_outside_years_0000_to_9999_are_not_read() {
    let request = json!({"op": "business_time", "action": "next", "calendar": one_minute_a_week(),
                         "at": "9999-12-31T23:30:00-01:00"});
    let got = answer("next at 10000-01-01T00:30Z", &request);
    error_at(&got, "invalid_timestamp", "$.at");
}

#[test]
fn repeats_are_at_most_a_hundred() {
    let mut bundle = doc(SUPPORT);
    let repeat = &mut bundle["support"]["levels"][2]["repeat"];
    repeat["times"] = json!(100);
    let request = |bundle: &Value| {
        json!({"op": "escalate", "bundle": bundle, "license": doc(LICENSE),
               "case": doc(CASE), "now": "9999-12-31T23:59:59Z"})
    };
    // The director's level is entered when resolution breaches, Thursday
    // 2026-11-19 10:00Z; it repeats every 120 minutes around the clock, so
    // the hundredth repeat is 200 hours later, Friday 2026-11-27 18:00Z.
    let got = answer("escalate 100 repeats", &request(&bundle));
    let repeats = &got["result"]["escalation"]["repeats"];
    assert_eq!(repeats["done"].as_array().unwrap().len(), 100, "{got}");
    assert_eq!(repeats["done"][0], "2026-11-19T12:00:00Z");
    assert_eq!(repeats["done"][99], "2026-11-27T18:00:00Z");
    assert_eq!(repeats["left"], 0);
    bundle["support"]["levels"][2]["repeat"]["times"] = json!(u32::MAX);
    let got = answer("escalate 4294967295 repeats", &request(&bundle));
    error_at(
        &got,
        "out_of_range",
        "$.bundle.support.levels[2].repeat.times",
    );
}
