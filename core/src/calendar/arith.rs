//! Business-time arithmetic: the business intervals of each local date as
//! pairs of UTC seconds, walked forward from an instant.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use super::format::{Calendar, DAY};
use crate::error::{Error, JsonPath};
use crate::time::Timestamp;

/// The longest run of consecutive local dates without business time that a
/// search walks before it gives up: five years.
pub const HORIZON_DAYS: u32 = 5 * 366;

/// The largest business duration [`Calendar::add`] accepts: 200 years of seconds.
pub const MAX_ADD_SECONDS: u64 = 200 * 366 * 86_400;

/// Why business-time arithmetic has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// No business time within [`HORIZON_DAYS`] local dates.
    #[error("the calendar has no business time in the {days} days from {from}")]
    NoBusinessTime {
        /// Where the search started.
        from: Timestamp,
        /// How many local dates were searched.
        days: u32,
    },
    /// The duration or the result lies outside the instants supported.
    #[error("the business duration or its result is out of the supported range")]
    OutOfRange,
}

impl CalendarError {
    /// The stable code reported for this error.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::NoBusinessTime { .. } => "no_business_time",
            CalendarError::OutOfRange => "out_of_range",
        }
    }

    /// The engine error for the field at `path` (the calendar or the duration).
    pub fn into_error(self, path: JsonPath) -> Error {
        let detail = self.to_string();
        match self {
            CalendarError::NoBusinessTime { .. } => Error::NoBusinessTime { path, detail },
            CalendarError::OutOfRange => Error::OutOfRange { path, detail },
        }
    }
}

fn seconds(t: Timestamp) -> i64 {
    t.0.timestamp()
}

fn instant(secs: i64) -> Result<Timestamp, CalendarError> {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(Timestamp)
        .ok_or(CalendarError::OutOfRange)
}

impl Calendar {
    /// The business intervals falling on a local date, sorted, disjoint and
    /// non-empty, as `[start, end)` pairs of UTC seconds: the date's own
    /// intervals up to midnight, the part after midnight of the previous
    /// date's overnight intervals, less the date's holidays.
    fn day(&self, date: NaiveDate) -> Result<Vec<(i64, i64)>, CalendarError> {
        let mut local: Vec<(u32, u32)> = Vec::new();
        for i in self.weekly.of(date.weekday()) {
            local.push((i.start, i.end.min(DAY)));
        }
        if let Some(before) = date.pred_opt() {
            for i in self.weekly.of(before.weekday()) {
                if i.end > DAY {
                    local.push((0, i.end - DAY));
                }
            }
        }
        for h in self.holidays.iter().filter(|h| h.date == date) {
            local = local
                .into_iter()
                .flat_map(|(s, e)| {
                    let mut kept = Vec::with_capacity(2);
                    if s < h.from.min(e) {
                        kept.push((s, h.from.min(e)));
                    }
                    if h.to.max(s) < e {
                        kept.push((h.to.max(s), e));
                    }
                    kept
                })
                .collect();
        }
        local.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(local.len());
        for (s, e) in local {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let midnight = date.and_hms_opt(0, 0, 0).ok_or(CalendarError::OutOfRange)?;
        let at = |minutes: u32| -> Result<i64, CalendarError> {
            let local = midnight
                .checked_add_signed(TimeDelta::minutes(i64::from(minutes)))
                .ok_or(CalendarError::OutOfRange)?;
            self.time_zone
                .instant(local)
                .map(seconds)
                .ok_or(CalendarError::OutOfRange)
        };
        let mut out = Vec::with_capacity(merged.len());
        for (s, e) in merged {
            let (s, e) = (at(s)?, at(e)?);
            // An interval wholly inside a DST gap maps to one instant.
            if s < e {
                out.push((s, e));
            }
        }
        Ok(out)
    }

    /// Walks business intervals forward from the local date before that of
    /// `from`, calling `visit` with each interval that ends after `from`
    /// until it returns `Some`. Gives up after [`HORIZON_DAYS`] dates in a
    /// row without business time, or once a date starts after `until`.
    fn walk<T>(
        &self,
        from: i64,
        until: Option<i64>,
        mut visit: impl FnMut(i64, i64) -> Option<T>,
    ) -> Result<Option<T>, CalendarError> {
        let start = instant(from)?;
        let mut date = self
            .time_zone
            .local(start)
            .date()
            .pred_opt()
            .ok_or(CalendarError::OutOfRange)?;
        let mut empty = 0u32;
        loop {
            if let Some(until) = until {
                let begins = self.time_zone.start_of(date).map(seconds);
                // A date whose midnight is a day past `until` holds nothing
                // before it, even counting the previous date's overnight tail.
                if begins.is_some_and(|b| b > until.saturating_add(2 * 86_400)) {
                    return Ok(None);
                }
            }
            let intervals = self.day(date)?;
            if intervals.iter().any(|&(_, e)| e > from) {
                empty = 0;
            } else {
                empty += 1;
                if empty > HORIZON_DAYS && until.is_none() {
                    return Err(CalendarError::NoBusinessTime {
                        from: start,
                        days: HORIZON_DAYS,
                    });
                }
            }
            for (s, e) in intervals {
                if e > from {
                    if let Some(found) = visit(s.max(from), e) {
                        return Ok(Some(found));
                    }
                }
            }
            date = date.succ_opt().ok_or(CalendarError::OutOfRange)?;
        }
    }

    /// The first business instant at or after `at` (second precision: a
    /// fraction of a second is dropped).
    pub fn next_business(&self, at: Timestamp) -> Result<Timestamp, CalendarError> {
        let found = self.walk(seconds(at), None, |s, _| Some(s))?;
        instant(found.ok_or(CalendarError::OutOfRange)?)
    }

    /// The instant `seconds` of business time after `start`.
    ///
    /// A start outside business hours begins counting at the next opening.
    /// Adding zero gives the next business instant at or after `start`
    /// (the same as [`Calendar::next_business`]). A positive duration that
    /// uses up an interval exactly ends at that interval's end: the result
    /// stays there and does not roll to the next opening.
    pub fn add(&self, start: Timestamp, seconds_: u64) -> Result<Timestamp, CalendarError> {
        if seconds_ > MAX_ADD_SECONDS {
            return Err(CalendarError::OutOfRange);
        }
        let mut left = i64::try_from(seconds_).map_err(|_| CalendarError::OutOfRange)?;
        let found = self.walk(seconds(start), None, |s, e| {
            if left <= e - s {
                Some(s + left)
            } else {
                left -= e - s;
                None
            }
        })?;
        instant(found.ok_or(CalendarError::OutOfRange)?)
    }

    /// Business seconds in `[from, to)`; zero when `to` is not after `from`.
    /// Never fails: a calendar without business time measures zero.
    pub fn elapsed(&self, from: Timestamp, to: Timestamp) -> u64 {
        let (from, to) = (seconds(from), seconds(to));
        if to <= from {
            return 0;
        }
        let mut total: i64 = 0;
        let walked = self.walk(from, Some(to), |s, e| {
            if s >= to {
                return Some(());
            }
            total += e.min(to) - s;
            None
        });
        // An error only means no further business time: what was counted stands.
        let _ = walked;
        u64::try_from(total).unwrap_or(0)
    }
}
