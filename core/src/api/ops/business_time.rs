//! `business_time`: business-time arithmetic on a calendar given inline or
//! named from a bundle's `calendars`. `add` counts business seconds forward
//! from an instant, `elapsed` measures the business seconds between two,
//! `next` finds the first business instant at or after one. Each answer
//! repeats its inputs and gives the result in the calendar's local time too,
//! so a reader can check it by hand; see `docs/calendars.md`.

use chrono::{SecondsFormat, Timelike};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::api::envelope::{failure, success};
use crate::api::op::Op;
use crate::error::{Conflict, Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;
use crate::model::time::{Timestamp, Zone};
use crate::reading::bundle::read_bundle_field;
use crate::reading::bundle::BundleMeta;
use crate::reading::json;
use crate::reading::signed::KeySet;
use crate::support::calendar::{Calendar, CalendarError, MAX_ADD_SECONDS};

/// What a `business_time` request computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Add,
    Elapsed,
    Next,
}

impl Action {
    const ALL: [Action; 3] = [Action::Add, Action::Elapsed, Action::Next];

    fn name(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Elapsed => "elapsed",
            Action::Next => "next",
        }
    }

    /// The instants and durations this action reads.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Action::Add => &["at", "seconds"],
            Action::Elapsed => &["from", "to"],
            Action::Next => &["at"],
        }
    }
}

/// The fields some action reads; a request may carry only its own action's.
const ACTION_FIELDS: [&str; 4] = ["at", "seconds", "from", "to"];

/// The answer to `business_time`; which fields appear depends on the action.
#[derive(Debug, Serialize)]
struct Answer<'a> {
    action: &'static str,
    /// The bundle calendar's name, when the request named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    calendar: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<Timestamp>,
    /// `add`: the duration added; `elapsed`: the business seconds measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Timestamp>,
    /// The result as local RFC 3339 with the zone's offset at that instant.
    #[serde(skip_serializing_if = "Option::is_none")]
    local: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_zone: Option<Zone>,
    /// `next`: whether `at` itself is business time.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_business_hours: Option<bool>,
}

/// Answers a `business_time` request; `errors` holds what was already found
/// wrong with the request, `preloaded` the bundle it was sent to, if any.
pub(crate) fn business_time(
    fields: &mut Map<String, Value>,
    keys: Option<&KeySet>,
    preloaded: Option<(&Bundle, &BundleMeta)>,
    mut errors: Vec<Error>,
) -> String {
    let root = JsonPath::root();
    let action = read_action(fields.remove("action"), &mut errors);
    if let Some(action) = action {
        for field in ACTION_FIELDS {
            if !action.fields().contains(&field) && fields.remove(field).is_some() {
                errors.push(Error::UnknownField {
                    path: root.key(field),
                    field: field.to_string(),
                });
            }
        }
    }

    // The calendar: a name, or the document itself.
    let calendar_value = fields.remove("calendar");
    let mut named: Option<String> = None;
    let mut inline: Option<Calendar> = None;
    match calendar_value {
        Some(Value::String(name)) => named = Some(name),
        Some(value) => match json::typed::<Calendar>(value, &root.key("calendar")) {
            Ok(calendar) => match calendar.check_has_hours(&root.key("calendar")) {
                Some(e) => errors.push(e),
                None => inline = Some(calendar),
            },
            Err(e) => errors.push(e),
        },
        None => errors.push(Error::MissingField {
            path: root.key("calendar"),
            field: String::from("calendar"),
        }),
    }

    // The bundle: preloaded, or inside the request (needed for a name only).
    let owned;
    let bundle = match (preloaded, fields.remove("bundle")) {
        (Some(_), Some(_)) => {
            errors.push(Error::Contradiction {
                path: root.key("bundle"),
                detail: String::from("a bundle is already loaded; the request must not carry one"),
                code: Conflict::BundlePreloaded,
            });
            return failure(errors, preloaded.map(|(_, meta)| meta));
        }
        (Some(loaded), None) => Some(loaded),
        (None, Some(value)) => match read_bundle_field(value, keys, &root.key("bundle")) {
            Ok((bundle, meta, _)) => {
                owned = (bundle, meta);
                Some((&owned.0, &owned.1))
            }
            Err(mut bundle_errors) => {
                errors.append(&mut bundle_errors);
                return failure(errors, None);
            }
        },
        (None, None) => {
            if named.is_some() {
                errors.push(Error::MissingField {
                    path: root.key("bundle"),
                    field: String::from("bundle"),
                });
            }
            None
        }
    };
    let meta = bundle.map(|(_, meta)| meta);
    let calendar = match (&named, inline.as_ref(), bundle) {
        (Some(name), _, Some((bundle, _))) => {
            let found = bundle
                .calendars
                .iter()
                .find(|(id, _)| id.as_str() == name)
                .map(|(_, calendar)| calendar);
            if found.is_none() {
                errors.push(Error::UnknownReference {
                    path: root.key("calendar"),
                    kind: RefKind::Calendar,
                    name: name.clone(),
                });
            }
            found
        }
        (None, Some(calendar), _) => Some(calendar),
        _ => None,
    };

    let at =
        crate::api::request::optional::<Timestamp>(fields, "at", &mut errors).map(whole_second);
    let from =
        crate::api::request::optional::<Timestamp>(fields, "from", &mut errors).map(whole_second);
    let to =
        crate::api::request::optional::<Timestamp>(fields, "to", &mut errors).map(whole_second);
    let seconds = crate::api::request::optional::<u64>(fields, "seconds", &mut errors);
    if let Some(seconds) = seconds.filter(|s| *s > MAX_ADD_SECONDS) {
        errors.push(Error::OutOfRange {
            path: root.key("seconds"),
            detail: format!(
                "`{seconds}` seconds is more than the {MAX_ADD_SECONDS} (200 years) accepted"
            ),
        });
    }
    if let Some(action) = action {
        let given = [
            ("at", at.is_some()),
            ("seconds", seconds.is_some()),
            ("from", from.is_some()),
            ("to", to.is_some()),
        ];
        for (field, present) in given {
            if action.fields().contains(&field) && !present && !has_error_at(&errors, field) {
                errors.push(Error::MissingField {
                    path: root.key(field),
                    field: field.to_string(),
                });
            }
        }
    }
    let (Some(action), Some(calendar)) = (action, calendar) else {
        return failure(errors, meta);
    };
    if !errors.is_empty() {
        return failure(errors, meta);
    }

    let mut answer = Answer {
        action: action.name(),
        calendar: named.as_deref(),
        at: None,
        from: None,
        to: None,
        seconds: None,
        result: None,
        local: None,
        time_zone: None,
        in_business_hours: None,
    };
    let computed = match (action, at, from, to, seconds) {
        (Action::Add, Some(at), _, _, Some(seconds)) => calendar
            .add(at, seconds)
            .map(|result| {
                answer.at = Some(at);
                answer.seconds = Some(seconds);
                answer.place(calendar, result);
            })
            .map_err(|e| calendar_error(e, "seconds")),
        (Action::Elapsed, _, Some(from), Some(to), _) => {
            answer.from = Some(from);
            answer.to = Some(to);
            answer.seconds = Some(calendar.elapsed(from, to));
            Ok(())
        }
        (Action::Next, Some(at), _, _, _) => calendar
            .next_business(at)
            .map(|result| {
                answer.at = Some(at);
                answer.place(calendar, result);
                answer.in_business_hours = Some(result == at);
            })
            .map_err(|e| calendar_error(e, "at")),
        // Every field the action needs was checked above; should one
        // still be missing, it is reported as such.
        _ => {
            let field = action.fields().first().copied().unwrap_or("at");
            Err(Error::MissingField {
                path: root.key(field),
                field: field.to_string(),
            })
        }
    };
    match computed {
        Ok(()) => success(Op::BusinessTime, &answer, meta),
        Err(e) => failure(vec![e], meta),
    }
}

impl Answer<'_> {
    /// Sets the result, its local time and the zone it is written in.
    fn place(&mut self, calendar: &Calendar, result: Timestamp) {
        let local = result.utc().with_timezone(&calendar.time_zone.0);
        self.result = Some(result);
        self.local = Some(local.to_rfc3339_opts(SecondsFormat::Secs, false));
        self.time_zone = Some(calendar.time_zone);
    }
}

/// The engine error for a calendar search: no business time is the
/// calendar's fault, a result out of range the `field`'s.
fn calendar_error(error: CalendarError, field: &str) -> Error {
    let root = JsonPath::root();
    match error {
        CalendarError::NoBusinessTime { .. } => error.into_error(root.key("calendar")),
        CalendarError::OutOfRange | CalendarError::PastLastInstant => {
            error.into_error(root.key(field))
        }
    }
}

/// Reads `action`: missing, not a string, or naming no action is an error.
fn read_action(value: Option<Value>, errors: &mut Vec<Error>) -> Option<Action> {
    let path = JsonPath::root().key("action");
    match value {
        Some(Value::String(name)) => {
            let found = Action::ALL.into_iter().find(|a| a.name() == name);
            if found.is_none() {
                errors.push(Error::WrongType {
                    path,
                    detail: format!("unknown action `{name}`, expected `add`, `elapsed` or `next`"),
                });
            }
            found
        }
        Some(_) => {
            errors.push(Error::WrongType {
                path,
                detail: String::from("`action` is a string: `add`, `elapsed` or `next`"),
            });
            None
        }
        None => {
            errors.push(Error::MissingField {
                path,
                field: String::from("action"),
            });
            None
        }
    }
}

/// Whether a problem with the top-level `field` was already reported.
fn has_error_at(errors: &[Error], field: &str) -> bool {
    let path = JsonPath::root().key(field);
    errors.iter().any(|e| e.path() == &path)
}

/// The instant without its fraction of a second, as the arithmetic counts.
fn whole_second(t: Timestamp) -> Timestamp {
    t.utc()
        .with_nanosecond(0)
        .and_then(Timestamp::from_utc)
        .unwrap_or(t)
}
