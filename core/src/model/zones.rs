//! The IANA time zones' offsets from UTC as one compact table.
//!
//! A zone's name and identity are chrono-tz's ([`chrono_tz::Tz`], every zone
//! and link of its database); its offsets come from `zones.bin`, generated
//! from chrono-tz's own tables by this module's tests (after updating
//! chrono-tz, `cargo test -q -p entitle-core --lib print_zones_bin -- --ignored
//! --nocapture | sed -n 's/^zones.bin://p' | base64 -d > core/src/model/zones.bin`)
//! and checked against them on every test run. Only the
//! total offset matters to the engine, so zones and links whose offsets are
//! the same share one table; a zone whose clocks change by a yearly rule up to
//! the tables' end (2099) keeps that rule instead of a list of instants.
//!
//! `zones.bin`, every number little-endian, varints LEB128:
//! - `u16` zone count, then each zone's table number (`u16`), in the order of
//!   chrono-tz's `Tz` enum;
//! - `u16` table count, then each table's start (`u32`, from the first table);
//! - each table: the palette of its offsets (a byte count, then each offset in
//!   seconds as a zigzag varint) and the palette index of the first offset (a
//!   byte); the count of listed changes (varint) and, when there are some, the
//!   last one (varint seconds since [`CHANGES_FROM`], then its offset's index,
//!   so that an instant after it skips the list); a byte 1 and a yearly rule,
//!   or 0; then the listed changes, each the varint
//!   `seconds since the previous change << 4 | palette index`, the first
//!   counted from [`CHANGES_FROM`]. A rule is its change count (varint), the
//!   year of its first change (varint) and that change's part (byte), and its
//!   two parts in calendar order, each a month, a day (the weekday on or after
//!   it; 0 for the last weekday of the month), a weekday (0 for Monday), the
//!   local time of day under the offset before the change (varint seconds)
//!   and the palette indices before and after (bytes). The rule's changes
//!   follow the listed ones and alternate between its parts.

use std::fmt;
use std::sync::OnceLock;

use chrono::{FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone};

/// The table, as generated from chrono-tz.
static TABLE: &[u8] = include_bytes!("zones.bin");

/// Every change of offset of every zone lies between these two instants
/// (1844-01-01 and 2100-01-01 UTC): chrono-tz's tables run from the first
/// standard times of the 1840s to 2099, and each zone keeps its first and
/// last offsets for ever outside them.
pub(crate) const CHANGES_FROM: i64 = -3_976_214_400;
/// See [`CHANGES_FROM`].
pub(crate) const CHANGES_UNTIL: i64 = 4_102_444_800;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// An IANA time zone: chrono-tz's zone, its offsets read from the compact
/// table. It is a chrono [`TimeZone`], so a `DateTime` can be shown in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IanaZone(chrono_tz::Tz);

/// An offset of an [`IanaZone`] at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IanaOffset {
    zone: IanaZone,
    fixed: FixedOffset,
}

impl IanaZone {
    /// The zone of an IANA name (a zone or a link, exactly as the database
    /// spells it), or `None`.
    pub fn from_name(name: &str) -> Option<IanaZone> {
        name.parse::<chrono_tz::Tz>().ok().map(IanaZone)
    }

    /// The zone's IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zone's offset from UTC in seconds at an instant given in seconds
    /// since the Unix epoch.
    pub fn offset_at(self, unix: i64) -> i32 {
        self.lookup(unix).map_or(0, |(offset, _)| offset)
    }

    /// The offset at `unix` and the instant of the next change, if any.
    fn lookup(self, unix: i64) -> Option<(i32, Option<i64>)> {
        let changes = Changes::of(self)?;
        let after = changes.list.partition_point(|&(at, _)| at <= unix);
        let offset = match after.checked_sub(1) {
            Some(last) => changes.list.get(last)?.1,
            None => changes.first,
        };
        Some((offset, changes.list.get(after).map(|&(at, _)| at)))
    }

    /// The offsets under which a local time (seconds since the Unix epoch
    /// as if the wall clock were UTC) occurs: none in a gap, two in an
    /// overlap (earlier instant first).
    fn local_offsets(self, local: i64) -> LocalResult<i32> {
        // Changes are more than six days apart and offsets within a day, so
        // at most one change falls within two days of the local time.
        let from = local.saturating_sub(2 * DAY);
        let Some((before, next)) = self.lookup(from) else {
            return LocalResult::Single(0);
        };
        let change = next.filter(|&t| t <= local.saturating_add(2 * DAY));
        let Some(change) = change else {
            return LocalResult::Single(before);
        };
        let after = self.offset_at(change);
        let early = local - i64::from(before) < change;
        let late = local - i64::from(after) >= change;
        match (early, late) {
            (true, true) => LocalResult::Ambiguous(before, after),
            (true, false) => LocalResult::Single(before),
            (false, true) => LocalResult::Single(after),
            (false, false) => LocalResult::None,
        }
    }

    fn offset(self, seconds: i32) -> IanaOffset {
        IanaOffset {
            zone: self,
            // Offsets are within a day: the fallback is never taken.
            fixed: FixedOffset::east_opt(seconds).unwrap_or_else(|| chrono::Utc.fix()),
        }
    }
}

impl fmt::Display for IanaZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Offset for IanaOffset {
    fn fix(&self) -> FixedOffset {
        self.fixed
    }
}

impl fmt::Display for IanaOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.fixed, f)
    }
}

impl TimeZone for IanaZone {
    type Offset = IanaOffset;

    fn from_offset(offset: &IanaOffset) -> IanaZone {
        offset.zone
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> LocalResult<IanaOffset> {
        match local.and_hms_opt(0, 0, 0) {
            Some(midnight) => self.offset_from_local_datetime(&midnight),
            None => LocalResult::None,
        }
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> LocalResult<IanaOffset> {
        self.local_offsets(local.and_utc().timestamp())
            .map(|seconds| self.offset(seconds))
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> IanaOffset {
        let unix = utc
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp());
        self.offset(self.offset_at(unix))
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> IanaOffset {
        self.offset(self.offset_at(utc.and_utc().timestamp()))
    }
}

/// A table's changes listed in full: its first offset, then each change's
/// instant and the offset after it, in order.
struct Changes {
    first: i32,
    list: Box<[(i64, i32)]>,
}

impl Changes {
    /// The changes of a zone's table, listed the first time any zone of
    /// that table is asked about and kept: a lookup is then a binary search,
    /// as fast as chrono-tz's own. Derived from the constant table only, so
    /// keeping it changes no answer.
    fn of(zone: IanaZone) -> Option<&'static Changes> {
        static TABLES: OnceLock<Box<[OnceLock<Option<Changes>>]>> = OnceLock::new();
        let (number, count) = Table::number(zone)?;
        let tables = TABLES.get_or_init(|| (0..count).map(|_| OnceLock::new()).collect());
        tables
            .get(number)?
            .get_or_init(|| Table::of(zone).and_then(|table| table.list()))
            .as_ref()
    }
}

/// A reader over the table's bytes.
struct Cursor {
    at: usize,
}

impl Cursor {
    fn byte(&mut self) -> Option<u8> {
        let byte = *TABLE.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn u16(&mut self) -> Option<usize> {
        Some(usize::from(u16::from_le_bytes([
            self.byte()?,
            self.byte()?,
        ])))
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(value);
            }
        }
        None
    }

    fn zigzag(&mut self) -> Option<i64> {
        let raw = self.varint()?;
        Some((raw >> 1) as i64 ^ -((raw & 1) as i64))
    }
}

/// One part of a yearly rule: the change on a weekday of a month.
#[derive(Debug, Clone, Copy)]
struct Part {
    month: u32,
    /// The weekday on or after this day; 0 for the month's last.
    day: u32,
    /// 0 for Monday.
    weekday: i64,
    /// Seconds into the local day, under the offset before the change.
    time: i64,
    before: i32,
    after: i32,
}

impl Part {
    /// The instant of this change in `year`.
    fn instant(&self, year: i32) -> Option<i64> {
        let date = if self.day == 0 {
            let last = last_day(year, self.month)?;
            last - (weekday(last) - self.weekday).rem_euclid(7)
        } else {
            let first = NaiveDate::from_ymd_opt(year, self.month, self.day)?;
            let first = days(first);
            first + (self.weekday - weekday(first)).rem_euclid(7)
        };
        Some(date * DAY + self.time - i64::from(self.before))
    }
}

/// Days since the Unix epoch.
fn days(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp().div_euclid(DAY))
}

/// The weekday of a day since the Unix epoch, 0 for Monday (1970-01-01 was
/// a Thursday).
fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// The last day of a month, in days since the Unix epoch.
fn last_day(year: i32, month: u32) -> Option<i64> {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    Some(days(next) - 1)
}

/// A yearly rule: `count` changes alternating between its two parts, the
/// first in `year`, part `first`.
#[derive(Debug, Clone, Copy)]
struct Rule {
    count: i64,
    year: i32,
    first: i64,
    parts: [Part; 2],
}

impl Rule {
    /// The part and instant of the rule's `k`-th change.
    fn change(&self, k: i64) -> Option<(Part, i64)> {
        let index = self.first + k;
        let part = if index % 2 == 0 {
            self.parts[0]
        } else {
            self.parts[1]
        };
        let year = self.year.checked_add(i32::try_from(index / 2).ok()?)?;
        Some((part, part.instant(year)?))
    }
}

/// One table as read from the bytes: its palette, first offset and rule, and
/// where its listed changes start.
struct Table {
    palette: [i32; 16],
    first: i32,
    /// How many changes are listed.
    count: u64,
    /// The yearly rule after the listed changes, if any.
    rule: Option<Rule>,
    /// Where the listed changes start.
    changes: usize,
}

impl Table {
    /// The number of a zone's table, and how many tables there are.
    fn number(zone: IanaZone) -> Option<(usize, usize)> {
        let mut cursor = Cursor { at: 0 };
        let zones = cursor.u16()?;
        let index = zone.0 as usize;
        if index >= zones {
            return None;
        }
        cursor.at = 2 + 2 * index;
        let table = cursor.u16()?;
        cursor.at = 2 + 2 * zones;
        let tables = cursor.u16()?;
        (table < tables).then_some((table, tables))
    }

    /// Every change of the table: the listed ones, then the rule's.
    fn list(&self) -> Option<Changes> {
        let mut list = Vec::new();
        let mut cursor = Cursor { at: self.changes };
        let mut at = CHANGES_FROM;
        for _ in 0..self.count {
            let step = cursor.varint()?;
            at = at.checked_add(i64::try_from(step >> 4).ok()?)?;
            list.push((at, *self.palette.get(usize::try_from(step & 0xf).ok()?)?));
        }
        if let Some(rule) = self.rule {
            for k in 0..rule.count {
                let (part, at) = rule.change(k)?;
                list.push((at, part.after));
            }
        }
        Some(Changes {
            first: self.first,
            list: list.into_boxed_slice(),
        })
    }

    fn of(zone: IanaZone) -> Option<Table> {
        let mut cursor = Cursor { at: 0 };
        let zones = cursor.u16()?;
        let index = zone.0 as usize;
        if index >= zones {
            return None;
        }
        cursor.at = 2 + 2 * index;
        let table = cursor.u16()?;
        let tables_at = 2 + 2 * zones;
        cursor.at = tables_at;
        let tables = cursor.u16()?;
        if table >= tables {
            return None;
        }
        let start_at = tables_at + 2 + 4 * table;
        let start = u32::from_le_bytes([
            *TABLE.get(start_at)?,
            *TABLE.get(start_at + 1)?,
            *TABLE.get(start_at + 2)?,
            *TABLE.get(start_at + 3)?,
        ]);
        cursor.at = tables_at + 2 + 4 * tables + usize::try_from(start).ok()?;
        let mut palette = [0i32; 16];
        let size = usize::from(cursor.byte()?);
        for slot in palette.iter_mut().take(size) {
            *slot = i32::try_from(cursor.zigzag()?).ok()?;
        }
        let first = *palette.get(usize::from(cursor.byte()?))?;
        let count = cursor.varint()?;
        if count > 0 {
            // The last listed change, for a reader that skips the list; this
            // one lists every change once and keeps them.
            cursor.varint()?;
            cursor.byte()?;
        }
        let rule = if cursor.byte()? == 0 {
            None
        } else {
            Some(Table::rule(&palette, &mut cursor)?)
        };
        Some(Table {
            palette,
            first,
            count,
            rule,
            changes: cursor.at,
        })
    }

    fn rule(palette: &[i32; 16], cursor: &mut Cursor) -> Option<Rule> {
        let count = i64::try_from(cursor.varint()?).ok()?;
        let year = i32::try_from(cursor.varint()?).ok()?;
        let first = i64::from(cursor.byte()?);
        let mut part = || -> Option<Part> {
            Some(Part {
                month: u32::from(cursor.byte()?),
                day: u32::from(cursor.byte()?),
                weekday: i64::from(cursor.byte()?),
                time: i64::try_from(cursor.varint()?).ok()?,
                before: *palette.get(usize::from(cursor.byte()?))?,
                after: *palette.get(usize::from(cursor.byte()?))?,
            })
        };
        let parts = [part()?, part()?];
        (count > 0).then_some(Rule {
            count,
            year,
            first,
            parts,
        })
    }
}

#[cfg(test)]
#[path = "zones_build.rs"]
mod build;
