//! Schemas of the objects read through a flat form and then checked by
//! hand (a tag choosing which fields may be given, one of two forms, pairs
//! of local times), and of the key set and the signed envelope. A field of
//! another variant may be absent or `null`, as the reader takes it.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::billing::charge::{Band, ChargeModel};
use crate::model::bundle::{AfterGrace, ControlType, Enforcement, GraceAllowance, Limit};
use crate::model::ids::{FeatureId, KeyId};
use crate::model::money::Price;
use crate::support::calendar::{Calendar, Holiday, Interval, TimeOfDay, Weekly};

use super::scalars::POSITIVE_DECIMAL;
use crate::model::route::{Route, RouteAsk, StoreFailure};
use crate::model::time::{Date, Zone};
use crate::reading::signed::{DocumentKind, KeySet, FORMAT, MAX_KEYS};

/// A property that the reader takes only absent or `null` here.
fn null() -> Value {
    json!({"type": "null"})
}

/// A closed object: `required` fields, `properties` in order, nothing else.
fn object(description: &str, required: &[&str], properties: Vec<(&str, Value)>) -> Value {
    let properties: Map<String, Value> = properties
        .into_iter()
        .map(|(name, schema)| (name.to_string(), schema))
        .collect();
    json!({
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// `schema`, or `null`: an `Option` field the reader reads as absent.
fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

/// The schema of a JSON object built here.
fn schema(value: Value) -> Schema {
    match value {
        Value::Object(map) => Schema::from(map),
        _ => Schema::default(),
    }
}

fn sub<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

fn one_of(description: &str, variants: Vec<Value>) -> Schema {
    json_schema!({"description": description, "oneOf": variants})
}

macro_rules! named {
    ($name:literal) => {
        fn schema_name() -> Cow<'static, str> {
            Cow::Borrowed($name)
        }
    };
}

impl JsonSchema for Limit {
    named!("Limit");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        one_of(
            "Units per period: a whole number, or `\"unlimited\"`.",
            vec![sub::<u64>(generator), json!({"const": "unlimited"})],
        )
    }
}

impl JsonSchema for GraceAllowance {
    named!("GraceAllowance");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let percent = json!({
            "description": "A percentage of the limit above zero, as a decimal string; rounded down to whole units.",
            "type": "string",
            "pattern": POSITIVE_DECIMAL,
        });
        one_of(
            "Extra units a soft quota allows: `{\"percent\": \"10\"}` or `{\"units\": 50}`.",
            vec![
                object(
                    "A share of the limit.",
                    &["percent"],
                    vec![("percent", percent)],
                ),
                object(
                    "A number of units.",
                    &["units"],
                    vec![("units", sub::<u64>(generator))],
                ),
            ],
        )
    }
}

impl JsonSchema for StoreFailure {
    named!("StoreFailure");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        one_of(
            "What a gateway of a fleet does with a consuming check of this feature while the fleet's store cannot be reached: `{\"mode\": \"deny\"}` (the default), `{\"mode\": \"lease_only\"}` or `{\"mode\": \"bounded_open\", \"units\": N}`.",
            vec![
                object(
                    "`deny` refuses at once; `lease_only` spends the lease the gateway holds, then refuses.",
                    &["mode"],
                    vec![
                        ("mode", json!({"enum": ["deny", "lease_only"]})),
                        ("units", null()),
                    ],
                ),
                object(
                    "Admit what the rules allow on the count the gateway last saw, up to `units` per license on one gateway, counted in the store once it is back.",
                    &["mode", "units"],
                    vec![
                        ("mode", json!({"const": "bounded_open"})),
                        ("units", sub::<u64>(generator)),
                    ],
                ),
            ],
        )
    }
}

impl JsonSchema for ControlType {
    named!("ControlType");

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let unit = nullable(json!({"type": "string"}));
        let choices = json!({"type": "array", "items": {"type": "string"}});
        one_of(
            "The type of a governance control's value, by `type`.",
            vec![
                object(
                    "A switch.",
                    &["type"],
                    vec![
                        ("type", json!({"const": "boolean"})),
                        ("unit", null()),
                        ("choices", null()),
                    ],
                ),
                object(
                    "A whole number, with what it counts.",
                    &["type"],
                    vec![
                        ("type", json!({"const": "integer"})),
                        ("unit", unit),
                        ("choices", null()),
                    ],
                ),
                object(
                    "One of a declared set of values.",
                    &["type", "choices"],
                    vec![
                        ("type", json!({"const": "choice"})),
                        ("unit", null()),
                        ("choices", choices),
                    ],
                ),
            ],
        )
    }
}

impl JsonSchema for Enforcement {
    named!("Enforcement");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        one_of(
            "Hard stops at the limit; soft allows a grace allowance for `grace_hours` once the limit is first crossed.",
            vec![
                object(
                    "Deny anything past the limit.",
                    &["mode"],
                    vec![
                        ("mode", json!({"const": "hard"})),
                        ("grace_allowance", null()),
                        ("grace_hours", null()),
                    ],
                ),
                object(
                    "Allow up to the grace allowance past the limit, for a while.",
                    &["mode", "grace_allowance", "grace_hours"],
                    vec![
                        ("mode", json!({"const": "soft"})),
                        ("grace_allowance", sub::<GraceAllowance>(generator)),
                        ("grace_hours", sub::<u32>(generator)),
                    ],
                ),
            ],
        )
    }
}

impl JsonSchema for AfterGrace {
    named!("AfterGrace");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let features = json!({"type": "array", "items": sub::<FeatureId>(generator)});
        let bare = |access: &str, description: &str| {
            object(
                description,
                &["access"],
                vec![("access", json!({"const": access})), ("features", null())],
            )
        };
        one_of(
            "Access once the term and its renewal grace are over, by `access`.",
            vec![
                bare("revoke", "Nothing is allowed."),
                object(
                    "Only the listed features stay on.",
                    &["access", "features"],
                    vec![
                        ("access", json!({"const": "restrict"})),
                        ("features", features),
                    ],
                ),
                bare("keep", "Everything stays as it was."),
            ],
        )
    }
}

impl JsonSchema for ChargeModel {
    named!("ChargeModel");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let price = sub::<Price>(generator);
        let count = sub::<u64>(generator);
        let bands = json!({"type": "array", "items": sub::<Band>(generator)});
        let fields = [
            ("unit_price", price.clone()),
            ("package_size", count.clone()),
            ("package_price", price),
            ("free_units", count),
            ("bands", bands),
        ];
        // Each model takes its own fields; another model's may only be null.
        let model = |name: &str, description: &str, own: &[&str], required: &[&str]| {
            let mut properties = vec![("model", json!({"const": name}))];
            for (field, schema) in &fields {
                let schema = match (own.contains(field), required.contains(field)) {
                    (true, true) => schema.clone(),
                    (true, false) => nullable(schema.clone()),
                    (false, _) => null(),
                };
                properties.push((field, schema));
            }
            let mut required = required.to_vec();
            required.insert(0, "model");
            object(description, &required, properties)
        };
        one_of(
            "How a metric's overage is priced, by `model` (Lago's models and field names).",
            vec![
                model(
                    "per_unit",
                    "Every unit at one price.",
                    &["unit_price"],
                    &["unit_price"],
                ),
                model(
                    "package",
                    "Groups of `package_size` units at `package_price` each, after `free_units` (0 when absent).",
                    &["package_size", "package_price", "free_units"],
                    &["package_size", "package_price"],
                ),
                model(
                    "graduated",
                    "Each unit priced by the band it falls in, plus each entered band's flat fee.",
                    &["bands"],
                    &["bands"],
                ),
                model(
                    "volume",
                    "Every unit at the price of the band the total falls in, plus that band's flat fee.",
                    &["bands"],
                    &["bands"],
                ),
            ],
        )
    }
}

impl JsonSchema for Route {
    named!("Route");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let method = nullable(json!({
            "description": "The HTTP method, upper case; absent for every method.",
            "type": "string",
            "pattern": "^[A-Z]+$",
        }));
        let path = json!({
            "description": "The path prefix, from `/`, matched on whole segments: no dot or empty segments, backslashes, encoded `/`, `.` or `\\`, spaces or control characters.",
            "type": "string",
            "pattern": "^/[^\\\\\\u0000-\\u0020\\u007f]*$",
            "not": {"pattern": "//|%2[fFeE]|%5[cC]|/\\.\\.?(/|$)"},
        });
        let feature = sub::<FeatureId>(generator);
        let amount = sub::<u64>(generator);
        let uses = |description: &str, required: &str, given: Vec<(&'static str, Value)>| {
            let mut properties = vec![("method", method.clone()), ("path", path.clone())];
            for name in ["feature", "metric", "amount"] {
                let schema = given
                    .iter()
                    .find(|(field, _)| *field == name)
                    .map_or_else(null, |(_, schema)| schema.clone());
                properties.push((name, schema));
            }
            let mut required = vec!["path", required];
            if required.contains(&"metric") {
                required.push("amount");
            }
            object(description, &required, properties)
        };
        one_of(
            "A route of the vendor's API: a request to it checks a `feature`, or consumes `amount` units of a `metric`.",
            vec![
                uses(
                    "A feature check.",
                    "feature",
                    vec![("feature", feature.clone())],
                ),
                uses(
                    "Units consumed.",
                    "metric",
                    vec![("metric", feature), ("amount", amount)],
                ),
            ],
        )
    }
}

impl JsonSchema for RouteAsk {
    named!("RouteAsk");

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schema(object(
            "The request a route is resolved for.",
            &["method", "path"],
            vec![
                (
                    "method",
                    json!({"description": "The HTTP method, any case.", "type": "string"}),
                ),
                (
                    "path",
                    json!({
                        "description": "The request target, possibly with `?query` or `#fragment`; its path is clean as a route's must be.",
                        "type": "string",
                        "pattern": "^/[^?#\\\\\\u0000-\\u0020\\u007f]*(?:[?#][\\s\\S]*)?$",
                        "not": {"pattern": "^[^?#]*(?://|%2[fFeE]|%5[cC]|/\\.\\.?(?:[/?#]|$))"},
                    }),
                ),
            ],
        ))
    }
}

impl JsonSchema for Interval {
    named!("Interval");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let time = sub::<TimeOfDay>(generator);
        json_schema!({
            "description": "Business hours `[start, end)` in local time; an end at or before the start runs past midnight. The two differ, and the start is not `24:00`.",
            "type": "array",
            "prefixItems": [time.clone(), time],
            "items": false,
            "minItems": 2,
            "not": {"prefixItems": [{"const": "24:00"}]},
        })
    }
}

impl JsonSchema for Holiday {
    named!("Holiday");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let time = nullable(sub::<TimeOfDay>(generator));
        schema(object(
            "A local date, or a part `[from, to)` of it, without business time; `from` (default `00:00`) is before `to` (default `24:00`).",
            &["date"],
            vec![
                ("date", sub::<Date>(generator)),
                ("from", time.clone()),
                ("to", time),
            ],
        ))
    }
}

impl JsonSchema for Calendar {
    named!("Calendar");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let zone = sub::<Zone>(generator);
        let weekly = sub::<Weekly>(generator);
        let holidays = json!({"type": "array", "items": sub::<Holiday>(generator)});
        let form = |description: &str, required: &[&str], weekly: Value, always: Value| {
            object(
                description,
                required,
                vec![
                    ("time_zone", zone.clone()),
                    ("weekly", weekly),
                    ("always", always),
                    ("holidays", holidays.clone()),
                ],
            )
        };
        one_of(
            "A business calendar: an IANA zone, weekly hours or `\"always\": true`, and holidays.",
            vec![
                form(
                    "Weekly hours.",
                    &["time_zone", "weekly"],
                    weekly,
                    json!({"enum": [false, null]}),
                ),
                form(
                    "Around the clock.",
                    &["time_zone", "always"],
                    null(),
                    json!({"const": true}),
                ),
            ],
        )
    }
}

impl JsonSchema for KeySet {
    named!("KeySet");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let kinds = nullable(json!({
            "description": "The kinds of document the key may sign; both when absent.",
            "type": "array",
            "items": sub::<DocumentKind>(generator),
        }));
        let key = object(
            "A trusted public key; ids are unique in the set.",
            &["id", "public_key"],
            vec![
                ("id", sub::<KeyId>(generator)),
                (
                    "public_key",
                    json!({
                        "description": "An Ed25519 public key in SPKI PEM (`-----BEGIN PUBLIC KEY-----`).",
                        "type": "string",
                        "pattern": "-----BEGIN PUBLIC KEY-----",
                    }),
                ),
                ("kinds", kinds),
            ],
        );
        schema(object(
            "The public keys a signed document may be checked with; see docs/signing.md.",
            &["keys"],
            vec![(
                "keys",
                json!({"type": "array", "items": key, "maxItems": MAX_KEYS}),
            )],
        ))
    }
}

/// The `entitle-signed/1` envelope around a bundle or a license.
pub struct SignedEnvelope;

/// Standard base64 with padding, as the envelope's fields are decoded.
const BASE64: &str =
    "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$";

impl JsonSchema for SignedEnvelope {
    named!("SignedEnvelope");

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        schema(object(
            "A bundle or license signed with Ed25519 over the exact payload bytes; see docs/signing.md.",
            &["format", "kind", "key_id", "payload", "signature"],
            vec![
                ("format", json!({"const": FORMAT})),
                ("kind", sub::<DocumentKind>(generator)),
                (
                    "key_id",
                    json!({"description": "The key of the key set that signed it.", "type": "string"}),
                ),
                (
                    "payload",
                    json!({"description": "The document's exact bytes, base64.", "type": "string", "pattern": BASE64}),
                ),
                (
                    "signature",
                    json!({
                        "description": "The 64-byte Ed25519 signature, base64.",
                        "type": "string",
                        "pattern": "^[A-Za-z0-9+/]{85}[AQgw]==$",
                    }),
                ),
            ],
        ))
    }
}
