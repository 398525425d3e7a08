//! Quota and billing periods: which period contains `now`, anchored on the
//! license's anchor date in its time zone, with month-end clamping.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{Error, JsonPath};
use crate::model::bundle::PeriodKind;
use crate::model::license::License;
use crate::model::time::{Timestamp, Zone};

/// One period: from `start` (inclusive) to `end` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// What kind of period it is.
    pub kind: PeriodKind,
    /// First instant of the period.
    pub start: Timestamp,
    /// First instant of the next period: when counts reset.
    pub end: Timestamp,
}

impl Period {
    /// The period of `kind` that contains `now` for this license.
    ///
    /// Months start on the anchor's day of the month, clamped to the month's
    /// last day (an anchor on the 31st starts February's period on the 28th or
    /// 29th and March's on the 31st again); years start on the anchor's month
    /// and day, 29 February clamping to the 28th. Each period starts at local
    /// midnight in the license's zone, moved forward where midnight falls in
    /// a daylight-saving gap. `None` when the period begins before
    /// 0000-01-01T00:00:00Z or ends after 9999-12-31T23:59:59Z, instants the
    /// engine cannot write.
    pub fn containing(kind: PeriodKind, now: Timestamp, license: &License) -> Option<Period> {
        let zone = license.time_zone;
        let anchor = license.anchor_date.0;
        let today = zone.local(now).date();
        let (start, end) = match kind {
            PeriodKind::Term => (license.term.start, license.term.end),
            PeriodKind::Day => (
                zone.start_of(today)?,
                zone.start_of(today.checked_add_days(Days::new(1))?)?,
            ),
            PeriodKind::Month => {
                let step = |date: NaiveDate, back: bool| -> Option<NaiveDate> {
                    let first = NaiveDate::from_ymd_opt(date.year(), date.month(), 1)?;
                    let moved = if back {
                        first.checked_sub_months(Months::new(1))?
                    } else {
                        first.checked_add_months(Months::new(1))?
                    };
                    month_start(moved.year(), moved.month(), anchor.day())
                };
                let this = month_start(today.year(), today.month(), anchor.day())?;
                bracket(zone, now, this, step)?
            }
            PeriodKind::Year => {
                let step = |date: NaiveDate, back: bool| -> Option<NaiveDate> {
                    let year = if back {
                        date.year() - 1
                    } else {
                        date.year() + 1
                    };
                    year_start(year, anchor)
                };
                let this = year_start(today.year(), anchor)?;
                bracket(zone, now, this, step)?
            }
        };
        Some(Period { kind, start, end })
    }

    /// [`Period::containing`], or `out_of_range` at `at`, the path of `now`,
    /// when the period begins before year 0000 or ends after year 9999 (a
    /// monthly period containing 9999-12-20 ends in 10000): its bounds are
    /// written in the answer and must be instants the engine reads back.
    pub fn containing_at(
        kind: PeriodKind,
        now: Timestamp,
        license: &License,
        at: &JsonPath,
    ) -> Result<Period, Error> {
        Period::containing(kind, now, license).ok_or_else(|| {
            let edge = if now.unix() < 0 {
                "begins before `0000-01-01T00:00:00Z`, the first"
            } else {
                "ends after `9999-12-31T23:59:59Z`, the last"
            };
            Error::OutOfRange {
                path: at.clone(),
                detail: format!(
                    "the {} period containing `{now}` {edge} instant the engine writes",
                    kind_name(kind)
                ),
            }
        })
    }

    /// Length of the period in seconds.
    pub fn seconds(&self) -> i64 {
        self.end.seconds_since(self.start)
    }
}

fn kind_name(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Term => "term",
        PeriodKind::Day => "daily",
        PeriodKind::Month => "monthly",
        PeriodKind::Year => "yearly",
    }
}

/// Given this calendar period's start date, picks the period containing `now`:
/// this one if it has begun, else the one before.
fn bracket(
    zone: Zone,
    now: Timestamp,
    this: NaiveDate,
    step: impl Fn(NaiveDate, bool) -> Option<NaiveDate>,
) -> Option<(Timestamp, Timestamp)> {
    let this_start = zone.start_of(this)?;
    if this_start <= now {
        Some((this_start, zone.start_of(step(this, false)?)?))
    } else {
        Some((zone.start_of(step(this, true)?)?, this_start))
    }
}

/// The day the monthly period starts in a given month: the anchor's day, or
/// the month's last day when the month is shorter.
fn month_start(year: i32, month: u32, anchor_day: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let last = first
        .checked_add_months(Months::new(1))?
        .checked_sub_days(Days::new(1))?
        .day();
    NaiveDate::from_ymd_opt(year, month, anchor_day.min(last))
}

fn year_start(year: i32, anchor: NaiveDate) -> Option<NaiveDate> {
    month_start(year, anchor.month(), anchor.day())
}
