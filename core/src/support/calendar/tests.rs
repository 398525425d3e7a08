//! Unit tests of calendars: expected values are worked out by hand from the
//! zones' published offsets and transitions (see each comment).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::error::JsonPath;
use crate::model::time::Timestamp;

pub(super) fn cal(json: &str) -> Calendar {
    serde_json::from_str(json).unwrap()
}

pub(super) fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

const WEEKDAYS: [&str; 5] = ["monday", "tuesday", "wednesday", "thursday", "friday"];

/// A calendar with the same hours every weekday.
pub(super) fn office(zone: &str, hours: &str, holidays: &str) -> Calendar {
    let days: Vec<String> = WEEKDAYS
        .iter()
        .map(|d| format!("\"{d}\":{hours}"))
        .collect();
    cal(&format!(
        "{{\"time_zone\":\"{zone}\",\"weekly\":{{{}}},\"holidays\":{holidays}}}",
        days.join(",")
    ))
}

fn london() -> Calendar {
    office(
        "Europe/London",
        r#"[["09:00","12:00"],["13:00","17:30"]]"#,
        r#"[{"date":"2026-12-25"},{"date":"2026-12-24","from":"13:00","to":"24:00"}]"#,
    )
}

pub(super) fn sundays(zone: &str, hours: &str) -> Calendar {
    cal(&format!(
        "{{\"time_zone\":\"{zone}\",\"weekly\":{{\"sunday\":{hours}}}}}"
    ))
}

/// (calendar, start, seconds, expected)
pub(super) fn check_adds(rows: &[(&Calendar, &str, u64, &str)]) {
    for (i, (c, start, secs, want)) in rows.iter().enumerate() {
        let got = c.add(ts(start), *secs).unwrap();
        assert_eq!(got.to_string(), *want, "row {i}: add({start}, {secs})");
        // Adding and measuring agree.
        let from = c.next_business(ts(start)).unwrap();
        assert_eq!(c.elapsed(from, got), *secs, "row {i}: elapsed back");
    }
}

/// (calendar, from, to, expected seconds)
pub(super) fn check_elapsed(rows: &[(&Calendar, &str, &str, u64)]) {
    for (i, (c, from, to, want)) in rows.iter().enumerate() {
        assert_eq!(c.elapsed(ts(from), ts(to)), *want, "row {i}: {from}..{to}");
    }
}

#[test]
fn office_hours_with_a_lunch_break() {
    let c = london();
    // London is on GMT (UTC+0) in late November; 2026-11-21 is a Saturday.
    check_adds(&[
        // Outside hours: counting starts Monday 09:00.
        (&c, "2026-11-21T10:00:00Z", 3600, "2026-11-23T10:00:00Z"),
        // Zero: the next business instant at or after the start.
        (&c, "2026-11-21T10:00:00Z", 0, "2026-11-23T09:00:00Z"),
        (&c, "2026-11-23T10:00:00Z", 0, "2026-11-23T10:00:00Z"),
        (&c, "2026-11-23T12:00:00Z", 0, "2026-11-23T13:00:00Z"),
        // Landing exactly on an interval end stays there.
        (&c, "2026-11-23T09:00:00Z", 3 * 3600, "2026-11-23T12:00:00Z"),
        (&c, "2026-11-23T13:00:00Z", 16_200, "2026-11-23T17:30:00Z"),
        (&c, "2026-11-23T09:00:00Z", 27_000, "2026-11-23T17:30:00Z"),
        // One second more rolls to the next day's opening.
        (&c, "2026-11-23T09:00:00Z", 27_001, "2026-11-24T09:00:01Z"),
        // Across the break: an hour before it, an hour after it.
        (&c, "2026-11-23T11:00:00Z", 7200, "2026-11-23T14:00:00Z"),
        // Across the night.
        (&c, "2026-11-23T17:00:00Z", 3600, "2026-11-24T09:30:00Z"),
        // Friday afternoon to Monday morning.
        (&c, "2026-11-27T17:00:00Z", 3600, "2026-11-30T09:30:00Z"),
    ]);
    check_elapsed(&[
        (&c, "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z", 27_000),
        (&c, "2026-11-23T11:30:00Z", "2026-11-23T13:30:00Z", 3600),
        (&c, "2026-11-21T00:00:00Z", "2026-11-23T00:00:00Z", 0),
        (
            &c,
            "2026-11-23T00:00:00Z",
            "2026-11-30T00:00:00Z",
            5 * 27_000,
        ),
        (&c, "2026-11-24T00:00:00Z", "2026-11-23T00:00:00Z", 0),
    ]);
    assert_eq!(
        c.next_business(ts("2026-11-23T12:30:00Z"))
            .unwrap()
            .to_string(),
        "2026-11-23T13:00:00Z"
    );
}

#[test]
fn whole_and_partial_holidays() {
    let c = london();
    // Thu 2026-12-24 closes at 13:00; Fri 12-25 is closed; Mon 12-28 is open.
    check_adds(&[
        (&c, "2026-12-24T11:00:00Z", 7200, "2026-12-28T10:00:00Z"),
        (&c, "2026-12-24T12:30:00Z", 0, "2026-12-28T09:00:00Z"),
        (&c, "2026-12-24T09:00:00Z", 3 * 3600, "2026-12-24T12:00:00Z"),
    ]);
    check_elapsed(&[
        (
            &c,
            "2026-12-24T00:00:00Z",
            "2026-12-29T00:00:00Z",
            3 * 3600 + 27_000,
        ),
        (&c, "2026-12-25T00:00:00Z", "2026-12-26T00:00:00Z", 0),
    ]);
}

#[test]
fn overnight_friday_into_saturday() {
    let night = cal(r#"{"time_zone":"UTC","weekly":{"friday":[["22:00","06:00"]]}}"#);
    let sat_off = cal(
        r#"{"time_zone":"UTC","weekly":{"friday":[["22:00","06:00"]]},"holidays":[{"date":"2026-11-28"}]}"#,
    );
    let sat_late = cal(
        r#"{"time_zone":"UTC","weekly":{"friday":[["22:00","06:00"]]},"holidays":[{"date":"2026-11-28","from":"00:00","to":"02:00"}]}"#,
    );
    // 2026-11-27 is a Friday.
    check_adds(&[
        (
            &night,
            "2026-11-27T12:00:00Z",
            7 * 3600,
            "2026-11-28T05:00:00Z",
        ),
        (
            &night,
            "2026-11-27T12:00:00Z",
            8 * 3600,
            "2026-11-28T06:00:00Z",
        ),
        (
            &night,
            "2026-11-27T12:00:00Z",
            8 * 3600 + 1,
            "2026-12-04T22:00:01Z",
        ),
        (&night, "2026-11-28T01:00:00Z", 3600, "2026-11-28T02:00:00Z"),
        // Saturday is a holiday: only Friday's 22:00-24:00 remains that week.
        (
            &sat_off,
            "2026-11-27T12:00:00Z",
            3 * 3600,
            "2026-12-04T23:00:00Z",
        ),
        // Saturday closed until 02:00.
        (
            &sat_late,
            "2026-11-27T12:00:00Z",
            3 * 3600,
            "2026-11-28T03:00:00Z",
        ),
    ]);
    check_elapsed(&[
        (
            &night,
            "2026-11-27T00:00:00Z",
            "2026-11-29T00:00:00Z",
            8 * 3600,
        ),
        (
            &night,
            "2026-11-28T00:00:00Z",
            "2026-11-29T00:00:00Z",
            6 * 3600,
        ),
        (
            &sat_off,
            "2026-11-27T00:00:00Z",
            "2026-11-29T00:00:00Z",
            2 * 3600,
        ),
        (
            &sat_late,
            "2026-11-27T00:00:00Z",
            "2026-11-29T00:00:00Z",
            6 * 3600,
        ),
    ]);
}

#[test]
fn no_business_time_is_an_error() {
    let none = cal(r#"{"time_zone":"UTC","weekly":{}}"#);
    let t = ts("2026-01-01T00:00:00Z");
    let err = none.add(t, 60).unwrap_err();
    assert!(matches!(err, CalendarError::NoBusinessTime { .. }), "{err}");
    assert!(none.next_business(t).is_err());
    assert_eq!(none.add(t, 0).unwrap_err().code(), "no_business_time");
    assert_eq!(none.elapsed(t, ts("2036-01-01T00:00:00Z")), 0);
    // Hours only on dates a holiday removes: the only Monday hours of the
    // next six years are all holidays.
    let mut holidays = Vec::new();
    let mut d = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    while d.year() < 2032 {
        holidays.push(format!("{{\"date\":\"{d}\"}}"));
        d += chrono::TimeDelta::days(7);
    }
    let closed = cal(&format!(
        "{{\"time_zone\":\"UTC\",\"weekly\":{{\"monday\":[[\"09:00\",\"10:00\"]]}},\"holidays\":[{}]}}",
        holidays.join(",")
    ));
    assert!(closed.add(t, 1).is_err());
    // Too long a duration is refused rather than walked.
    let utc = office("UTC", r#"[["09:00","17:00"]]"#, "[]");
    assert_eq!(utc.add(t, u64::MAX), Err(CalendarError::OutOfRange));
    assert_eq!(utc.add(t, 1).unwrap().to_string(), "2026-01-01T09:00:01Z");
}

use chrono::Datelike;

fn read(json: &str) -> Result<Calendar, crate::error::Error> {
    let root = JsonPath::root();
    let value = crate::reading::json::parse(json.as_bytes(), &root)?;
    crate::reading::json::typed(value, &root)
}

#[test]
fn bad_calendars_name_the_field() {
    let rows: &[(&str, &str, &str)] = &[
        (
            r#"{"time_zone":"UTC","weekly":{"monday":[["9:00","12:00"]]}}"#,
            "wrong_type",
            "$.weekly.monday[0][0]",
        ),
        (
            r#"{"time_zone":"UTC","weekly":{"monday":[["09:00","24:30"]]}}"#,
            "wrong_type",
            "$.weekly.monday[0][1]",
        ),
        (
            r#"{"time_zone":"UTC","weekly":{"monday":[["09:00","09:00"]]}}"#,
            "out_of_range",
            "$.weekly.monday[0]",
        ),
        (
            r#"{"time_zone":"UTC","weekly":{"monday":[["24:00","06:00"]]}}"#,
            "out_of_range",
            "$.weekly.monday[0]",
        ),
        (
            r#"{"time_zone":"UTC","weekly":{"mon":[["09:00","12:00"]]}}"#,
            "unknown_field",
            "$.weekly.mon",
        ),
        (
            r#"{"time_zone":"UTC","weekly":{},"holidays":[{"date":"2026-12-24","from":"13:00","to":"13:00"}]}"#,
            "out_of_range",
            "$.holidays[0]",
        ),
        (
            r#"{"time_zone":"UTC","weekly":{},"holidays":[{"date":"2026-02-30"}]}"#,
            "invalid_date",
            "$.holidays[0].date",
        ),
        (
            r#"{"time_zone":"Mars/Olympus","always":true}"#,
            "unknown_time_zone",
            "$.time_zone",
        ),
        (r#"{"time_zone":"UTC"}"#, "missing_field", "$.weekly"),
        (
            r#"{"time_zone":"UTC","always":true,"weekly":{}}"#,
            "wrong_type",
            "$",
        ),
        (
            r#"{"time_zone":"UTC","always":true,"hours":1}"#,
            "unknown_field",
            "$.hours",
        ),
    ];
    for (json, code, path) in rows {
        let err = read(json).unwrap_err();
        assert_eq!(
            (err.code().as_str(), err.path().as_str()),
            (*code, *path),
            "{json}: {err}"
        );
    }
    let ok = read(
        r#"{"time_zone":"Europe/London","weekly":{"monday":[["09:00","12:00"],["13:00","17:30"]],"friday":[["22:00","06:00"]]},"holidays":[{"date":"2026-12-25"},{"date":"2026-12-24","from":"13:00","to":"24:00"}]}"#,
    )
    .unwrap();
    assert_eq!(
        ok.weekly.friday,
        vec![Interval {
            start: 22 * 60,
            end: 30 * 60
        }]
    );
    assert_eq!(ok.holidays.len(), 2);
}

#[test]
fn overlaps_merge_and_repeated_hours_take_the_first_occurrence() {
    let merged =
        cal(r#"{"time_zone":"UTC","weekly":{"monday":[["09:00","12:00"],["11:00","13:00"]]}}"#);
    let tail = cal(
        r#"{"time_zone":"UTC","weekly":{"sunday":[["22:00","10:00"]],"monday":[["09:00","12:00"]]}}"#,
    );
    // London falls back on 2026-10-25: 01:30 BST is 00:30Z, 03:00 GMT is 03:00Z.
    let repeated = sundays("Europe/London", r#"[["01:30","03:00"]]"#);
    let always_off = cal(r#"{"time_zone":"UTC","always":true,"holidays":[{"date":"2026-12-25"}]}"#);
    let midnight = cal(r#"{"time_zone":"UTC","weekly":{"friday":[["22:00","00:00"]]}}"#);
    check_elapsed(&[
        (
            &merged,
            "2026-11-23T00:00:00Z",
            "2026-11-24T00:00:00Z",
            4 * 3600,
        ),
        (
            &tail,
            "2026-11-22T00:00:00Z",
            "2026-11-24T00:00:00Z",
            14 * 3600,
        ),
        (
            &repeated,
            "2026-10-24T00:00:00Z",
            "2026-10-26T00:00:00Z",
            9000,
        ),
        (
            &always_off,
            "2026-12-24T00:00:00Z",
            "2026-12-27T00:00:00Z",
            48 * 3600,
        ),
        (
            &midnight,
            "2026-11-27T00:00:00Z",
            "2026-11-29T00:00:00Z",
            2 * 3600,
        ),
    ]);
    check_adds(&[
        (
            &repeated,
            "2026-10-24T00:00:00Z",
            9000,
            "2026-10-25T03:00:00Z",
        ),
        (
            &midnight,
            "2026-11-27T23:00:00Z",
            3600,
            "2026-11-28T00:00:00Z",
        ),
        (
            &always_off,
            "2026-12-24T23:00:00Z",
            7200,
            "2026-12-26T01:00:00Z",
        ),
    ]);
}
