//! Unit tests of calendars: expected values are worked out by hand from the
//! zones' published offsets and transitions (see each comment).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::error::JsonPath;
use crate::time::Timestamp;

fn cal(json: &str) -> Calendar {
    serde_json::from_str(json).unwrap()
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

const WEEKDAYS: [&str; 5] = ["monday", "tuesday", "wednesday", "thursday", "friday"];

/// A calendar with the same hours every weekday.
fn office(zone: &str, hours: &str, holidays: &str) -> Calendar {
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

fn sundays(zone: &str, hours: &str) -> Calendar {
    cal(&format!(
        "{{\"time_zone\":\"{zone}\",\"weekly\":{{\"sunday\":{hours}}}}}"
    ))
}

/// (calendar, start, seconds, expected)
fn check_adds(rows: &[(&Calendar, &str, u64, &str)]) {
    for (i, (c, start, secs, want)) in rows.iter().enumerate() {
        let got = c.add(ts(start), *secs).unwrap();
        assert_eq!(got.to_string(), *want, "row {i}: add({start}, {secs})");
        // Adding and measuring agree.
        let from = c.next_business(ts(start)).unwrap();
        assert_eq!(c.elapsed(from, got), *secs, "row {i}: elapsed back");
    }
}

/// (calendar, from, to, expected seconds)
fn check_elapsed(rows: &[(&Calendar, &str, &str, u64)]) {
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
fn dst_in_london_and_new_york() {
    // London: 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
    let ldn_day = sundays("Europe/London", r#"[["09:00","17:00"]]"#);
    let ldn_night = sundays("Europe/London", r#"[["00:30","03:00"]]"#);
    let ldn_gap = sundays("Europe/London", r#"[["01:15","01:45"]]"#);
    let ldn_from_gap = sundays("Europe/London", r#"[["01:30","04:00"]]"#);
    let ldn_always = cal(r#"{"time_zone":"Europe/London","always":true}"#);
    // New York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    let ny_night = sundays("America/New_York", r#"[["00:00","06:00"]]"#);
    let ny = office("America/New_York", r#"[["09:00","17:00"]]"#, "[]");
    check_elapsed(&[
        // A 09:00-17:00 day is 8 hours on a change day.
        (
            &ldn_day,
            "2026-03-28T00:00:00Z",
            "2026-03-30T00:00:00Z",
            8 * 3600,
        ),
        (
            &ldn_day,
            "2026-10-24T00:00:00Z",
            "2026-10-26T00:00:00Z",
            8 * 3600,
        ),
        // 00:30 GMT (00:30Z) to 03:00 BST (02:00Z): 1.5 hours really pass.
        (
            &ldn_night,
            "2026-03-28T00:00:00Z",
            "2026-03-30T00:00:00Z",
            5400,
        ),
        // 00:30 BST (23:30Z the day before) to 03:00 GMT (03:00Z): 3.5 hours.
        (
            &ldn_night,
            "2026-10-24T00:00:00Z",
            "2026-10-26T00:00:00Z",
            12_600,
        ),
        // Wholly inside the gap: no business time at all that day.
        (&ldn_gap, "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z", 0),
        // 01:30 moves forward to 02:00 BST (01:00Z); 04:00 BST is 03:00Z.
        (
            &ldn_from_gap,
            "2026-03-28T00:00:00Z",
            "2026-03-30T00:00:00Z",
            7200,
        ),
        // Local midnight to midnight around the clock: 23 and 25 hours.
        (
            &ldn_always,
            "2026-03-29T00:00:00Z",
            "2026-03-29T23:00:00Z",
            23 * 3600,
        ),
        (
            &ldn_always,
            "2026-10-24T23:00:00Z",
            "2026-10-26T00:00:00Z",
            25 * 3600,
        ),
        // 00:00 EST (05:00Z) to 06:00 EDT (10:00Z): 5 hours.
        (
            &ny_night,
            "2026-03-07T00:00:00Z",
            "2026-03-09T00:00:00Z",
            5 * 3600,
        ),
        // 00:00 EDT (04:00Z) to 06:00 EST (11:00Z): 7 hours.
        (
            &ny_night,
            "2026-10-31T00:00:00Z",
            "2026-11-02T00:00:00Z",
            7 * 3600,
        ),
    ]);
    check_adds(&[
        (&ldn_day, "2026-03-29T00:00:00Z", 0, "2026-03-29T08:00:00Z"),
        (
            &ldn_day,
            "2026-03-29T08:00:00Z",
            8 * 3600,
            "2026-03-29T16:00:00Z",
        ),
        (
            &ldn_day,
            "2026-10-25T00:00:00Z",
            8 * 3600,
            "2026-10-25T17:00:00Z",
        ),
        (&ldn_gap, "2026-03-28T00:00:00Z", 0, "2026-04-05T00:15:00Z"),
        (
            &ny_night,
            "2026-11-01T04:00:00Z",
            6 * 3600,
            "2026-11-01T10:00:00Z",
        ),
        // Fri 2026-03-06 16:00 EST (21:00Z): an hour left; Mon 09:00 EDT is 13:00Z.
        (&ny, "2026-03-06T21:00:00Z", 7200, "2026-03-09T14:00:00Z"),
    ]);
}

#[test]
fn southern_hemisphere_and_odd_offsets() {
    // Sydney: 2026-04-05 03:00 AEDT (+11) -> 02:00 AEST (+10);
    // 2026-10-04 02:00 AEST -> 03:00 AEDT.
    let syd_night = sundays("Australia/Sydney", r#"[["00:00","06:00"]]"#);
    let syd = office("Australia/Sydney", r#"[["09:00","17:00"]]"#, "[]");
    // Kolkata: +05:30 all year.
    let kol = office("Asia/Kolkata", r#"[["09:00","17:30"]]"#, "[]");
    // St John's: -03:30 (NST), -02:30 (NDT) from 2026-03-08 to 2026-11-01.
    let sjn = office("America/St_Johns", r#"[["09:00","17:00"]]"#, "[]");
    let sjn_night = sundays("America/St_Johns", r#"[["00:00","06:00"]]"#);
    check_elapsed(&[
        // 00:00 AEDT (13:00Z on the 4th) to 06:00 AEST (20:00Z): 7 hours.
        (
            &syd_night,
            "2026-04-04T00:00:00Z",
            "2026-04-06T00:00:00Z",
            7 * 3600,
        ),
        // 00:00 AEST (14:00Z on the 3rd) to 06:00 AEDT (19:00Z): 5 hours.
        (
            &syd_night,
            "2026-10-03T00:00:00Z",
            "2026-10-05T00:00:00Z",
            5 * 3600,
        ),
        // 00:00 NDT (02:30Z) to 06:00 NST (09:30Z): 7 hours.
        (
            &sjn_night,
            "2026-11-01T00:00:00Z",
            "2026-11-02T00:00:00Z",
            7 * 3600,
        ),
        // Kolkata's Monday 09:00-17:30 is 03:30Z-12:00Z.
        (&kol, "2026-11-23T03:00:00Z", "2026-11-23T04:00:00Z", 1800),
    ]);
    check_adds(&[
        // Sunday 23:00 AEDT; Monday 09:00 AEDT is 22:00Z on Sunday.
        (&syd, "2026-01-04T12:00:00Z", 0, "2026-01-04T22:00:00Z"),
        (
            &syd,
            "2026-01-04T12:00:00Z",
            8 * 3600,
            "2026-01-05T06:00:00Z",
        ),
        (&kol, "2026-11-23T00:00:00Z", 3600, "2026-11-23T04:30:00Z"),
        (&kol, "2026-11-23T11:30:00Z", 3600, "2026-11-24T04:00:00Z"),
        // Fri 16:30 NDT (19:00Z); Monday 09:00 NST is 12:30Z.
        (&sjn, "2026-10-30T19:00:00Z", 3600, "2026-11-02T13:00:00Z"),
        (&sjn, "2026-11-23T00:00:00Z", 0, "2026-11-23T12:30:00Z"),
    ]);
}

#[test]
fn leap_day_and_a_year() {
    let utc = office("UTC", r#"[["09:00","17:00"]]"#, "[]");
    let leap_off = office(
        "UTC",
        r#"[["09:00","17:00"]]"#,
        r#"[{"date":"2028-02-29"}]"#,
    );
    let always = cal(r#"{"time_zone":"Europe/London","always":true}"#);
    // 2028-02-29 is a Tuesday; 2026 has 261 weekdays (it starts and ends on a Thursday).
    check_adds(&[
        (&utc, "2028-02-28T16:00:00Z", 7200, "2028-02-29T10:00:00Z"),
        (
            &leap_off,
            "2028-02-28T16:00:00Z",
            7200,
            "2028-03-01T10:00:00Z",
        ),
        (
            &utc,
            "2026-01-01T00:00:00Z",
            261 * 8 * 3600,
            "2026-12-31T17:00:00Z",
        ),
        (
            &always,
            "2026-01-01T00:00:00Z",
            365 * 86_400,
            "2027-01-01T00:00:00Z",
        ),
    ]);
    check_elapsed(&[
        (
            &utc,
            "2026-01-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
            261 * 8 * 3600,
        ),
        (
            &utc,
            "2028-02-29T00:00:00Z",
            "2028-03-01T00:00:00Z",
            8 * 3600,
        ),
        (&leap_off, "2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z", 0),
        (
            &always,
            "2028-01-01T00:00:00Z",
            "2029-01-01T00:00:00Z",
            366 * 86_400,
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
    assert_eq!(none.add(t, 0).unwrap_err().code(), "out_of_range");
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
    let value = crate::json::parse(json.as_bytes(), &root)?;
    crate::json::typed(value, &root)
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
            (err.code(), err.path().as_str()),
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
