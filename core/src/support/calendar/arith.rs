//! Business-time arithmetic: the business intervals of each local date as
//! pairs of UTC seconds, walked forward from an instant, with whole weeks
//! that hold no holiday and no change of the zone's offset counted at once
//! rather than walked. Its cost grows with the holidays and clock changes
//! in the span, not with the span: clock changes stop after 2099 and come
//! twice a year at most before. `stepwise` walks every date the plain way;
//! both must give the same answers.

use chrono::{Datelike, Days, NaiveDate, NaiveTime, TimeDelta};

use super::format::{merge, Calendar, DAY};
use crate::error::{Error, JsonPath};
use crate::model::time::{Timestamp, LAST_INSTANT};

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
    /// The result would fall after `9999-12-31T23:59:59Z`, the last
    /// instant the engine writes.
    #[error("the result falls after 9999-12-31T23:59:59Z, the last instant an answer can hold")]
    PastLastInstant,
}

impl CalendarError {
    /// The stable code reported for this error.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::NoBusinessTime { .. } => "no_business_time",
            CalendarError::OutOfRange | CalendarError::PastLastInstant => "out_of_range",
        }
    }

    /// The engine error for the field at `path` (the calendar or the duration).
    pub fn into_error(self, path: JsonPath) -> Error {
        let detail = self.to_string();
        match self {
            CalendarError::NoBusinessTime { .. } => Error::NoBusinessTime { path, detail },
            CalendarError::OutOfRange | CalendarError::PastLastInstant => {
                Error::OutOfRange { path, detail }
            }
        }
    }
}

/// Seconds in a day and in a week.
const DAY_SECONDS: i64 = 86_400;
const WEEK: i64 = 7 * DAY_SECONDS;

/// Local-minute intervals less a holiday's `[from, to)`.
pub(super) fn without(local: Vec<(u32, u32)>, from: u32, to: u32) -> Vec<(u32, u32)> {
    local
        .into_iter()
        .flat_map(|(s, e)| {
            let mut kept = Vec::with_capacity(2);
            if s < from.min(e) {
                kept.push((s, from.min(e)));
            }
            if to.max(s) < e {
                kept.push((to.max(s), e));
            }
            kept
        })
        .collect()
}

pub(super) fn seconds(t: Timestamp) -> i64 {
    t.unix()
}

pub(super) fn instant(secs: i64) -> Result<Timestamp, CalendarError> {
    Timestamp::from_unix(secs).ok_or(CalendarError::OutOfRange)
}

/// The last local date a walk looks at: no zone's date after it begins
/// before the last instant an answer can hold.
pub(super) fn last_date() -> Result<NaiveDate, CalendarError> {
    NaiveDate::from_ymd_opt(10_000, 1, 2).ok_or(CalendarError::OutOfRange)
}

/// The instant a walk found, as an answer: none found, or one past the
/// last instant an answer can hold, is out of range.
pub(super) fn result(found: Option<i64>) -> Result<Timestamp, CalendarError> {
    match found {
        Some(t) if t > LAST_INSTANT => Err(CalendarError::PastLastInstant),
        Some(t) => instant(t),
        None => Err(CalendarError::OutOfRange),
    }
}

/// A local date's midnight read as if it were UTC, in seconds.
fn midnight(date: NaiveDate) -> i64 {
    date.and_time(NaiveTime::MIN).and_utc().timestamp()
}

/// What a walk does with the business time it meets.
trait Visitor {
    /// What ends the walk.
    type Found;
    /// Takes `[s, e)`, the next business interval (starting at or after the
    /// walk's `from`); `Some` ends the walk.
    fn visit(&mut self, s: i64, e: i64) -> Option<Self::Found>;
    /// Offered `weeks` whole plain weeks from the instant `begin` (after
    /// `from`), each holding `week` business seconds: how many it takes
    /// without visiting them, knowing that its answer lies after them.
    fn skip(&mut self, weeks: i64, begin: i64, week: i64) -> i64;
    /// Offered one plain date from the instant `begin` (after `from`),
    /// holding `seconds` of business time: whether it takes it without
    /// visiting its intervals, knowing that its answer lies after them.
    fn take_day(&mut self, begin: i64, seconds: i64) -> bool;
    /// How far past `begin` whole plain weeks could take it, when each
    /// holds `week` business seconds: the walk looks for clock changes no
    /// further.
    fn reach(&self, begin: i64, week: i64) -> i64;
}

/// The first business instant.
struct Next;

impl Visitor for Next {
    type Found = i64;
    fn visit(&mut self, s: i64, _: i64) -> Option<i64> {
        Some(s)
    }
    fn skip(&mut self, _: i64, _: i64, _: i64) -> i64 {
        0
    }
    fn take_day(&mut self, _: i64, seconds: i64) -> bool {
        seconds == 0
    }
    fn reach(&self, begin: i64, _: i64) -> i64 {
        begin
    }
}

/// The instant `left` business seconds on.
struct Add {
    left: i64,
}

impl Visitor for Add {
    type Found = i64;
    fn visit(&mut self, s: i64, e: i64) -> Option<i64> {
        if self.left <= e - s {
            Some(s + self.left)
        } else {
            self.left -= e - s;
            None
        }
    }
    fn skip(&mut self, weeks: i64, _: i64, week: i64) -> i64 {
        // Keep at least a second to count after the weeks taken, so the
        // answer is never at the end of a skipped week.
        if week <= 0 || self.left <= week {
            return 0;
        }
        let taken = ((self.left - 1) / week).min(weeks);
        self.left -= taken * week;
        taken
    }
    fn reach(&self, begin: i64, week: i64) -> i64 {
        let weeks = if week > 0 { self.left / week + 1 } else { 0 };
        begin.saturating_add(weeks.saturating_mul(WEEK))
    }
    fn take_day(&mut self, _: i64, seconds: i64) -> bool {
        let taken = self.left > seconds;
        if taken {
            self.left -= seconds;
        }
        taken
    }
}

/// The business seconds before `to`.
struct Elapsed {
    to: i64,
    total: i64,
}

impl Visitor for Elapsed {
    type Found = ();
    fn visit(&mut self, s: i64, e: i64) -> Option<()> {
        if s >= self.to {
            return Some(());
        }
        self.total += e.min(self.to) - s;
        None
    }
    fn skip(&mut self, weeks: i64, begin: i64, week: i64) -> i64 {
        let taken = (self.to - begin).div_euclid(WEEK).clamp(0, weeks);
        self.total += taken * week;
        taken
    }
    fn reach(&self, _: i64, _: i64) -> i64 {
        self.to
    }
    fn take_day(&mut self, begin: i64, seconds: i64) -> bool {
        let taken = begin + DAY_SECONDS <= self.to;
        if taken {
            self.total += seconds;
        }
        taken
    }
}

/// A stretch of time over which the zone keeps one offset: from `from`
/// until `until` (for ever when `None`), the instant it changes when
/// `exact`, else as far as it was looked at.
#[derive(Clone, Copy)]
struct Steady {
    from: i64,
    offset: i64,
    until: Option<i64>,
    exact: bool,
}

/// How far ahead a walk looks for clock changes at the least: eight weeks.
const LOOK_AHEAD: i64 = 8 * WEEK;

impl Calendar {
    /// The business intervals falling on a local date, sorted, disjoint and
    /// non-empty, as `[start, end)` pairs of UTC seconds: the weekday's
    /// merged local intervals less the date's holidays.
    fn day(&self, date: NaiveDate) -> Result<Vec<(i64, i64)>, CalendarError> {
        let weekday = date.weekday().num_days_from_monday() as usize;
        let mut local = self.days.get(weekday).cloned().unwrap_or_default();
        if date.pred_opt().is_none() {
            // No previous date, so no overnight part from it.
            local = merge(
                self.weekly
                    .of(date.weekday())
                    .iter()
                    .map(|i| (i.start, i.end.min(DAY)))
                    .collect(),
            );
        }
        let first = self.holidays.partition_point(|h| h.date < date);
        let on_date = self
            .holidays
            .iter()
            .skip(first)
            .take_while(|h| h.date == date);
        let mut cut = false;
        for h in on_date {
            cut = true;
            local = without(local, h.from, h.to);
        }
        if cut {
            local = merge(local);
        }
        self.instants(date, local)
    }

    /// A date's sorted, disjoint intervals in local minutes as `[start,
    /// end)` pairs of UTC seconds; an interval wholly inside a DST gap maps
    /// to one instant and is dropped.
    pub(super) fn instants(
        &self,
        date: NaiveDate,
        local: Vec<(u32, u32)>,
    ) -> Result<Vec<(i64, i64)>, CalendarError> {
        let midnight = date.and_hms_opt(0, 0, 0).ok_or(CalendarError::OutOfRange)?;
        let at = |minutes: u32| -> Result<i64, CalendarError> {
            let local = midnight
                .checked_add_signed(TimeDelta::minutes(i64::from(minutes)))
                .ok_or(CalendarError::OutOfRange)?;
            self.time_zone
                .unix_of(local)
                .ok_or(CalendarError::OutOfRange)
        };
        let mut out = Vec::with_capacity(local.len());
        for (s, e) in local {
            let (s, e) = (at(s)?, at(e)?);
            if s < e {
                out.push((s, e));
            }
        }
        Ok(out)
    }

    /// How many dates from `date` on are plain, and the zone's offset over
    /// them: no holiday falls on them, they end by `last`, and the zone
    /// keeps one offset from a day before their first midnight to a day
    /// after their last. Offsets are less than a day, so no other offset's
    /// local times reach theirs: each of their local times occurs once, at
    /// the instant it reads less that offset. `None` when not one date is.
    /// Clock changes are looked for up to `reach` (and [`LOOK_AHEAD`]).
    fn plain_days(
        &self,
        date: NaiveDate,
        last: NaiveDate,
        steady: &mut Option<Steady>,
        reach: i64,
    ) -> Option<(i64, i64)> {
        let start = midnight(date);
        let probe = start - DAY_SECONDS;
        let limit = reach
            .max(start + LOOK_AHEAD)
            .saturating_add(2 * DAY_SECONDS);
        let known = steady.filter(|s| {
            s.from <= probe && s.until.is_none_or(|u| probe < u && (s.exact || u >= limit))
        });
        let zone = match known {
            Some(zone) => zone,
            None => {
                // Look twice as far as needed, so a walk that moves on a day
                // at a time does not look again every day.
                let far = limit.saturating_add(limit.saturating_sub(probe));
                let change = self.time_zone.change_within(probe, far);
                let zone = Steady {
                    from: probe,
                    offset: self.time_zone.offset_at(probe)?,
                    until: match change {
                        Ok(at) => Some(at),
                        Err(i64::MAX) => None,
                        Err(held) => Some(held),
                    },
                    exact: change.is_ok(),
                };
                *steady = Some(zone);
                zone
            }
        };
        let by_zone = zone.until.map_or(i64::MAX, |u| {
            (u - DAY_SECONDS - start).div_euclid(DAY_SECONDS)
        });
        let first = self.holidays.partition_point(|h| h.date < date);
        let by_holiday = self
            .holidays
            .get(first)
            .map_or(i64::MAX, |h| (h.date - date).num_days());
        let by_end = (last - date).num_days();
        let days = by_zone.min(by_holiday).min(by_end);
        (days > 0).then_some((days, zone.offset))
    }

    /// The business seconds of a plain date.
    fn seconds_of(&self, date: NaiveDate) -> i64 {
        let weekday = date.weekday().num_days_from_monday() as usize;
        self.days.get(weekday).map_or(0, |day| {
            day.iter().map(|&(s, e)| i64::from(e - s) * 60).sum()
        })
    }

    /// How many dates before `date` in a row have no hours in a plain week.
    fn empty_before(&self, date: NaiveDate) -> u32 {
        let weekday = date.weekday().num_days_from_monday() as usize;
        let mut count = 0;
        for back in 1..=7 {
            match self.days.get((weekday + 7 - back) % 7) {
                Some(day) if day.is_empty() => count += 1,
                _ => break,
            }
        }
        count
    }

    /// Walks business intervals forward from the local date before that of
    /// `from`, handing `visitor` each interval that ends after `from` until
    /// it returns `Some`, and offering it each run of plain weeks first.
    /// Gives up after [`HORIZON_DAYS`] dates in a row without business
    /// time, once a date starts after `until`, or past the local date
    /// 10000-01-02 (the result would be past the last instant).
    fn walk<V: Visitor>(
        &self,
        from: i64,
        until: Option<i64>,
        visitor: &mut V,
    ) -> Result<Option<V::Found>, CalendarError> {
        let start = instant(from)?;
        let mut date = self
            .time_zone
            .local(start)
            .date()
            .pred_opt()
            .ok_or(CalendarError::OutOfRange)?;
        let last = last_date()?;
        let mut empty = 0u32;
        let mut steady = None;
        loop {
            if date > last {
                return Err(CalendarError::PastLastInstant);
            }
            // A date whose midnight reads no later than `until` begins less
            // than two days after it (offsets and gaps are under a day).
            if let Some(until) = until.filter(|u| midnight(date) > *u) {
                let begins = self.time_zone.unix_start_of(date);
                // A date whose midnight is a day past `until` holds nothing
                // before it, even counting the previous date's overnight tail.
                if begins.is_some_and(|b| b > until.saturating_add(2 * DAY_SECONDS)) {
                    return Ok(None);
                }
            }
            let reach = visitor.reach(midnight(date), self.week);
            if let Some((days, offset)) = self.plain_days(date, last, &mut steady, reach) {
                let begin = midnight(date) - offset;
                // Plain weeks are skipped only after a date with business
                // time, so the run of dates without any stays as a date walk
                // counts it.
                let weeks = if begin >= from && empty == 0 && self.week > 0 {
                    visitor.skip(days / 7, begin, self.week)
                } else {
                    0
                };
                if weeks > 0 {
                    date = date
                        .checked_add_days(Days::new(u64::try_from(weeks * 7).unwrap_or(0)))
                        .ok_or(CalendarError::OutOfRange)?;
                    empty = self.empty_before(date);
                    continue;
                }
                let seconds = self.seconds_of(date);
                if begin >= from && visitor.take_day(begin, seconds) {
                    // Counted as a date walk counts it.
                    if seconds > 0 {
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
                    date = date.succ_opt().ok_or(CalendarError::OutOfRange)?;
                    continue;
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
                    if let Some(found) = visitor.visit(s.max(from), e) {
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
        result(self.walk(seconds(at), None, &mut Next)?)
    }

    /// The instant `seconds` of business time after `start`.
    ///
    /// A start outside business hours begins counting at the next opening.
    /// Adding zero gives the next business instant at or after `start`
    /// (the same as [`Calendar::next_business`]). A positive duration that
    /// uses up an interval exactly ends at that interval's end: the result
    /// stays there and does not roll to the next opening. A result after
    /// `9999-12-31T23:59:59Z` is [`CalendarError::PastLastInstant`].
    pub fn add(&self, start: Timestamp, seconds_: u64) -> Result<Timestamp, CalendarError> {
        if seconds_ > MAX_ADD_SECONDS {
            return Err(CalendarError::OutOfRange);
        }
        let left = i64::try_from(seconds_).map_err(|_| CalendarError::OutOfRange)?;
        result(self.walk(seconds(start), None, &mut Add { left })?)
    }

    /// Business seconds in `[from, to)`; zero when `to` is not after `from`.
    /// Never fails: a calendar without business time measures zero.
    pub fn elapsed(&self, from: Timestamp, to: Timestamp) -> u64 {
        let (from, to) = (seconds(from), seconds(to));
        if to <= from {
            return 0;
        }
        let mut visitor = Elapsed { to, total: 0 };
        // An error only means no further business time: what was counted stands.
        let _ = self.walk(from, Some(to), &mut visitor);
        u64::try_from(visitor.total).unwrap_or(0)
    }
}
