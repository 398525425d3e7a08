//! Business-time arithmetic checked against an independent implementation:
//! the Python package `businesstimedelta` (with pytz), pinned in
//! `tests/reference/requirements.txt` and installed by `tests/setup.sh`.
//!
//! `tests/reference/calendar_cases.py` generates calendars and instants from
//! a fixed seed (every zone of the calendar tests, starts around the clock
//! changes of 2025-2028, lunch breaks, whole-day holidays, starts outside
//! hours and at openings and closings, spans up to a year) and answers each
//! case with the package. This test computes the same cases with
//! `entitle_core::support::calendar` and requires every answer to be equal. The
//! cases the two define differently are left out by the generator; each such
//! choice is listed in `docs/calendars.md` ("Checked against an independent
//! implementation"). To see the cases one of them keeps out, set
//! `CALENDAR_REFERENCE_LIFT` to its name (several: comma-separated; the names
//! are in the script): the test then reports the differences they bring.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::Command;

use chrono::{Datelike, NaiveDate, Timelike};
use entitle_core::model::time::{Timestamp, Zone};
use entitle_core::support::calendar::Calendar;
use serde::Deserialize;

const SEED: u64 = 20_261_101;
const COUNT: usize = 1_200;
const MIN_COMPARED: usize = 1_000;

/// What the script prints.
#[derive(Deserialize)]
struct Answers {
    package: String,
    pytz: String,
    seed: u64,
    lifted: Vec<String>,
    /// Cases left out because the package did not answer (only when a
    /// restriction is lifted).
    hung: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: usize,
    op: String,
    /// The calendar in entitle's JSON form.
    calendar: serde_json::Value,
    /// How the package's rules were built from it.
    rules: String,
    start: i64,
    /// `add`: business seconds to add.
    #[serde(default)]
    seconds: Option<u64>,
    /// `elapsed`: the end instant.
    #[serde(default)]
    to: Option<i64>,
    /// The package's answer: an instant (unix seconds) for `add` and
    /// `next_business`, business seconds for `elapsed`.
    theirs: i64,
    tags: Vec<String>,
}

fn ts(unix: i64) -> Timestamp {
    Timestamp::from_unix(unix).unwrap()
}

fn hms(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    format!("{sign}{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
}

fn when(calendar: &Calendar, unix: i64) -> String {
    let t = ts(unix);
    format!("{t} (local {})", calendar.time_zone.local(t))
}

/// A third opinion for the diff of a mismatch: steps one minute at a time
/// asking only whether the local minute lies in a weekly interval (or the
/// part after midnight of the previous day's) and outside the date's
/// holidays. Every boundary is a whole local minute and every zone here is
/// a whole number of minutes from UTC, so a UTC minute is wholly business
/// time or not. It counts wall-clock minutes, so it differs from both where
/// a boundary lies inside a repeated hour (`docs/calendars.md`).
struct Stepping {
    zone: Zone,
    /// Per weekday from Monday, (start, end) minutes; `end` above 1440 runs
    /// into the next day.
    weekly: Vec<Vec<(u32, u32)>>,
    holidays: Vec<(NaiveDate, u32, u32)>,
}

/// How far the stepping looks: 400 days of minutes.
const STEPPING_LIMIT: i64 = 400 * 1440;

impl Stepping {
    fn new(json: &serde_json::Value, calendar: &Calendar) -> Stepping {
        let minutes = |v: &serde_json::Value| {
            let t = v.as_str().unwrap();
            t[..2].parse::<u32>().unwrap() * 60 + t[3..].parse::<u32>().unwrap()
        };
        let days = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        let weekly = days
            .iter()
            .map(|d| {
                json["weekly"][d]
                    .as_array()
                    .map(|ivs| {
                        ivs.iter()
                            .map(|iv| {
                                let (s, e) = (minutes(&iv[0]), minutes(&iv[1]));
                                (s, if e <= s { e + 1440 } else { e })
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let holidays = json["holidays"]
            .as_array()
            .map(|hs| {
                hs.iter()
                    .map(|h| {
                        let date = h["date"].as_str().unwrap().parse().unwrap();
                        let from = h.get("from").map_or(0, minutes);
                        let to = h.get("to").map_or(1440, minutes);
                        (date, from, to)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Stepping {
            zone: calendar.time_zone,
            weekly,
            holidays,
        }
    }

    fn business(&self, minute: i64) -> bool {
        let local = self.zone.local(ts(minute * 60));
        let (date, m) = (local.date(), local.hour() * 60 + local.minute());
        let day = |d: NaiveDate| d.weekday().num_days_from_monday() as usize;
        let today = self.weekly[day(date)]
            .iter()
            .any(|&(s, e)| s <= m && m < e.min(1440));
        let yesterday = date.pred_opt().unwrap();
        let tail = self.weekly[day(yesterday)]
            .iter()
            .any(|&(_, e)| e > 1440 && m < e - 1440);
        let holiday = self
            .holidays
            .iter()
            .any(|&(d, f, t)| d == date && f <= m && m < t);
        (today || tail) && !holiday
    }

    fn elapsed(&self, from: i64, to: i64) -> Option<i64> {
        if to <= from {
            return Some(0);
        }
        let (first, last) = (from.div_euclid(60), (to - 1).div_euclid(60));
        if last - first > STEPPING_LIMIT {
            return None;
        }
        let counted = (first..=last)
            .filter(|&u| self.business(u))
            .map(|u| (u * 60 + 60).min(to) - (u * 60).max(from))
            .sum();
        Some(counted)
    }

    /// `add`, and with zero seconds `next_business`.
    fn add(&self, start: i64, seconds: u64) -> Option<i64> {
        let mut left = seconds as i64;
        let mut t = start;
        let first = start.div_euclid(60);
        for u in first..first + STEPPING_LIMIT {
            if self.business(u) {
                let available = u * 60 + 60 - t;
                if left < available || (left > 0 && left == available) {
                    return Some(t + left);
                }
                left -= available;
            }
            t = u * 60 + 60;
        }
        None
    }
}

/// The script's answers, or a panic that says what is missing and how to
/// install it.
fn run_script() -> Answers {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = manifest.join("reference").join("calendar_cases.py");
    let python = std::env::var("ENTITLE_PYTHON").unwrap_or_else(|_| String::from("python3"));
    let mut command = Command::new(&python);
    command
        .arg(&script)
        .args(["--seed", &SEED.to_string(), "--count", &COUNT.to_string()]);
    if let Ok(lift) = std::env::var("CALENDAR_REFERENCE_LIFT") {
        for name in lift.split(',').filter(|n| !n.trim().is_empty()) {
            command.args(["--lift", name.trim()]);
        }
    }
    let output = command.output();
    let output = match output {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "`{python}` was not found: this test needs Python 3 (Debian: apt-get install \
             python3 python3-pip), then `bash tests/setup.sh` to install the pinned \
             businesstimedelta and pytz into tests/reference/pylib"
        ),
        Err(e) => panic!("cannot run `{python} {}`: {e}", script.display()),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) {
        panic!("the reference package is missing: {stderr}");
    }
    if !output.status.success() {
        panic!(
            "`{python} {}` failed ({}):\n{stderr}",
            script.display(),
            output.status
        );
    }
    eprint!("{stderr}");
    serde_json::from_slice(&output.stdout).expect("the script's output is not the expected JSON")
}

/// Ours for one case, or the readable diff when it differs from theirs.
fn compare(case: &Case) -> Result<(), String> {
    let calendar: Calendar = serde_json::from_value(case.calendar.clone())
        .map_err(|e| format!("case {}: entitle refuses the calendar: {e}", case.id))?;
    let start = ts(case.start);
    let (ours, input) = match case.op.as_str() {
        "add" => {
            let n = case.seconds.expect("an add case has seconds");
            let ours = calendar
                .add(start, n)
                .map(|t| t.unix())
                .map_err(|e| e.to_string());
            (ours, format!("seconds:  {n} ({})", hms(n as i64)))
        }
        "next_business" => {
            let ours = calendar
                .next_business(start)
                .map(|t| t.unix())
                .map_err(|e| e.to_string());
            (ours, String::new())
        }
        "elapsed" => {
            let to = case.to.expect("an elapsed case has `to`");
            let ours = calendar.elapsed(start, ts(to)) as i64;
            (Ok(ours), format!("to:       {}", when(&calendar, to)))
        }
        other => return Err(format!("case {}: unknown op `{other}`", case.id)),
    };
    if ours.as_ref() == Ok(&case.theirs) {
        return Ok(());
    }
    let show = |value: i64| {
        if case.op == "elapsed" {
            format!("{value} s ({})", hms(value))
        } else {
            when(&calendar, value)
        }
    };
    let ours_text = match &ours {
        Ok(value) => format!(
            "{}   ours - theirs = {}",
            show(*value),
            hms(value - case.theirs)
        ),
        Err(e) => format!("error: {e}"),
    };
    let mut diff = format!(
        "case {} {} [{}]\n  calendar: {}\n  package:  {}\n  start:    {}\n",
        case.id,
        case.op,
        case.tags.join(", "),
        case.calendar,
        case.rules,
        when(&calendar, case.start),
    );
    if !input.is_empty() {
        diff.push_str(&format!("  {input}\n"));
    }
    let stepping = Stepping::new(&case.calendar, &calendar);
    let third = match case.op.as_str() {
        "add" => stepping.add(case.start, case.seconds.unwrap_or(0)),
        "next_business" => stepping.add(case.start, 0),
        _ => stepping.elapsed(case.start, case.to.unwrap_or(case.start)),
    };
    diff.push_str(&format!(
        "  theirs:   {}\n  ours:     {ours_text}\n  stepping: {}\n",
        show(case.theirs),
        third.map_or_else(|| String::from("(too far to step)"), show)
    ));
    Err(diff)
}

#[test]
fn agrees_with_businesstimedelta() {
    let answers = run_script();
    assert_eq!(answers.seed, SEED);
    let mut mismatches = Vec::new();
    let mut per_op = std::collections::BTreeMap::<&str, usize>::new();
    for case in &answers.cases {
        *per_op.entry(case.op.as_str()).or_default() += 1;
        if let Err(diff) = compare(case) {
            mismatches.push(diff);
        }
    }
    for diff in &mismatches {
        eprintln!("{diff}");
    }
    let ops: Vec<String> = per_op.iter().map(|(op, n)| format!("{op} {n}")).collect();
    println!(
        "calendar_reference: compared {} cases ({}) with {} (pytz {}), seed {}{}: {} differ",
        answers.cases.len(),
        ops.join(", "),
        answers.package,
        answers.pytz,
        answers.seed,
        if answers.lifted.is_empty() {
            String::new()
        } else {
            format!(", restrictions lifted: {}", answers.lifted.join(", "))
        },
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from businesstimedelta (diffs above)",
        mismatches.len(),
        answers.cases.len()
    );
    assert_eq!(answers.hung, 0, "the package did not answer some cases");
    assert!(
        answers.cases.len() >= MIN_COMPARED,
        "only {} cases compared, fewer than {MIN_COMPARED}",
        answers.cases.len()
    );
}
