//! Schemas of the leaf types whose reading is written by hand: ids, instants,
//! dates, zones, currencies, decimal strings and local times. Each states
//! what its reader takes, as a pattern, a format or the list of names.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;

use crate::billing::credit::Percent;
use crate::error::JsonPath;
use crate::model::ids;
use crate::model::money::{Currency, Price};
use crate::model::time::{Date, Timestamp, Zone};
use crate::support::calendar::TimeOfDay;

/// An id: 1 to 128 ASCII letters, digits, `_`, `-`, `.` or `:`.
pub const ID: &str = "^[A-Za-z0-9_.:-]{1,128}$";

/// RFC 3339 as the reader takes it: a four-digit year, `T`, `t` or a space
/// between date and time, optional fractional seconds, and `Z` (any case)
/// or a `+hh:mm`/`-hh:mm` offset. `format: date-time` checks the calendar.
pub const TIMESTAMP: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$";

/// A date, `YYYY-MM-DD`; `format: date` checks the calendar.
pub const DATE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

/// Plain decimal notation at or above zero, at most 28 decimal places (a
/// negative zero is zero, so it is taken too), and at most 28 significant
/// digits: the lookahead counts the digits after any leading zeros.
pub const DECIMAL: &str =
    "^(?:(?=0*\\.?0*(?:[0-9]\\.?){1,28}$)[0-9]+(?:\\.[0-9]{1,28})?|-0+(?:\\.0{1,28})?)$";

/// A percentage: a [`DECIMAL`] from 0 to 100.
pub const PERCENT: &str = "^(?:(?=0*\\.?0*(?:[0-9]\\.?){1,28}$)0*(?:[0-9]{1,2}(?:\\.[0-9]{1,28})?|100(?:\\.0{1,28})?)|-0+(?:\\.0{1,28})?)$";

/// A [`DECIMAL`] above zero (a digit other than `0` somewhere).
pub const POSITIVE_DECIMAL: &str =
    "^(?=[^1-9]*[1-9])(?=0*\\.?0*(?:[0-9]\\.?){1,28}$)[0-9]+(?:\\.[0-9]{1,28})?$";

/// A local time of day, `00:00` to `24:00`.
pub const TIME_OF_DAY: &str = "^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$";

macro_rules! id_schemas {
    ($($name:ident: $what:literal),* $(,)?) => {$(
        impl JsonSchema for ids::$name {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "description": concat!(
                        "The id of ", $what,
                        ": 1 to 128 letters, digits, `_`, `-`, `.` or `:`."
                    ),
                    "type": "string",
                    "pattern": ID,
                })
            }
        }
    )*};
}

id_schemas!(
    FeatureId: "a feature of the bundle (a metered feature doubles as a metric)",
    TierId: "a tier of the bundle",
    AddOnId: "an add-on of the bundle",
    ExceptionId: "an exception granted on a license",
    LicenseId: "a license",
    InstallationId: "an installation or host that telemetry reports",
    CustomerId: "a customer",
    BundleId: "a bundle, across its versions",
    ControlId: "a governance control the bundle declares",
    KeyId: "a public key of a key set",
    CalendarId: "a business calendar the bundle declares",
    CaseId: "a support case",
    CategoryId: "a category of support case",
    PhaseId: "a phase of a case's handling",
    SeverityId: "a severity the bundle declares",
    RoleId: "a role that owns, escalates, overrides or pauses cases",
    EvidenceId: "a kind of evidence a category requires",
    SignalId: "a risk signal raised on a case",
    TemplateId: "a message template",
);

/// A string schema with a description, a pattern and, when given, a format.
fn text(description: &str, pattern: &str, format: Option<&str>) -> Schema {
    let mut schema = json_schema!({
        "description": description,
        "type": "string",
        "pattern": pattern,
    });
    if let Some(format) = format {
        schema.insert("format".into(), format.into());
    }
    schema
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Timestamp")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        text(
            "An instant in RFC 3339 with an offset, e.g. `2026-01-31T09:00:00Z`.",
            TIMESTAMP,
            Some("date-time"),
        )
    }
}

impl JsonSchema for Date {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Date")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        text(
            "A calendar date without a zone, `YYYY-MM-DD`.",
            DATE,
            Some("date"),
        )
    }
}

impl JsonSchema for Zone {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("TimeZone")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
        names.sort_unstable();
        names.dedup();
        json_schema!({
            "description": "An IANA time zone name, e.g. `Europe/Berlin`, as the engine's time zone database spells it.",
            "type": "string",
            "enum": names,
        })
    }
}

impl JsonSchema for Currency {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Currency")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // Every three upper-case letters the reader takes: ISO 4217 codes
        // with a minor unit of at most 4 decimals.
        let letters = b'A'..=b'Z';
        let codes: Vec<Value> = letters
            .clone()
            .flat_map(|a| letters.clone().map(move |b| (a, b)))
            .flat_map(|(a, b)| letters.clone().map(move |c| [a, b, c]))
            .filter_map(|code| {
                let code = std::str::from_utf8(&code).ok()?.to_string();
                Currency::from_code(&code, &JsonPath::root()).ok()?;
                Some(Value::String(code))
            })
            .collect();
        json_schema!({
            "description": "An ISO 4217 currency code with a minor unit, upper case, e.g. `USD`.",
            "type": "string",
            "enum": codes,
        })
    }
}

impl JsonSchema for Price {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Decimal")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        text(
            "An exact amount as a decimal string in major units (`\"0.0015\"`, not a JSON number): digits, optionally `.` and 1 to 28 digits, at most 28 significant digits; never negative.",
            DECIMAL,
            None,
        )
    }
}

impl JsonSchema for Percent {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Percent")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        text(
            "A percentage from 0 to 100 as a decimal string, e.g. `\"99.95\"`.",
            PERCENT,
            None,
        )
    }
}

impl JsonSchema for TimeOfDay {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("TimeOfDay")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        text(
            "A local wall-clock time, `HH:MM`, from `00:00` to `24:00` (the end of the day).",
            TIME_OF_DAY,
            None,
        )
    }
}
