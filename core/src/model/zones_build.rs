//! Builds `zones.bin` from chrono-tz's tables, and holds the table to them:
//! the committed bytes are the ones generated now, and every zone's offsets,
//! changes and local-time lookups are chrono-tz's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;
use chrono::{DateTime, Datelike, Utc};

/// Sampling step: shorter than the shortest time between two changes of
/// offset of any zone (6.96 days), so one change at most lies in a step.
const SAMPLE_STEP: i64 = 5 * DAY;

fn chrono_offset(tz: chrono_tz::Tz, t: i64) -> i32 {
    let utc = DateTime::<Utc>::from_timestamp(t, 0).unwrap().naive_utc();
    tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
}

/// A zone's first offset and its changes of offset (instant, offset after),
/// found by sampling chrono-tz every five days and halving down to the second.
fn changes(tz: chrono_tz::Tz) -> (i32, Vec<(i64, i32)>) {
    let first = chrono_offset(tz, CHANGES_FROM);
    let mut list = Vec::new();
    let (mut lo, mut current) = (CHANGES_FROM, first);
    while lo < CHANGES_UNTIL {
        let next = (lo + SAMPLE_STEP).min(CHANGES_UNTIL);
        if chrono_offset(tz, next) == current {
            lo = next;
            continue;
        }
        let (mut a, mut b) = (lo, next);
        while b - a > 1 {
            let mid = a + (b - a) / 2;
            if chrono_offset(tz, mid) == current {
                a = mid;
            } else {
                b = mid;
            }
        }
        current = chrono_offset(tz, b);
        list.push((b, current));
        lo = b;
    }
    (first, list)
}

/// A change described in local terms under the offset before it.
#[derive(Clone, Copy)]
struct Local {
    before: i32,
    after: i32,
    year: i32,
    month: u32,
    weekday: i64,
    time: i64,
    /// Bit `d` (1-31): the weekday on or after day `d`; bit 0: the last.
    days: u32,
}

fn local(at: i64, before: i32, after: i32) -> Local {
    let wall = at + i64::from(before);
    let day_number = wall.div_euclid(DAY);
    let date = DateTime::<Utc>::from_timestamp(day_number * DAY, 0)
        .unwrap()
        .date_naive();
    let day = date.day();
    let mut days = 0u32;
    for d in day.saturating_sub(6).max(1)..=day {
        days |= 1 << d;
    }
    if i64::from(day) + 7 > last_day(date.year(), date.month()).unwrap() - days_of_first(date) + 1 {
        days |= 1;
    }
    Local {
        before,
        after,
        year: date.year(),
        month: date.month(),
        weekday: weekday(day_number),
        time: wall.rem_euclid(DAY),
        days,
    }
}

/// Days since the epoch of the first of `date`'s month.
fn days_of_first(date: NaiveDate) -> i64 {
    days(NaiveDate::from_ymd_opt(date.year(), date.month(), 1).unwrap())
}

/// The longest tail of `list` that a yearly rule of two parts describes:
/// its start in `list`, the rule, or `None` under six changes.
fn rule_of(list: &[Local]) -> Option<(usize, [Local; 2], [u32; 2], usize)> {
    let n = list.len();
    if n < 6 {
        return None;
    }
    let (a, b) = (list[n - 2], list[n - 1]);
    if a.month == b.month {
        return None;
    }
    // Part 0 is the earlier month's; `b` is part `last_part`.
    let last_part = usize::from(b.month > a.month);
    let mut refs = [a, a];
    refs[last_part] = b;
    refs[1 - last_part] = a;
    let mut masks = [u32::MAX, u32::MAX];
    let mut start = n;
    for i in (0..n).rev() {
        let part = if (n - 1 - i).is_multiple_of(2) {
            last_part
        } else {
            1 - last_part
        };
        let c = list[i];
        let r = refs[part];
        let same = c.month == r.month
            && c.weekday == r.weekday
            && c.time == r.time
            && c.before == r.before
            && c.after == r.after;
        let mask = masks[part] & c.days;
        let year_ok = i + 1 == n || {
            let next = list[i + 1];
            if part == 0 {
                c.year == next.year
            } else {
                c.year + 1 == next.year
            }
        };
        if !same || mask == 0 || !year_ok {
            break;
        }
        masks[part] = mask;
        start = i;
    }
    if n - start < 6 {
        return None;
    }
    let first_part = if (n - 1 - start).is_multiple_of(2) {
        last_part
    } else {
        1 - last_part
    };
    Some((start, refs, masks, first_part))
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn zigzag(out: &mut Vec<u8>, value: i64) {
    varint(out, ((value << 1) ^ (value >> 63)) as u64);
}

/// One table's bytes.
fn encode(first: i32, list: &[(i64, i32)]) -> Vec<u8> {
    let mut palette = vec![first];
    for &(_, offset) in list {
        if !palette.contains(&offset) {
            palette.push(offset);
        }
    }
    assert!(palette.len() <= 16, "more than 16 offsets in one zone");
    let index = |offset: i32| palette.iter().position(|&o| o == offset).unwrap() as u8;
    let mut locals = Vec::new();
    let mut before = first;
    for &(at, after) in list {
        locals.push(local(at, before, after));
        before = after;
    }
    let rule = rule_of(&locals);
    let listed = rule.map_or(list.len(), |(start, ..)| start);

    let mut out = vec![palette.len() as u8];
    for &offset in &palette {
        zigzag(&mut out, i64::from(offset));
    }
    out.push(index(first));
    varint(&mut out, listed as u64);
    if let Some(&(at, after)) = list[..listed].last() {
        varint(&mut out, (at - CHANGES_FROM) as u64);
        out.push(index(after));
    }
    match rule {
        None => out.push(0),
        Some((start, refs, masks, first_part)) => {
            out.push(1);
            varint(&mut out, (list.len() - start) as u64);
            varint(&mut out, locals[start].year as u64);
            out.push(first_part as u8);
            for part in 0..2 {
                let r = refs[part];
                // The last weekday when it fits, else the lowest day that does.
                let day = if masks[part] & 1 == 1 {
                    0
                } else {
                    masks[part].trailing_zeros() as u8
                };
                out.extend([r.month as u8, day, r.weekday as u8]);
                varint(&mut out, r.time as u64);
                out.extend([index(r.before), index(r.after)]);
            }
        }
    }
    let mut previous = CHANGES_FROM;
    for &(at, after) in &list[..listed] {
        assert!(at > previous);
        varint(
            &mut out,
            ((at - previous) as u64) << 4 | u64::from(index(after)),
        );
        previous = at;
    }
    out
}

/// A zone, its first offset and its changes (instant, offset after).
type Changes = (chrono_tz::Tz, i32, Vec<(i64, i32)>);

/// Every zone's changes, in the order of chrono-tz's enum.
fn all_changes() -> Vec<Changes> {
    let mut zones: Vec<_> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|&tz| {
            let (first, list) = changes(tz);
            (tz, first, list)
        })
        .collect();
    zones.sort_by_key(|(tz, ..)| *tz as usize);
    zones
}

/// `zones.bin` as chrono-tz's tables give it.
fn generate(zones: &[Changes]) -> Vec<u8> {
    let mut tables: Vec<Vec<u8>> = Vec::new();
    let mut numbers = Vec::new();
    for (position, (tz, first, list)) in zones.iter().enumerate() {
        assert_eq!(*tz as usize, position);
        let bytes = encode(*first, list);
        let number = match tables.iter().position(|t| *t == bytes) {
            Some(number) => number,
            None => {
                tables.push(bytes);
                tables.len() - 1
            }
        };
        numbers.push(number as u16);
    }
    let mut out = Vec::new();
    out.extend((zones.len() as u16).to_le_bytes());
    for number in numbers {
        out.extend(number.to_le_bytes());
    }
    out.extend((tables.len() as u16).to_le_bytes());
    let mut start = 0u32;
    for table in &tables {
        out.extend(start.to_le_bytes());
        start += table.len() as u32;
    }
    for table in tables {
        out.extend(table);
    }
    out
}

/// chrono-tz's own answer for a local time, as offsets in seconds.
fn chrono_local(tz: chrono_tz::Tz, local: i64) -> LocalResult<i32> {
    let naive = DateTime::<Utc>::from_timestamp(local, 0)
        .unwrap()
        .naive_utc();
    tz.offset_from_local_datetime(&naive)
        .map(|o| o.fix().local_minus_utc())
}

/// How to write `zones.bin` anew: core touches no file, so the table goes
/// out on stdout as base64 and the shell writes it.
const REGENERATE: &str = "run `cargo test -q -p entitle-core --lib print_zones_bin -- --ignored --nocapture | sed -n 's/^zones.bin://p' | base64 -d > core/src/model/zones.bin`";

/// Prints the table generated from chrono-tz's, for [`REGENERATE`].
#[test]
#[ignore = "prints zones.bin for regeneration; run by hand"]
fn print_zones_bin() {
    use base64::Engine as _;
    let bytes = generate(&all_changes());
    println!(
        "zones.bin:{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    );
}

#[test]
fn the_table_is_generated_from_chrono_tz_and_agrees_with_it() {
    let zones = all_changes();
    let bytes = generate(&zones);
    assert!(
        bytes == TABLE,
        "zones.bin is not what chrono-tz's tables give: {REGENERATE}"
    );
    let mut seen = std::collections::HashSet::new();
    for (tz, first, list) in &zones {
        let zone = IanaZone(*tz);
        // Local times once per distinct table: links repeat their zone's.
        let new = seen.insert((*first, list.clone()));
        assert_eq!(zone.name(), tz.name());
        assert_eq!(IanaZone::from_name(tz.name()), Some(zone));
        // Every change to the second, and the offset far before and after.
        assert_eq!(zone.offset_at(i64::MIN / 2), *first, "{tz}");
        assert_eq!(zone.offset_at(CHANGES_FROM), *first, "{tz}");
        let mut before = *first;
        for (k, &(at, after)) in list.iter().enumerate() {
            assert_eq!(zone.offset_at(at - 1), before, "{tz} before {at}");
            assert_eq!(zone.offset_at(at), after, "{tz} at {at}");
            assert_eq!(zone.lookup(at - 1), Some((before, Some(at))), "{tz} {at}");
            let next = list.get(k + 1).map(|&(t, _)| t);
            assert_eq!(zone.lookup(at), Some((after, next)), "{tz} {at}");
            // Local times around the change, under both offsets.
            for base in [at + i64::from(before), at + i64::from(after)]
                .into_iter()
                .filter(|_| new)
            {
                for delta in [-3601, -3600, -1801, -1, 0, 1, 1799, 3599, 3600] {
                    let wall = base + delta;
                    assert_eq!(
                        zone.local_offsets(wall),
                        chrono_local(*tz, wall),
                        "{tz} local {wall}"
                    );
                }
            }
            before = after;
        }
        let last = list.last().map_or(*first, |&(_, o)| o);
        assert_eq!(zone.offset_at(CHANGES_UNTIL), last, "{tz}");
        assert_eq!(zone.offset_at(i64::MAX / 2), last, "{tz}");
    }
}

#[test]
fn local_times_agree_with_chrono_tz_every_few_hours_in_a_few_zones() {
    for name in [
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
        "America/Santiago",
        "Africa/Casablanca",
        "Asia/Gaza",
        "Pacific/Apia",
        "Europe/Dublin",
    ] {
        let tz: chrono_tz::Tz = name.parse().unwrap();
        let zone = IanaZone(tz);
        let mut wall = 1_500_000_000;
        while wall < 2_200_000_000 {
            assert_eq!(
                zone.local_offsets(wall),
                chrono_local(tz, wall),
                "{name} {wall}"
            );
            assert_eq!(
                zone.offset_at(wall),
                chrono_offset(tz, wall),
                "{name} {wall}"
            );
            wall += 3 * 3600 + 17;
        }
    }
}
