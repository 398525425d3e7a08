//! The corpus's `check` cases as compact checks: each case that a compact
//! call can express (a feature or a metric with an amount, the usage of
//! that one metric, a plain bundle and license) turned into the documents
//! to load, the handle to resolve and the 64-byte ask; and the comparison
//! of a compact answer with the projection of the JSON one.

use anyhow::{bail, Result};
use entitle_core::{CheckAnswer, CheckKind, CompactAnswer, CompactAsk, Envelope, Timestamp};
use serde_json::{Map, Value};

use crate::Case;

/// A `check` case as a compact call.
#[derive(Debug, Clone)]
pub struct CompactCase {
    /// The case's name.
    pub name: String,
    /// The bundle document.
    pub bundle: Vec<u8>,
    /// The license document.
    pub license: Vec<u8>,
    /// The license's id.
    pub license_id: String,
    /// The feature or metric.
    pub name_checked: String,
    /// A feature check or a consuming check.
    pub kind: CheckKind,
    /// The ask; `None` when the request's inputs cannot be one (a `now`
    /// that does not parse, an amount that is not a `u64`), which only an
    /// error answer may match.
    pub ask: Option<CompactAsk>,
}

/// The fields a compact call can express; a request with any other is left out.
const EXPRESSIBLE: [&str; 8] = [
    "op", "bundle", "license", "usage", "now", "feature", "metric", "amount",
];

/// The compact call of a case, or `None` when the case is not a check a
/// compact call can express.
pub fn from_case(case: &Case) -> Option<CompactCase> {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(&case.request) else {
        return None;
    };
    if request.get("op").and_then(Value::as_str) != Some("check")
        || request.keys().any(|k| !EXPRESSIBLE.contains(&k.as_str()))
    {
        return None;
    }
    let bundle = request
        .get("bundle")
        .filter(|b| b.is_object() && b.get("payload").is_none())?;
    let license = request
        .get("license")
        .filter(|l| l.is_object() && l.get("payload").is_none())?;
    let license_id = license.get("license")?.as_str()?.to_string();
    let (name_checked, kind) = match (request.get("feature"), request.get("metric")) {
        (Some(Value::String(f)), None) if !request.contains_key("amount") => {
            (f.clone(), CheckKind::Feature)
        }
        (None, Some(Value::String(m))) if request.contains_key("amount") => {
            (m.clone(), CheckKind::Consume)
        }
        _ => return None,
    };
    let counts = usage_of(request.get("usage"), &name_checked)?;
    let amount = match kind {
        CheckKind::Feature => Some(0),
        CheckKind::Consume => request.get("amount").and_then(Value::as_u64),
    };
    let now = request
        .get("now")
        .and_then(Value::as_str)
        .and_then(Timestamp::parse);
    let ask = match (amount, now, counts) {
        (Some(amount), Some(now), Some((used, soft_exceeded_at, period_start))) => {
            Some(CompactAsk {
                amount,
                used,
                soft_exceeded_at,
                period_start,
                now,
            })
        }
        _ => None,
    };
    Some(CompactCase {
        name: case.name.clone(),
        bundle: serde_json::to_vec(bundle).ok()?,
        license: serde_json::to_vec(license).ok()?,
        license_id,
        name_checked,
        kind,
        ask,
    })
}

type Counts = (u64, Option<Timestamp>, Option<Timestamp>);

/// The usage of the one metric checked: `Some(None)` when it is there but
/// cannot be an ask (only an error answer may match), `None` when the
/// usage holds what a compact call cannot express.
fn usage_of(usage: Option<&Value>, name: &str) -> Option<Option<Counts>> {
    let Some(usage) = usage else {
        return Some(Some((0, None, None)));
    };
    let usage = usage.as_object()?;
    if usage.keys().any(|k| k != "metrics" && k != "active_seats") {
        return None;
    }
    let empty = Map::new();
    let metrics = match usage.get("metrics") {
        Some(Value::Object(metrics)) => metrics,
        None => &empty,
        Some(_) => return None,
    };
    if metrics.keys().any(|k| k != name) {
        return None;
    }
    let Some(counted) = metrics.get(name) else {
        return Some(Some((0, None, None)));
    };
    let counted = counted.as_object()?;
    if counted
        .keys()
        .any(|k| !["used", "soft_exceeded_at", "period_start"].contains(&k.as_str()))
    {
        return None;
    }
    let instant = |field: &str| -> Option<Option<Timestamp>> {
        match counted.get(field) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(text)) => Timestamp::parse(text).map(Some),
            Some(_) => None,
        }
    };
    let used = counted.get("used").and_then(Value::as_u64);
    Some(
        match (used, instant("soft_exceeded_at"), instant("period_start")) {
            (Some(used), Some(soft), Some(start)) => Some((used, soft, start)),
            _ => None,
        },
    )
}

/// What a runtime's compact path gave for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompactOutcome {
    /// The answer record, read.
    Answered(CompactAnswer),
    /// Refused somewhere: loading, resolving, or the check asked for JSON.
    Refused(String),
}

/// Holds a compact outcome to the JSON answer of the same request: the
/// projection of a success, and a refusal for an error.
pub fn compare(
    json: &str,
    bases: Option<&[entitle_core::Basis]>,
    got: &CompactOutcome,
) -> Result<()> {
    let envelope: Envelope<'_, CheckAnswer> = serde_json::from_str(json)?;
    match (envelope.result(), got) {
        (Some(answer), CompactOutcome::Answered(compact)) => {
            let Some(bases) = bases else {
                bail!("answered without bases");
            };
            let Some(expected) = CompactAnswer::project(answer, bases) else {
                bail!(
                    "the JSON answer names what the bases lack: {:?}",
                    answer.decided_by
                );
            };
            if &expected != compact {
                bail!("compact {compact:?}\n   projected JSON {expected:?}");
            }
            Ok(())
        }
        (Some(answer), CompactOutcome::Refused(why)) => {
            bail!(
                "refused ({why}) where the JSON check answered {:?}",
                answer.decision
            )
        }
        (None, CompactOutcome::Answered(compact)) => {
            bail!("answered {compact:?} where the JSON check refused: {json}")
        }
        (None, CompactOutcome::Refused(_)) => Ok(()),
    }
}

/// The compact path run natively: load, compile, check.
pub fn native(case: &CompactCase) -> (Option<Vec<entitle_core::Basis>>, CompactOutcome) {
    let refused = |why: &str| (None, CompactOutcome::Refused(why.to_string()));
    let Ok(mut loaded) = entitle_core::LoadedBundle::load(&case.bundle) else {
        return refused("bundle");
    };
    let envelope = loaded.load_license(&case.license);
    if envelope.contains(r#""outcome":"error""#) {
        return refused("license");
    }
    let compiled = match loaded.compile(&case.license_id, &case.name_checked, case.kind) {
        Ok(compiled) => compiled,
        Err(rejected) => return refused(&rejected.to_string()),
    };
    let Some(ask) = case.ask else {
        return refused("ask");
    };
    let bases = Some(compiled.bases().to_vec());
    match compiled.check(&ask) {
        Ok(answer) => (bases, CompactOutcome::Answered(answer)),
        Err(refusal) => (bases, CompactOutcome::Refused(format!("{refusal:?}"))),
    }
}

/// The compact path in wasmtime, through the byte ABI of one instance:
/// load, resolve, check.
pub fn wasmtime(
    instance: &mut entitle_host::WasmInstance,
    case: &CompactCase,
) -> Result<(Option<Vec<entitle_core::Basis>>, CompactOutcome)> {
    let refused = |why: &str| Ok((None, CompactOutcome::Refused(why.to_string())));
    let (bundle, _) = instance.bundle_load(&case.bundle)?;
    if bundle == 0 {
        return refused("bundle");
    }
    let outcome = (|| {
        let envelope = instance.bundle_load_license(bundle, &case.license)?;
        if envelope.contains(r#""outcome":"error""#) {
            return refused("license");
        }
        let (handle, envelope) =
            instance.compact_resolve(bundle, &case.license_id, &case.name_checked, case.kind)?;
        let Some(handle) = handle else {
            return refused(&envelope);
        };
        #[derive(serde::Deserialize)]
        struct Compiled {
            bases: Vec<entitle_core::Basis>,
        }
        let compiled: Envelope<'_, Compiled> = serde_json::from_str(&envelope)?;
        let bases = compiled.result().map(|c| c.bases.clone());
        let Some(ask) = case.ask else {
            return refused("ask");
        };
        Ok(match instance.compact_check(handle, &ask)? {
            entitle_host::Compact::Answered(answer) => (bases, CompactOutcome::Answered(answer)),
            other => (bases, CompactOutcome::Refused(format!("{other:?}"))),
        })
    })();
    instance.bundle_free(bundle)?;
    outcome
}
