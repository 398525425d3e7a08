//! The calendar document: its types and the checks made when it is read.

use chrono::{NaiveDate, Weekday};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::error::{coded, Error, JsonPath};
use crate::model::order;
use crate::model::time::{Date, Zone};

/// Minutes in a day.
pub(crate) const DAY: u32 = 24 * 60;

/// A local wall-clock time of day, written `HH:MM`, from `00:00` to `24:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u32);

impl TimeOfDay {
    /// Parses `HH:MM`; `24:00` is the end of the day.
    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes.get(2) != Some(&b':') {
            return None;
        }
        let digit = |i: usize| -> Option<u32> {
            let b = *bytes.get(i)?;
            b.is_ascii_digit().then(|| u32::from(b - b'0'))
        };
        let hours = digit(0)? * 10 + digit(1)?;
        let minutes = digit(3)? * 10 + digit(4)?;
        let ok = minutes < 60 && (hours < 24 || (hours == 24 && minutes == 0));
        ok.then_some(TimeOfDay(hours * 60 + minutes))
    }

    /// Minutes since local midnight, 0 to 1440.
    pub fn minutes(self) -> u32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TimeOfDay::parse(&text).ok_or_else(|| {
            coded(
                "wrong_type",
                &format!("expected a local time `HH:MM` from `00:00` to `24:00`, got `{text}`"),
            )
        })
    }
}

/// A half-open interval of local time `[start, end)`. An end at or before
/// the start runs past midnight into the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// Opening, minutes since local midnight (0 to 1439).
    pub start: u32,
    /// Closing, minutes since the same midnight; above 1440 when the
    /// interval runs into the next day.
    pub end: u32,
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let [start, end] = <[TimeOfDay; 2]>::deserialize(deserializer)?;
        let (start, end) = (start.minutes(), end.minutes());
        if start == end {
            return Err(coded(
                "out_of_range",
                "an interval's start and end must differ",
            ));
        }
        if start == DAY {
            return Err(coded("out_of_range", "an interval cannot start at `24:00`"));
        }
        let end = if end <= start { end + DAY } else { end };
        Ok(Interval { start, end })
    }
}

/// Business hours per weekday; a weekday left out has none.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Weekly {
    /// Monday's intervals.
    #[serde(default)]
    pub monday: Vec<Interval>,
    /// Tuesday's intervals.
    #[serde(default)]
    pub tuesday: Vec<Interval>,
    /// Wednesday's intervals.
    #[serde(default)]
    pub wednesday: Vec<Interval>,
    /// Thursday's intervals.
    #[serde(default)]
    pub thursday: Vec<Interval>,
    /// Friday's intervals.
    #[serde(default)]
    pub friday: Vec<Interval>,
    /// Saturday's intervals.
    #[serde(default)]
    pub saturday: Vec<Interval>,
    /// Sunday's intervals.
    #[serde(default)]
    pub sunday: Vec<Interval>,
}

impl Weekly {
    /// Around the clock: every day from `00:00` to `24:00`.
    pub fn always() -> Weekly {
        Weekly::every_day(&[Interval { start: 0, end: DAY }])
    }

    /// The same intervals on every day of the week.
    pub fn every_day(intervals: &[Interval]) -> Weekly {
        let day = intervals.to_vec();
        Weekly {
            monday: day.clone(),
            tuesday: day.clone(),
            wednesday: day.clone(),
            thursday: day.clone(),
            friday: day.clone(),
            saturday: day.clone(),
            sunday: day,
        }
    }

    /// The intervals declared for a weekday.
    pub fn of(&self, day: Weekday) -> &[Interval] {
        match day {
            Weekday::Mon => &self.monday,
            Weekday::Tue => &self.tuesday,
            Weekday::Wed => &self.wednesday,
            Weekday::Thu => &self.thursday,
            Weekday::Fri => &self.friday,
            Weekday::Sat => &self.saturday,
            Weekday::Sun => &self.sunday,
        }
    }
}

/// A local date, or a part `[from, to)` of it, without business time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    /// The local date.
    pub date: NaiveDate,
    /// Start of the closed part, minutes since midnight; 0 for a whole day.
    pub from: u32,
    /// End of the closed part; 1440 for a whole day.
    pub to: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayJson {
    date: Date,
    #[serde(default)]
    from: Option<TimeOfDay>,
    #[serde(default)]
    to: Option<TimeOfDay>,
}

impl<'de> Deserialize<'de> for Holiday {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = HolidayJson::deserialize(deserializer)?;
        let from = json.from.map_or(0, TimeOfDay::minutes);
        let to = json.to.map_or(DAY, TimeOfDay::minutes);
        if from >= to {
            return Err(coded(
                "out_of_range",
                "a holiday's `from` must be before its `to`",
            ));
        }
        Ok(Holiday {
            date: json.date.0,
            from,
            to,
        })
    }
}

/// A business calendar: an IANA time zone, weekly hours (or around the
/// clock) and holidays.
///
/// Built by [`Calendar::new`] (or read from JSON), which also works out
/// once what the arithmetic reads on every date: each weekday's hours as
/// merged local intervals, the business seconds of a plain week, and the
/// holidays in date order.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// The zone whose local time the hours and holidays are written in.
    pub time_zone: Zone,
    /// Business hours per weekday.
    pub(super) weekly: Weekly,
    /// Whether the calendar was declared around the clock.
    pub always: bool,
    /// Dates or parts of dates without business time, sorted by date
    /// (holidays of one date keep their order).
    pub(super) holidays: Vec<Holiday>,
    /// Per weekday from Monday: the local intervals of a date without
    /// holidays, in minutes from its midnight (its own hours up to
    /// midnight and the previous day's hours past midnight), sorted and
    /// merged.
    pub(super) days: [Vec<(u32, u32)>; 7],
    /// Business seconds of a week without holidays or clock changes.
    pub(super) week: i64,
}

/// The weekdays from Monday, as [`Calendar::days`] is indexed.
pub(super) const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Sorts local intervals and merges those that overlap or touch.
pub(super) fn merge(mut local: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    // Equal intervals are alike, so the stable order is the unstable one.
    order::sort(&mut local);
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(local.len());
    for (s, e) in local {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

impl Calendar {
    /// A calendar from its parts; `always` only records how it was declared.
    pub fn new(time_zone: Zone, weekly: Weekly, always: bool, mut holidays: Vec<Holiday>) -> Self {
        order::sort_by_key(&mut holidays, |h| h.date);
        let days = WEEKDAYS.map(|day| {
            let mut local: Vec<(u32, u32)> = weekly
                .of(day)
                .iter()
                .map(|i| (i.start, i.end.min(DAY)))
                .collect();
            for i in weekly.of(day.pred()) {
                if i.end > DAY {
                    local.push((0, i.end - DAY));
                }
            }
            merge(local)
        });
        let week = days
            .iter()
            .flatten()
            .map(|&(s, e)| i64::from(e - s) * 60)
            .sum();
        Calendar {
            time_zone,
            weekly,
            always,
            holidays,
            days,
            week,
        }
    }

    /// Business hours per weekday, as declared.
    pub fn weekly(&self) -> &Weekly {
        &self.weekly
    }

    /// The holidays, in date order.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// The error for a calendar whose week has no business hours at all,
    /// found when it is read rather than by a search that would run to the
    /// horizon; `at` is the calendar's path.
    pub fn check_has_hours(&self, at: &JsonPath) -> Option<Error> {
        let days = [
            &self.weekly.monday,
            &self.weekly.tuesday,
            &self.weekly.wednesday,
            &self.weekly.thursday,
            &self.weekly.friday,
            &self.weekly.saturday,
            &self.weekly.sunday,
        ];
        days.iter()
            .all(|d| d.is_empty())
            .then(|| Error::NoBusinessTime {
                path: at.key("weekly"),
                detail: String::from("the calendar has no business hours on any weekday"),
            })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarJson {
    time_zone: Zone,
    #[serde(default)]
    weekly: Option<Weekly>,
    #[serde(default)]
    always: Option<bool>,
    #[serde(default)]
    holidays: Vec<Holiday>,
}

impl<'de> Deserialize<'de> for Calendar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = CalendarJson::deserialize(deserializer)?;
        let always = json.always == Some(true);
        let weekly = match (json.weekly, always) {
            (Some(_), true) => {
                return Err(coded(
                    "wrong_type",
                    "give either `weekly` or `\"always\": true`, not both",
                ))
            }
            (Some(weekly), false) => weekly,
            (None, true) => Weekly::always(),
            (None, false) => return Err(D::Error::missing_field("weekly")),
        };
        Ok(Calendar::new(json.time_zone, weekly, always, json.holidays))
    }
}
