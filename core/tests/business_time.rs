//! The `business_time` operation where the corpus cannot reach: a bundle
//! preloaded with named calendars, and a search that runs to the five-year
//! horizon. Expected values are worked out by hand (see each comment).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use entitle_core::api::{evaluate, LoadedBundle};
use serde_json::{json, Value};

fn example_bundle() -> Value {
    let path = format!("{}/../examples/bundle.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// London, 09:00-17:30 on weekdays.
fn london() -> Value {
    let day = json!([["09:00", "17:30"]]);
    json!({"time_zone": "Europe/London", "weekly": {
        "monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day}})
}

fn answer(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn a_preloaded_bundle_names_its_calendars_without_carrying_them() {
    let mut bundle = example_bundle();
    bundle["calendars"]["support"] = london();
    let loaded = LoadedBundle::load(bundle.to_string().as_bytes()).unwrap();
    // Friday 2026-11-20 17:00 GMT: 30 minutes to the close, then 30 from
    // Monday 2026-11-23 09:00 GMT, so 09:30Z.
    let request = json!({"op": "business_time", "action": "add", "calendar": "support",
        "at": "2026-11-20T17:00:00Z", "seconds": 3600});
    let got = answer(&loaded.evaluate(request.to_string().as_bytes()));
    assert_eq!(got["outcome"], "ok", "{got}");
    assert_eq!(got["result"]["calendar"], "support");
    assert_eq!(got["result"]["result"], "2026-11-23T09:30:00Z");
    assert_eq!(got["result"]["local"], "2026-11-23T09:30:00+00:00");
    assert_eq!(got["meta"]["bundle"]["id"], bundle["bundle"]);

    // The same request made stateless carries the bundle and agrees.
    let mut stateless = request.clone();
    stateless["bundle"] = bundle.clone();
    assert_eq!(
        evaluate(stateless.to_string().as_bytes()),
        loaded.evaluate(request.to_string().as_bytes())
    );

    // A preloaded bundle refuses a bundle in the request.
    let got = answer(&loaded.evaluate(stateless.to_string().as_bytes()));
    assert_eq!(got["errors"][0]["code"], "bundle_preloaded", "{got}");
    assert_eq!(got["errors"][0]["path"], "$.bundle");

    // An inline calendar works too, answered under the preloaded bundle.
    let mut inline = request.clone();
    inline["calendar"] = london();
    let got = answer(&loaded.evaluate(inline.to_string().as_bytes()));
    assert_eq!(got["result"]["result"], "2026-11-23T09:30:00Z", "{got}");
    assert!(got["result"].get("calendar").is_none());

    // An unknown name.
    let mut unknown = request.clone();
    unknown["calendar"] = json!("sales");
    let got = answer(&loaded.evaluate(unknown.to_string().as_bytes()));
    assert_eq!(got["errors"][0]["code"], "unknown_calendar", "{got}");
    assert_eq!(got["errors"][0]["path"], "$.calendar");
}

#[test]
fn holidays_on_every_opening_for_five_years_stop_the_search() {
    // Hours only on Mondays 09:00-10:00 UTC, and every Monday from
    // 2026-11-23 for six years (313 Mondays) is a holiday: from Saturday
    // 2026-11-21 no business time comes within the 1830-day horizon.
    let mondays: Vec<Value> = (0..313)
        .map(|week| {
            let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
                + chrono::TimeDelta::weeks(week);
            json!({"date": date.format("%Y-%m-%d").to_string()})
        })
        .collect();
    let calendar = json!({"time_zone": "UTC", "weekly": {"monday": [["09:00", "10:00"]]},
        "holidays": mondays});
    for (action, extra) in [
        ("next", json!({})),
        ("add", json!({"seconds": 60})),
        ("add", json!({"seconds": 0})),
    ] {
        let mut request = json!({"op": "business_time", "action": action,
            "calendar": calendar, "at": "2026-11-21T00:00:00Z"});
        if let (Some(request), Some(extra)) = (request.as_object_mut(), extra.as_object()) {
            request.extend(extra.clone());
        }
        let got = answer(&evaluate(request.to_string().as_bytes()));
        assert_eq!(got["errors"][0]["code"], "no_business_time", "{got}");
        assert_eq!(got["errors"][0]["path"], "$.calendar", "{got}");
    }
    // Measuring never fails: no business time in the span is 0 seconds.
    let request = json!({"op": "business_time", "action": "elapsed", "calendar": calendar,
        "from": "2026-11-21T00:00:00Z", "to": "2031-01-01T00:00:00Z"});
    let got = answer(&evaluate(request.to_string().as_bytes()));
    assert_eq!(got["result"]["seconds"], 0, "{got}");
}
