//! JSON Schema (draft 2020-12) of every document the engine reads, built
//! from the very types its reader fills, with the reader's strictness: no
//! unknown fields, required fields required, enums and decimal strings as
//! the reader takes them. Only with the `schema` feature, which the wasm
//! module never enables; `cargo xtask schemas` writes them to `schemas/`.

mod request;
mod scalars;
mod shapes;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::compliance::inventory::{ContractEvent, Deployment, Telemetry};
use crate::model::bundle::Bundle;
use crate::model::license::{License, Usage};
use crate::reading::signed::KeySet;
use crate::simulate::scenario::Scenario;
use crate::support::calendar::Calendar;
use crate::support::case::Case;

pub use scalars::{DATE, DECIMAL, ID, PERCENT, POSITIVE_DECIMAL, TIMESTAMP, TIME_OF_DAY};
pub use shapes::SignedEnvelope;

/// Where the schemas' `$id`s live: `<BASE><file>`.
pub const BASE: &str = "urn:entitle:schema:";

/// One schema file of `schemas/`.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file name, e.g. `bundle.schema.json`.
    pub file: &'static str,
    /// The schema.
    pub schema: Value,
}

impl Document {
    /// The file's text: the schema pretty-printed, with a final newline.
    pub fn text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The schema's `$id`.
    pub fn id(&self) -> String {
        format!("{BASE}{}", self.file.trim_end_matches(".schema.json"))
    }
}

fn generator() -> SchemaGenerator {
    SchemaGenerator::new(SchemaSettings::draft2020_12())
}

/// The schema of one document type, with its `$id`, title and description
/// first.
fn document<T: JsonSchema>(file: &'static str, title: &str, description: &str) -> Document {
    let schema = generator().into_root_schema_for::<T>().to_value();
    finish(file, title, description, schema)
}

fn finish(file: &'static str, title: &str, description: &str, schema: Value) -> Document {
    let mut document = Document {
        file,
        schema: Value::Null,
    };
    let mut ordered = Map::new();
    ordered.insert(
        "$schema".into(),
        json!(SchemaSettings::draft2020_12().meta_schema),
    );
    ordered.insert("$id".into(), json!(document.id()));
    ordered.insert("title".into(), json!(title));
    ordered.insert("description".into(), json!(description));
    if let Value::Object(fields) = schema {
        for (key, value) in fields {
            if !matches!(key.as_str(), "$schema" | "$id" | "title" | "description") {
                ordered.insert(key, value);
            }
        }
    }
    document.schema = Value::Object(ordered);
    document
}

/// The request envelope: one schema per operation, chosen by `op`.
fn request() -> Result<Document, String> {
    let mut generator = generator();
    let (root, operations) = request::operations(&mut generator)?;
    let mut defs = generator.take_definitions(true);
    defs.extend(operations);
    let mut schema = root;
    if let Some(object) = schema.as_object_mut() {
        object.insert("$defs".into(), Value::Object(defs));
    }
    Ok(finish(
        "request.schema.json",
        "entitle request",
        "A self-contained request to the engine (`evaluate`, the CLI, the conformance corpus): `op` names the operation and the other fields are that operation's. A request to a bundle loaded once (`entitle serve`) leaves `bundle` and `keys` out and may name a loaded license by its id.",
        schema,
    ))
}

/// Every schema of `schemas/`, in file-name order; an error names an
/// operation field the request schema does not know how to describe.
pub fn documents() -> Result<Vec<Document>, String> {
    let mut documents = vec![
        document::<Bundle>(
            "bundle.schema.json",
            "entitle bundle",
            "The vendor's versioned policy: features, tiers, add-ons, charge models, transitions, expiry, gateway routes, calendars, support, exception policy and compliance. Validation against the bundle's own names (a tier granting an undeclared feature, for instance) is the engine's: see docs/errors.md.",
        ),
        document::<Calendar>(
            "calendar.schema.json",
            "entitle calendar",
            "A business calendar, as a `business_time` request or a bundle's `calendars` hold it; see docs/calendars.md.",
        ),
        document::<Case>(
            "case.schema.json",
            "entitle support case",
            "A support case and its events, as an `escalate` request's `case`; see docs/escalation.md.",
        ),
        document::<Vec<Deployment>>(
            "deployments.schema.json",
            "entitle deployments",
            "The installations customers declare, as a `scan` request's `deployments`; see docs/compliance.md.",
        ),
        document::<Vec<ContractEvent>>(
            "events.schema.json",
            "entitle contract events",
            "Suspensions, reactivations and terminations, as a `scan` request's `events`; see docs/compliance.md.",
        ),
        document::<KeySet>(
            "keys.schema.json",
            "entitle key set",
            "The public keys signed bundles and licenses are checked with; see docs/signing.md.",
        ),
        document::<License>(
            "license.schema.json",
            "entitle license",
            "One customer's grant: tier, add-ons, seats, term, status, zone, anchor date and exceptions. Its names are checked against the bundle by the engine.",
        ),
        request()?,
        document::<Scenario>(
            "scenario.schema.json",
            "entitle scenario",
            "A timeline of events replayed by `simulate` and `diff`; see docs/simulation.md.",
        ),
        document::<SignedEnvelope>(
            "signed.schema.json",
            "entitle signed envelope",
            "The `entitle-signed/1` envelope around a bundle or a license; see docs/signing.md.",
        ),
        document::<Telemetry>(
            "telemetry.schema.json",
            "entitle telemetry",
            "Installations seen and daily usage series, as a `scan` request's `telemetry`; see docs/compliance.md.",
        ),
        document::<Usage>(
            "usage.schema.json",
            "entitle usage",
            "Usage counted for a license in the current period of each quota, and seats in use.",
        ),
    ];
    documents.sort_by_key(|d| d.file);
    Ok(documents)
}
