//! The request envelope's schema: for each operation, the fields it takes
//! (the operation table's, [`crate::api::op::OPS`]), those it requires, and
//! the choices it makes between fields (a check asks for a `feature`, a
//! `metric` with an `amount`, or a `route`; `business_time`'s fields follow
//! its `action`).

use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::api::op::{Op, OPS};
use crate::billing::credit::Percent;
use crate::compliance::inventory::{ContractEvent, Deployment, Telemetry};
use crate::entitlement::status::WhatIf;
use crate::exceptions::request::ExceptionRequest;
use crate::model::bundle::Bundle;
use crate::model::ids::{FeatureId, TierId};
use crate::model::license::{License, Usage};
use crate::model::route::RouteAsk;
use crate::model::time::Timestamp;
use crate::reading::signed::{DocumentKind, KeySet};
use crate::simulate::scenario::Scenario;
use crate::support::calendar::{Calendar, MAX_ADD_SECONDS};
use crate::support::case::Case;

use super::shapes::SignedEnvelope;

fn sub<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

/// A document given plain or in a signed envelope.
fn plain_or_signed<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    json!({"anyOf": [sub::<T>(generator), sub::<SignedEnvelope>(generator)]})
}

/// The schema of a request field as `op` reads it.
fn field(op: Op, name: &str, generator: &mut SchemaGenerator) -> Option<Value> {
    Some(match name {
        "bundle" | "against" => match op.spec().and_then(|spec| spec.section) {
            Some(section) => json!({"anyOf": [
                {"allOf": [
                    sub::<Bundle>(generator),
                    {
                        "type": "object",
                        "required": [section],
                        "properties": {section: {"not": {"type": "null"}}},
                    },
                ]},
                sub::<SignedEnvelope>(generator),
            ]}),
            None => plain_or_signed::<Bundle>(generator),
        },
        "license" => plain_or_signed::<License>(generator),
        "licenses" => array(plain_or_signed::<License>(generator)),
        "usage" => sub::<Usage>(generator),
        "now" | "at" | "from" => sub::<Timestamp>(generator),
        "to" if op == Op::BusinessTime => sub::<Timestamp>(generator),
        "to" => sub::<TierId>(generator),
        "feature" | "metric" => sub::<FeatureId>(generator),
        "amount" => sub::<u64>(generator),
        "seconds" => json!({"type": "integer", "minimum": 0, "maximum": MAX_ADD_SECONDS}),
        "keys" => sub::<KeySet>(generator),
        "route" => sub::<RouteAsk>(generator),
        "what_if" => sub::<WhatIf>(generator),
        "uptime" => sub::<Percent>(generator),
        "document" => sub::<SignedEnvelope>(generator),
        "kind" => sub::<DocumentKind>(generator),
        "case" => sub::<Case>(generator),
        "reevaluate" => json!({"type": "boolean"}),
        "scenario" => sub::<Scenario>(generator),
        "request" => json!({"allOf": [sub::<ExceptionRequest>(generator), window()]}),
        "deployments" => array(sub::<Deployment>(generator)),
        "telemetry" => sub::<Telemetry>(generator),
        "events" => array(sub::<ContractEvent>(generator)),
        "action" => json!({"enum": ["add", "elapsed", "next"]}),
        "calendar" => json!({"anyOf": [
            {"description": "The name of one of the bundle's `calendars`.", "type": "string"},
            sub::<Calendar>(generator),
        ]}),
        _ => return None,
    })
}

/// An exception request's window: `starts_at`, and `expires_at` or
/// `duration_days` (at least 1), not both; `null` is absent.
fn window() -> Value {
    let given = json!({"not": {"type": "null"}});
    let absent = json!({"type": "null"});
    json!({
        "type": "object",
        "required": ["starts_at"],
        "properties": {"starts_at": given},
        "oneOf": [
            {
                "required": ["expires_at"],
                "properties": {"expires_at": given, "duration_days": absent},
            },
            {
                "required": ["duration_days"],
                "properties": {"duration_days": {"type": "integer", "minimum": 1}, "expires_at": absent},
            },
        ],
    })
}

/// The choices an operation makes between its fields, beyond presence.
fn choices(op: Op) -> Option<Value> {
    let absent = |fields: &[&str]| {
        let any: Vec<Value> = fields.iter().map(|f| json!({"required": [f]})).collect();
        json!({"not": {"anyOf": any}})
    };
    let only = |required: &[&str], forbidden: &[&str]| json!({"allOf": [{"required": required}, absent(forbidden)]});
    match op {
        Op::Check => Some(json!({"oneOf": [
            only(&["feature"], &["metric", "amount", "route"]),
            only(&["metric", "amount"], &["feature", "route"]),
            only(&["route"], &["feature", "metric", "amount"]),
        ]})),
        Op::BusinessTime => {
            let action = |name: &str, required: &[&str], forbidden: &[&str]| {
                json!({
                    "if": {"properties": {"action": {"const": name}}},
                    "then": only(required, forbidden),
                })
            };
            Some(json!({"allOf": [
                action("add", &["at", "seconds"], &["from", "to"]),
                action("elapsed", &["from", "to"], &["at", "seconds"]),
                action("next", &["at"], &["seconds", "from", "to"]),
                {
                    "if": {"properties": {"calendar": {"type": "string"}}},
                    "then": {"required": ["bundle"]},
                },
            ]}))
        }
        _ => None,
    }
}

/// The request schema's operations, each under `$defs`, and the root that
/// picks one by `op`; an error names an operation or a field with no schema.
pub(super) fn operations(
    generator: &mut SchemaGenerator,
) -> Result<(Value, Map<String, Value>), String> {
    let mut defs = Map::new();
    let mut dispatch = Vec::new();
    let mut names = Vec::new();
    for spec in &OPS {
        let (op, allowed, required) = (spec.op, spec.accepts, spec.requires);
        let mut properties = Map::new();
        properties.insert("op".into(), json!({"const": op.name()}));
        for name in allowed {
            let schema = field(op, name, generator)
                .ok_or_else(|| {
                    format!("field `{name}` of operation `{op}` has no schema in core/src/schema/request.rs")
                })?;
            properties.insert((*name).to_string(), schema);
        }
        if let Some(missing) = required.iter().find(|r| !allowed.contains(r)) {
            return Err(format!(
                "operation `{op}` requires `{missing}` but takes no such field"
            ));
        }
        let mut all_required = vec!["op"];
        all_required.extend_from_slice(required);
        let mut schema = json!({
            "description": format!("A `{op}` request."),
            "type": "object",
            "properties": properties,
            "required": all_required,
            "additionalProperties": false,
        });
        if let (Some(extra), Some(object)) = (choices(op), schema.as_object_mut()) {
            object.insert("allOf".into(), json!([extra]));
        }
        let name = format!("{}Operation", camel(op.name()));
        if defs.insert(name.clone(), schema).is_some() {
            return Err(format!("two definitions are named `{name}`"));
        }
        dispatch.push(json!({
            "if": {"properties": {"op": {"const": op}}},
            "then": {"$ref": format!("#/$defs/{name}")},
        }));
        names.push(op);
    }
    let root = json!({
        "type": "object",
        "required": ["op"],
        "properties": {"op": {"description": "The operation.", "enum": names}},
        "allOf": dispatch,
    });
    Ok((root, defs))
}

/// `business_time` → `BusinessTime`.
fn camel(op: &str) -> String {
    op.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}
