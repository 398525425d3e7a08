//! Properties of business-time arithmetic, and a brute-force reference that
//! steps one minute at a time asking only "is this local minute inside a
//! weekly interval and not a holiday", written here with chrono-tz directly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use entitle_core::model::time::{Timestamp, LAST_INSTANT};
use entitle_core::support::calendar::Calendar;
use proptest::prelude::*;

const ZONES: [&str; 6] = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/St_Johns",
];
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A generated calendar, kept in plain numbers for the reference.
#[derive(Debug, Clone)]
struct Spec {
    zone: usize,
    /// Per weekday from Monday: (start, end) in minutes, `end` may be at or
    /// before `start` (overnight).
    weekly: Vec<Vec<(u32, u32)>>,
    /// (days after 2026-01-01, from, to) in minutes; (0, 1440) is a whole day.
    holidays: Vec<(u32, u32, u32)>,
}

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

impl Spec {
    fn json(&self) -> String {
        self.json_in(ZONES[self.zone], base(), 1)
    }

    /// The calendar in another zone, its holidays counted from `from` with
    /// each day number multiplied by `spread`.
    fn json_in(&self, zone: &str, from: NaiveDate, spread: u32) -> String {
        let days: Vec<String> = self
            .weekly
            .iter()
            .enumerate()
            .map(|(i, ivs)| {
                let ivs: Vec<String> = ivs
                    .iter()
                    .map(|&(s, e)| format!("[\"{}\",\"{}\"]", hhmm(s), hhmm(e)))
                    .collect();
                format!("\"{}\":[{}]", DAYS[i], ivs.join(","))
            })
            .collect();
        let hols: Vec<String> = self
            .holidays
            .iter()
            .filter_map(|&(d, f, t)| {
                let date = from + chrono::TimeDelta::days(i64::from(d) * i64::from(spread));
                // Dates are written with four-digit years.
                (date.year() <= 9999).then_some((date, f, t))
            })
            .map(|(date, f, t)| {
                format!(
                    "{{\"date\":\"{date}\",\"from\":\"{}\",\"to\":\"{}\"}}",
                    hhmm(f),
                    hhmm(t)
                )
            })
            .collect();
        format!(
            "{{\"time_zone\":\"{}\",\"weekly\":{{{}}},\"holidays\":[{}]}}",
            zone,
            days.join(","),
            hols.join(",")
        )
    }

    fn calendar(&self) -> Calendar {
        serde_json::from_str(&self.json()).unwrap()
    }

    fn tz(&self) -> Tz {
        ZONES[self.zone].parse().unwrap()
    }

    /// Whether the minute starting at `unix_minute` is business time.
    fn business(&self, tz: Tz, unix_minute: i64) -> bool {
        let utc = DateTime::<Utc>::from_timestamp(unix_minute * 60, 0).unwrap();
        let local = utc.with_timezone(&tz).naive_local();
        let date = local.date();
        let m = local.hour() * 60 + local.minute();
        let day = |d: NaiveDate| d.weekday().num_days_from_monday() as usize;
        let today = self.weekly[day(date)].iter().any(|&(s, e)| {
            let end = if e <= s { 1440 } else { e };
            s <= m && m < end
        });
        let yesterday = date.pred_opt().unwrap();
        let tail = self.weekly[day(yesterday)]
            .iter()
            .any(|&(s, e)| e <= s && m < e);
        let offset = (date - base()).num_days();
        let holiday = self
            .holidays
            .iter()
            .any(|&(d, f, t)| i64::from(d) == offset && f <= m && m < t);
        (today || tail) && !holiday
    }

    /// Moves boundaries that lie strictly inside a repeated (fall-back)
    /// local hour to the start of that hour: there the engine takes a
    /// boundary's first occurrence while wall-clock stepping counts the
    /// minutes of both, a documented difference the reference leaves out.
    fn avoid_overlap(&mut self) {
        let (lo, hi) = match ZONES[self.zone] {
            "Europe/London" | "America/New_York" | "America/St_Johns" => (60, 120),
            "Australia/Sydney" => (120, 180),
            _ => return,
        };
        let fix = |m: u32| if lo < m && m < hi { lo } else { m };
        for (s, e) in self.weekly.iter_mut().flatten() {
            (*s, *e) = (fix(*s), fix(*e));
            if s == e {
                *e = hi;
            }
        }
        for (_, f, t) in &mut self.holidays {
            (*f, *t) = (fix(*f), fix(*t));
            if f >= t {
                *t = hi;
            }
        }
    }
}

fn interval() -> impl Strategy<Value = (u32, u32)> {
    (0u32..1440, 1u32..1440).prop_map(|(s, len)| (s, (s + len) % 1440))
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..ZONES.len(),
        prop::collection::vec(prop::collection::vec(interval(), 0..3), 7),
        prop::collection::vec((0u32..1000, 0u32..1440, 1u32..=1440), 0..6),
    )
        .prop_filter("some business hours", |(_, w, _)| {
            w.iter().any(|d| !d.is_empty())
        })
        .prop_map(|(zone, weekly, holidays)| Spec {
            zone,
            weekly,
            holidays: holidays
                .into_iter()
                .map(|(d, a, b)| {
                    let (f, t) = if a < b { (a, b) } else { (b, (b + 1).max(a)) };
                    (d, f, t.min(1440).max(f + 1))
                })
                .filter(|&(_, f, t)| f < t && t <= 1440)
                .collect(),
        })
}

/// A whole-minute instant in 2026-2028.
fn minute() -> impl Strategy<Value = i64> {
    let start = base().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() / 60;
    start..start + 3 * 366 * 1440
}

/// A whole-minute instant within three days of a DST change in one of the zones.
fn near_change() -> impl Strategy<Value = i64> {
    const CHANGES: [&str; 12] = [
        "2026-03-08",
        "2026-03-29",
        "2026-04-05",
        "2026-10-04",
        "2026-10-25",
        "2026-11-01",
        "2027-03-14",
        "2027-03-28",
        "2027-04-04",
        "2027-10-03",
        "2027-10-31",
        "2027-11-07",
    ];
    (0..CHANGES.len(), 0i64..(6 * 1440)).prop_map(|(i, off)| {
        let day: NaiveDate = CHANGES[i].parse().unwrap();
        day.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() / 60 - 3 * 1440 + off
    })
}

fn ts(unix_minute: i64) -> Timestamp {
    Timestamp::from_unix(unix_minute * 60).unwrap()
}

fn secs(t: Timestamp) -> i64 {
    t.unix()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn adding_then_measuring_gives_the_duration(s in spec(), t in minute(), k in 0u64..400_000, d in 0u64..2_000_000) {
        let c = s.calendar();
        let inside = c.add(ts(t), k).unwrap();
        let end = c.add(inside, d).unwrap();
        prop_assert_eq!(c.elapsed(inside, end), d);
        // Any start, even outside hours.
        let end = c.add(ts(t), d).unwrap();
        prop_assert_eq!(c.elapsed(ts(t), end), d);
    }

    #[test]
    fn add_is_monotonic(s in spec(), t in minute(), a in 0u64..2_000_000, b in 0u64..2_000_000) {
        let c = s.calendar();
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(c.add(ts(t), lo).unwrap() <= c.add(ts(t), hi).unwrap());
        if lo < hi {
            prop_assert!(c.add(ts(t), lo).unwrap() < c.add(ts(t), hi).unwrap());
        }
    }

    #[test]
    fn elapsed_is_additive(s in spec(), t in minute(), x in 0i64..40_000_000, y in 0i64..40_000_000) {
        let c = s.calendar();
        let a = ts(t);
        let m = Timestamp::from_unix(secs(a) + x.min(y)).unwrap();
        let b = Timestamp::from_unix(secs(a) + x.max(y)).unwrap();
        prop_assert_eq!(c.elapsed(a, b), c.elapsed(a, m) + c.elapsed(m, b));
    }

    #[test]
    fn agrees_with_minute_stepping(s in spec(), t in prop_oneof![minute(), near_change()], d in 0i64..3_000, span in 0i64..(10 * 1440)) {
        let mut s = s;
        s.avoid_overlap();
        // Holidays near the instant, so that they matter.
        let day = (t / 1440 - base().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() / 86_400) as u32;
        for h in &mut s.holidays {
            h.0 = day + h.0 % 12;
        }
        let c = s.calendar();
        let tz = s.tz();
        // elapsed over [t, t + span)
        let want = (t..t + span).filter(|&u| s.business(tz, u)).count() as u64 * 60;
        prop_assert_eq!(c.elapsed(ts(t), ts(t + span)), want);
        // add: step until `d` business minutes are counted (d = 0: the first
        // business minute); give up on the reference after 120 days.
        let mut u = t;
        let mut left = d;
        let limit = t + 120 * 1440;
        let reference = loop {
            if u > limit {
                break None;
            }
            if s.business(tz, u) {
                if left == 0 {
                    break Some(u);
                }
                left -= 1;
                if left == 0 {
                    break Some(u + 1);
                }
            }
            u += 1;
        };
        if let Some(want) = reference {
            prop_assert_eq!(c.add(ts(t), d as u64 * 60).unwrap(), ts(want));
        }
        // next_business agrees with the first business minute.
        let first = (t..t + 120 * 1440).find(|&u| s.business(tz, u));
        if let Some(first) = first {
            prop_assert_eq!(c.next_business(ts(t)).unwrap(), ts(first));
        }
    }
}

/// Zones for the fast path: every kind of clock change, changes a week
/// apart (Gaza), a skipped day (Apia), Ramadan suspensions (Casablanca),
/// half-hour changes (Lord Howe), odd offsets, midnight changes (Santiago).
const WIDE_ZONES: [&str; 14] = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "America/St_Johns",
    "Asia/Gaza",
    "Pacific/Apia",
    "Africa/Casablanca",
    "Australia/Lord_Howe",
    "Europe/Moscow",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "America/Santiago",
    "Asia/Kathmandu",
];

/// A start instant (unix seconds) in one of the eras the fast path treats
/// apart: before any clock change (before 1844), among them, around their
/// end in 2099, far after, and close to the last instant.
fn era_start() -> impl Strategy<Value = i64> {
    let year = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
    };
    let within = move |from: i32, to: i32| year(from)..year(to);
    prop_oneof![
        within(1820, 1850),
        within(1850, 2000),
        within(2000, 2090),
        within(2090, 2110),
        within(5000, 5010),
        within(9985, 10_000),
    ]
}

fn at(unix: i64) -> Timestamp {
    Timestamp::from_unix(unix).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    /// Whole weeks counted at once give what walking every date gives, over
    /// spans of up to thirty years crossing clock changes and holidays.
    #[test]
    fn fast_path_agrees_with_the_date_walk(
        s in spec(),
        zone in 0..WIDE_ZONES.len(),
        start in era_start(),
        span in prop_oneof![0i64..(40 * 86_400), 0i64..(30 * 366 * 86_400)],
        share in 0u64..=1000,
        mid in 0i64..=1000,
    ) {
        let zone = WIDE_ZONES[zone];
        // Holidays spread over the span (a day number times `spread`).
        let from_date = at(start).utc().date_naive();
        let spread = u32::try_from(span / 86_400 / 1000).unwrap().max(1);
        let c: Calendar = serde_json::from_str(&s.json_in(zone, from_date, spread)).unwrap();
        let end = (start + span).min(LAST_INSTANT);
        let (a, b) = (at(start), at(end));
        let total = c.stepwise_elapsed(a, b);
        prop_assert_eq!(c.elapsed(a, b), total, "elapsed {} {} {}", zone, a, b);
        let m = at(start + (end - start) * mid / 1000);
        prop_assert_eq!(c.elapsed(m, b), c.stepwise_elapsed(m, b), "elapsed from {}", m);
        // A duration that ends inside the span, and one an hour longer.
        let d = total * share / 1000;
        prop_assert_eq!(c.add(a, d), c.stepwise_add(a, d), "add {} {}", a, d);
        prop_assert_eq!(c.add(m, d), c.stepwise_add(m, d), "add {} {}", m, d);
        let longer = d + 3_600;
        prop_assert_eq!(c.add(a, longer), c.stepwise_add(a, longer), "add {} {}", a, longer);
        prop_assert_eq!(c.next_business(m), c.stepwise_next_business(m));
    }
}
