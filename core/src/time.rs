//! Instants, calendar dates and time zones as the documents write them, and
//! the one rule for turning a local wall-clock time into an instant.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::json::coded;

/// An instant, written in documents as RFC 3339 with an offset and in
/// answers as UTC with second precision (`2026-01-31T09:00:00Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Parses RFC 3339; the offset is required so no instant is ever guessed.
    pub fn parse(text: &str) -> Option<Timestamp> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| Timestamp(t.with_timezone(&Utc)))
    }

    /// The instant a whole number of seconds later, or `None` past chrono's range.
    pub fn plus_seconds(self, seconds: i64) -> Option<Timestamp> {
        self.0
            .checked_add_signed(chrono::TimeDelta::try_seconds(seconds)?)
            .map(Timestamp)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = if self.0.timestamp_subsec_nanos() == 0 {
            SecondsFormat::Secs
        } else {
            SecondsFormat::AutoSi
        };
        f.write_str(&self.0.to_rfc3339_opts(secs, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
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
        let strict = text.len() == 10;
        match text.parse::<NaiveDate>() {
            Ok(date) if strict => Ok(Date(date)),
            _ => Err(coded("invalid_date", &text)),
        }
    }
}

/// An IANA time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(pub Tz);

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Tz::from_str(&text)
            .map(Zone)
            .map_err(|_| coded("unknown_time_zone", &text))
    }
}

impl Zone {
    /// The instant at which a local wall-clock time occurs in this zone.
    ///
    /// A time that does not exist (the hour skipped when clocks go forward)
    /// moves forward to the first instant after the gap; a time that occurs
    /// twice (the hour repeated when clocks go back) takes the first occurrence.
    pub fn instant(&self, local: NaiveDateTime) -> Option<Timestamp> {
        let mut probe = local;
        // Gaps are at most a few hours; step in minutes so that zones with
        // 30- and 45-minute transitions resolve to the exact end of the gap.
        for _ in 0..(26 * 60) {
            match self.0.from_local_datetime(&probe) {
                LocalResult::Single(t) => return Some(Timestamp(t.with_timezone(&Utc))),
                LocalResult::Ambiguous(first, _) => {
                    return Some(Timestamp(first.with_timezone(&Utc)))
                }
                LocalResult::None => {
                    probe = probe.checked_add_signed(chrono::TimeDelta::minutes(1))?;
                }
            }
        }
        None
    }

    /// The local wall-clock time of an instant in this zone.
    pub fn local(&self, instant: Timestamp) -> NaiveDateTime {
        instant.0.with_timezone(&self.0).naive_local()
    }

    /// The instant at which a local date begins (its first existing minute).
    pub fn start_of(&self, date: NaiveDate) -> Option<Timestamp> {
        self.instant(date.and_hms_opt(0, 0, 0)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn zone(name: &str) -> Zone {
        Zone(Tz::from_str(name).unwrap())
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
