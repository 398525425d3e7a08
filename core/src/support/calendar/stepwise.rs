//! Business-time arithmetic one local date at a time: the plain reading of
//! the rules, kept as the reference the fast arithmetic of `arith` is
//! tested against (`core/tests/calendar_props.rs`). Its work grows with the
//! span of time walked, so the engine itself never calls it.

use chrono::{Datelike, NaiveDate};

use super::arith::{instant, last_date, result, seconds, without, CalendarError, HORIZON_DAYS};
use super::format::{Calendar, DAY};
use crate::model::order;
use crate::model::time::Timestamp;

impl Calendar {
    /// The business intervals falling on a local date, sorted, disjoint and
    /// non-empty, as `[start, end)` pairs of UTC seconds: the date's own
    /// intervals up to midnight, the part after midnight of the previous
    /// date's overnight intervals, less the date's holidays.
    fn stepwise_day(&self, date: NaiveDate) -> Result<Vec<(i64, i64)>, CalendarError> {
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
            local = without(local, h.from, h.to);
        }
        // Equal intervals are alike, so the stable order is the unstable one.
        order::sort(&mut local);
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(local.len());
        for (s, e) in local {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.instants(date, merged)
    }

    /// Walks business intervals forward from the local date before that of
    /// `from`, calling `visit` with each interval that ends after `from`
    /// until it returns `Some`. Gives up after [`HORIZON_DAYS`] dates in a
    /// row without business time, once a date starts after `until`, or past
    /// the local date 10000-01-02 (the result would be past the last instant).
    fn stepwise_walk<T>(
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
        let last = last_date()?;
        let mut empty = 0u32;
        loop {
            if date > last {
                return Err(CalendarError::PastLastInstant);
            }
            if let Some(until) = until {
                let begins = self.time_zone.unix_start_of(date);
                // A date whose midnight is a day past `until` holds nothing
                // before it, even counting the previous date's overnight tail.
                if begins.is_some_and(|b| b > until.saturating_add(2 * 86_400)) {
                    return Ok(None);
                }
            }
            let intervals = self.stepwise_day(date)?;
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

    /// [`Calendar::next_business`], one date at a time.
    pub fn stepwise_next_business(&self, at: Timestamp) -> Result<Timestamp, CalendarError> {
        result(self.stepwise_walk(seconds(at), None, |s, _| Some(s))?)
    }

    /// [`Calendar::add`], one date at a time.
    pub fn stepwise_add(
        &self,
        start: Timestamp,
        seconds_: u64,
    ) -> Result<Timestamp, CalendarError> {
        if seconds_ > super::MAX_ADD_SECONDS {
            return Err(CalendarError::OutOfRange);
        }
        let mut left = i64::try_from(seconds_).map_err(|_| CalendarError::OutOfRange)?;
        let found = self.stepwise_walk(seconds(start), None, |s, e| {
            if left <= e - s {
                Some(s + left)
            } else {
                left -= e - s;
                None
            }
        })?;
        result(found)
    }

    /// [`Calendar::elapsed`], one date at a time.
    pub fn stepwise_elapsed(&self, from: Timestamp, to: Timestamp) -> u64 {
        let (from, to) = (seconds(from), seconds(to));
        if to <= from {
            return 0;
        }
        let mut total: i64 = 0;
        let walked = self.stepwise_walk(from, Some(to), |s, e| {
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
