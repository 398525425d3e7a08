//! Instants, calendar dates and time zones as the documents write them, and
//! the one rule for turning a local wall-clock time into an instant.

use std::fmt;

use chrono::{
    DateTime, LocalResult, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::coded;
use crate::model::zones::{IanaZone, CHANGES_FROM, CHANGES_UNTIL};

/// The first instant the engine reads or writes, `0000-01-01T00:00:00Z`,
/// in seconds since the Unix epoch.
pub const FIRST_INSTANT: i64 = -62_167_219_200;

/// The last instant the engine reads or writes, `9999-12-31T23:59:59Z`:
/// RFC 3339 has four-digit years, so an instant past it could not be read
/// back. Arithmetic whose result falls later fails instead.
pub const LAST_INSTANT: i64 = 253_402_300_799;

/// A step shorter than the shortest time between two changes of offset of
/// any zone (6.96 days, Asia/Gaza and Brazil's 2000 changes), so that offsets
/// equal at both ends of a step mean no change in between. A unit test
/// checks the tables against it.
const SAMPLE_STEP: i64 = 5 * 86_400;

/// An instant, written in documents as RFC 3339 with an offset and in
/// answers as UTC with second precision (`2026-01-31T09:00:00Z`).
///
/// It always lies in years 0000 to 9999 in UTC ([`FIRST_INSTANT`] to
/// [`LAST_INSTANT`]): its field is private and every constructor checks, so
/// every instant an answer holds is one the engine reads back. Arithmetic
/// whose result would fall outside answers `None`, and the caller names the
/// input that pushed it there.
/// Held as whole seconds since the Unix epoch and the nanoseconds past
/// them, so comparing, reading and writing an instant (the compact check
/// does little else) is integer work; chrono's date and time are made from
/// it only where a calendar is needed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Whole seconds since the Unix epoch, [`FIRST_INSTANT`] to
    /// [`LAST_INSTANT`].
    secs: i64,
    /// Nanoseconds past `secs`: under 10^9, or up to 2·10^9 in a leap
    /// second (`23:59:60`), as chrono reads one; fields in this order sort
    /// as chrono's instants do.
    nanos: u32,
}

/// A second's nanoseconds.
const NANOS: u32 = 1_000_000_000;

impl Timestamp {
    /// Parses RFC 3339; the offset is required so no instant is ever guessed.
    /// The instant must lie in years 0000 to 9999 once in UTC (what the
    /// engine writes back), so `9999-12-31T23:00:00-02:00` is refused.
    pub fn parse(text: &str) -> Option<Timestamp> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .and_then(|t| Timestamp::from_utc(t.with_timezone(&Utc)))
    }

    /// The instant, or `None` outside years 0000 to 9999 in UTC.
    pub fn from_utc(instant: DateTime<Utc>) -> Option<Timestamp> {
        let secs = instant.timestamp();
        (FIRST_INSTANT..=LAST_INSTANT)
            .contains(&secs)
            .then(|| Timestamp {
                secs,
                nanos: instant.timestamp_subsec_nanos(),
            })
    }

    /// The instant `seconds` after the Unix epoch, or `None` outside years
    /// 0000 to 9999 in UTC.
    pub fn from_unix(seconds: i64) -> Option<Timestamp> {
        Timestamp::from_parts(seconds, 0)
    }

    /// The first instant the engine reads and writes, 0000-01-01T00:00:00Z.
    pub fn first() -> Timestamp {
        Timestamp {
            secs: FIRST_INSTANT,
            nanos: 0,
        }
    }

    /// The instant `seconds` and `nanos` after the Unix epoch, or `None`
    /// outside years 0000 to 9999 in UTC or with `nanos` of a second or more.
    pub fn from_parts(seconds: i64, nanos: u32) -> Option<Timestamp> {
        ((FIRST_INSTANT..=LAST_INSTANT).contains(&seconds) && nanos < NANOS).then_some(Timestamp {
            secs: seconds,
            nanos,
        })
    }

    /// Whole seconds since the Unix epoch and the nanoseconds past them:
    /// the instant as the compact check's records hold it.
    pub fn parts(self) -> (i64, u32) {
        (self.secs, self.nanos)
    }

    /// The instant as a chrono UTC date and time.
    pub fn utc(self) -> DateTime<Utc> {
        // Every constructor checked the instant (a leap second's nanoseconds
        // come only from chrono's own instant), so the fallback is never taken.
        DateTime::from_timestamp(self.secs, self.nanos).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Whole seconds since the Unix epoch (negative before 1970).
    pub fn unix(self) -> i64 {
        self.secs
    }

    /// Whole seconds from `earlier` to this instant (negative when `earlier`
    /// is later), truncated toward zero; never overflows, as both lie in
    /// years 0000 to 9999.
    pub fn seconds_since(self, earlier: Timestamp) -> i64 {
        if self.nanos >= NANOS || earlier.nanos >= NANOS {
            // A leap second: chrono's reckoning of it.
            return (self.utc() - earlier.utc()).num_seconds();
        }
        let seconds = self.secs - earlier.secs;
        match self.nanos.cmp(&earlier.nanos) {
            std::cmp::Ordering::Less if seconds > 0 => seconds - 1,
            std::cmp::Ordering::Greater if seconds < 0 => seconds + 1,
            _ => seconds,
        }
    }

    /// The instant a whole number of seconds later (earlier when negative),
    /// or `None` outside years 0000 to 9999 in UTC.
    pub fn plus_seconds(self, seconds: i64) -> Option<Timestamp> {
        if self.nanos >= NANOS {
            return self
                .utc()
                .checked_add_signed(chrono::TimeDelta::try_seconds(seconds)?)
                .and_then(Timestamp::from_utc);
        }
        Timestamp::from_parts(self.secs.checked_add(seconds)?, self.nanos)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Timestamp {
    /// The instant as answers write it, `YYYY-MM-DDTHH:MM:SSZ`, when it is
    /// a whole second, as nearly every instant is (chrono writes the same
    /// digits, through its general formatter and a `String`); `None` for an
    /// instant with a fraction of a second.
    pub(crate) fn whole_seconds(self) -> Option<[u8; 20]> {
        use chrono::{Datelike, Timelike};
        if self.nanos != 0 {
            return None;
        }
        let utc = self.utc();
        let (date, time) = (utc.date_naive(), utc.time());
        if !(0..=9999).contains(&date.year()) {
            return None;
        }
        let pair = |n: u32| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
        let y = date.year().unsigned_abs();
        let ([y0, y1], [y2, y3]) = (pair(y / 100), pair(y % 100));
        let ([mo0, mo1], [d0, d1]) = (pair(date.month()), pair(date.day()));
        let [h0, h1] = pair(time.hour());
        let ([mi0, mi1], [s0, s1]) = (pair(time.minute()), pair(time.second()));
        Some([
            y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0,
            s1, b'Z',
        ])
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.whole_seconds() {
            Some(text) => f.write_str(std::str::from_utf8(&text).unwrap_or_default()),
            None => f.write_str(&self.utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.whole_seconds() {
            Some(text) => serializer.serialize_str(std::str::from_utf8(&text).unwrap_or_default()),
            None => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).ok_or_else(|| coded("invalid_timestamp", &text))
    }
}

/// A calendar date without a zone, written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // NaiveDate's Display is ISO 8601, `YYYY-MM-DD` for the years documents use.
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // Exactly `YYYY-MM-DD`: chrono alone also takes a sign, one-digit
        // fields and spaces (`+999-01-31`, ` 2026-1-31`).
        let strict = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        match text.parse::<NaiveDate>() {
            Ok(date) if strict => Ok(Date(date)),
            _ => Err(coded("invalid_date", &text)),
        }
    }
}

/// An IANA time zone (its offsets from the compact table of
/// [`crate::model::zones`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(pub IanaZone);

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        IanaZone::from_name(&text)
            .map(Zone)
            .ok_or_else(|| coded("unknown_time_zone", &text))
    }
}

impl Zone {
    /// The instant at which a local wall-clock time occurs in this zone.
    ///
    /// A time that does not exist (the hour skipped when clocks go forward)
    /// moves forward to the first instant after the gap; a time that occurs
    /// twice (the hour repeated when clocks go back) takes the first occurrence.
    /// `None` when the instant falls outside years 0000 to 9999 in UTC.
    pub fn instant(&self, local: NaiveDateTime) -> Option<Timestamp> {
        Timestamp::from_utc(self.utc_of(local)?)
    }

    /// [`Zone::instant`] in seconds since the Unix epoch, for arithmetic
    /// that runs past the instants an answer can hold (a calendar's last
    /// day ends after 9999 in zones west of UTC) and converts its result
    /// with [`Timestamp::from_unix`]; `None` only past chrono's range.
    pub fn unix_of(&self, local: NaiveDateTime) -> Option<i64> {
        self.utc_of(local).map(|t| t.timestamp())
    }

    /// [`Zone::start_of`] in seconds since the Unix epoch, as
    /// [`Zone::unix_of`].
    pub fn unix_start_of(&self, date: NaiveDate) -> Option<i64> {
        self.unix_of(date.and_hms_opt(0, 0, 0)?)
    }

    fn utc_of(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        let mut probe = local;
        // Gaps are at most a few hours; step in minutes so that zones with
        // 30- and 45-minute transitions resolve to the exact end of the gap.
        for _ in 0..(26 * 60) {
            match self.0.from_local_datetime(&probe) {
                LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(first, _) => return Some(first.with_timezone(&Utc)),
                LocalResult::None => {
                    probe = probe.checked_add_signed(chrono::TimeDelta::minutes(1))?;
                }
            }
        }
        None
    }

    /// The local wall-clock time of an instant in this zone.
    pub fn local(&self, instant: Timestamp) -> NaiveDateTime {
        instant.utc().with_timezone(&self.0).naive_local()
    }

    /// The instant at which a local date begins (its first existing minute);
    /// `None` outside years 0000 to 9999 in UTC.
    pub fn start_of(&self, date: NaiveDate) -> Option<Timestamp> {
        self.instant(date.and_hms_opt(0, 0, 0)?)
    }

    /// The zone's offset from UTC in seconds at an instant given in seconds
    /// since the Unix epoch; `None` outside chrono's range.
    pub fn offset_at(&self, unix: i64) -> Option<i64> {
        let utc = DateTime::<Utc>::from_timestamp(unix, 0)?.naive_utc();
        Some(i64::from(
            self.0
                .offset_from_utc_datetime(&utc)
                .fix()
                .local_minus_utc(),
        ))
    }

    /// The first instant after `after` (seconds since the Unix epoch) at
    /// which the zone's offset differs from its offset at `after`, or `None`
    /// when it never changes again. Costs a lookup per five days up to the
    /// change (none past 2099), then a bisection to the second.
    pub fn next_change(&self, after: i64) -> Option<i64> {
        self.change_within(after, i64::MAX).ok()
    }

    /// [`Zone::next_change`], looking no further than about `limit`:
    /// `Ok(change)`, or `Err(held)` when the offset at `after` holds up to
    /// `held` (at least `limit`; `i64::MAX` when it never changes again, and
    /// also past chrono's range).
    pub fn change_within(&self, after: i64, limit: i64) -> Result<i64, i64> {
        let Some(offset) = self.offset_at(after) else {
            return Err(i64::MAX);
        };
        let differs = |t: i64| self.offset_at(t).is_some_and(|o| o != offset);
        let mut lo = after;
        let mut hi = None;
        if lo < CHANGES_FROM && lo < limit {
            if differs(CHANGES_FROM) {
                hi = Some(CHANGES_FROM);
            } else {
                lo = CHANGES_FROM;
            }
        }
        while hi.is_none() && lo < CHANGES_UNTIL && lo < limit {
            let next = lo.saturating_add(SAMPLE_STEP).min(CHANGES_UNTIL);
            if differs(next) {
                hi = Some(next);
            } else {
                lo = next;
            }
        }
        // The offset at `lo` is the one at `after` and differs at `hi`,
        // with one change in between: halve the step down to the second.
        let Some(mut hi) = hi else {
            return Err(if lo >= CHANGES_UNTIL { i64::MAX } else { lo });
        };
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if differs(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn zone(name: &str) -> Zone {
        Zone(IanaZone::from_name(name).unwrap())
    }

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn gap_moves_forward_to_end_of_gap() {
        // London springs forward at 01:00 GMT on 2026-03-29: 01:30 local does not exist.
        let t = zone("Europe/London")
            .instant(local("2026-03-29 01:30"))
            .unwrap();
        assert_eq!(t.to_string(), "2026-03-29T01:00:00Z");
    }

    #[test]
    fn overlap_takes_first_occurrence() {
        // New York falls back at 02:00 EDT on 2026-11-01: 01:30 occurs at 05:30Z and 06:30Z.
        let t = zone("America/New_York")
            .instant(local("2026-11-01 01:30"))
            .unwrap();
        assert_eq!(t.to_string(), "2026-11-01T05:30:00Z");
    }

    #[test]
    fn midnight_gap_starts_day_at_one() {
        // Santiago springs forward at local midnight on 2026-09-06: the day starts at 01:00 -03.
        let t = zone("America/Santiago")
            .start_of(NaiveDate::from_ymd_opt(2026, 9, 6).unwrap())
            .unwrap();
        assert_eq!(t.to_string(), "2026-09-06T04:00:00Z");
    }

    #[test]
    fn offsets_change_only_inside_the_tables_and_never_twice_in_a_step() {
        const DAY: i64 = 86_400;
        for tz in chrono_tz::TZ_VARIANTS {
            // chrono-tz's own tables, the source of `zones.bin` (whose
            // agreement with them is tested in `zones`).
            let at = |t: i64| {
                let utc = DateTime::<Utc>::from_timestamp(t, 0).unwrap().naive_utc();
                tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
            };
            // Before the tables: the first offset, back to year 0000.
            let first = at(CHANGES_FROM);
            let mut t = FIRST_INSTANT;
            while t < CHANGES_FROM {
                assert_eq!(at(t), first, "{tz} before 1844 at {t}");
                t += 100 * DAY;
            }
            // After them: the last offset, sampled weekly for a century
            // (any yearly rule would show) and then to 9999.
            let last = at(CHANGES_UNTIL);
            let mut t = CHANGES_UNTIL;
            while t <= LAST_INSTANT {
                assert_eq!(at(t), last, "{tz} after 2100 at {t}");
                t += if t < CHANGES_UNTIL + 100 * 366 * DAY {
                    7 * DAY
                } else {
                    300 * DAY
                };
            }
            // Inside them, every day: two changes seen on days at least six
            // days apart are more than five days (`SAMPLE_STEP`) apart.
            let (mut offset, mut changed) = (first, None::<i64>);
            let mut t = CHANGES_FROM;
            while t <= CHANGES_UNTIL {
                let now = at(t);
                if now != offset {
                    if let Some(before) = changed {
                        assert!(
                            t - before - DAY >= SAMPLE_STEP,
                            "{tz}: changes at {before} and {t}"
                        );
                    }
                    (offset, changed) = (now, Some(t));
                }
                t += DAY;
            }
        }
    }

    #[test]
    fn next_change_finds_each_change_to_the_second() {
        // London: 2026-03-29 01:00Z (GMT to BST), 2026-10-25 01:00Z (back).
        let london = zone("Europe/London");
        let spring = 1_774_746_000;
        let autumn = 1_792_890_000;
        assert_eq!(london.next_change(spring - 40 * 86_400), Some(spring));
        assert_eq!(london.next_change(spring - 1), Some(spring));
        assert_eq!(london.next_change(spring), Some(autumn));
        // No change after 2099, nor ever for UTC.
        assert_eq!(london.next_change(CHANGES_UNTIL), None);
        assert_eq!(zone("UTC").next_change(FIRST_INSTANT), None);
        // Before the tables: London's mean time ends on 1847-12-01 00:01:15Z.
        assert_eq!(london.next_change(FIRST_INSTANT), Some(-3_852_662_325));
    }

    #[test]
    fn only_instants_of_years_0000_to_9999_are_read() {
        assert!(Timestamp::parse("9999-12-31T23:59:59Z").is_some());
        assert!(Timestamp::parse("0000-01-01T00:00:00Z").is_some());
        assert!(Timestamp::parse("9999-12-31T23:59:59-00:01").is_none());
        assert!(Timestamp::parse("0000-01-01T00:00:00+00:01").is_none());
    }

    #[test]
    fn timestamps_need_an_offset() {
        assert!(Timestamp::parse("2026-01-01T00:00:00").is_none());
        assert_eq!(
            Timestamp::parse("2026-01-01T01:00:00+01:00")
                .unwrap()
                .to_string(),
            "2026-01-01T00:00:00Z"
        );
    }
}
