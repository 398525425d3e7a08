//! Unit tests of calendars across time zones: DST changes in both
//! hemispheres, half-hour offsets, a leap day and a year; expected values are
//! worked out by hand from each zone's published offsets and transitions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::tests::{cal, check_adds, check_elapsed, office, sundays};

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
