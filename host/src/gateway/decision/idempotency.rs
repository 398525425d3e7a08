//! Idempotency keys: a key belongs to its license and to the request it was
//! first sent with. The same request again gets its first answer while the
//! license may still use what it asks; any other request with the key is
//! refused (docs/gateway.md, *Idempotency keys*).

use chrono::{DateTime, Utc};
use entitle_core::Decision;
use serde_json::{Map, Value};

use super::Gateway;
use crate::gateway::answer::{host_error, Decided};
use crate::gateway::generation::Generation;
use crate::gateway::meter::{Earlier, LicenseUsage};

/// An idempotency key and where the client sent it, so a refusal names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key.
    pub value: String,
    /// Its JSON path in answers: `$.headers.idempotency-key`,
    /// `$.headers.x-request-id` or `$.request_id`.
    pub path: &'static str,
}

impl Gateway {
    /// The answer to a key the license has used before, if it has: the
    /// first answer to the same request ([`Gateway::replayed`]), or a
    /// refusal for another request.
    pub(super) fn earlier(
        &self,
        generation: &Generation,
        fields: &Map<String, Value>,
        key: &IdempotencyKey,
        license: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Option<Decided> {
        let meter = self.meter()?;
        match meter.earlier(license, &key.value) {
            Ok(None) => None,
            Ok(Some(Earlier {
                fingerprint: Some(first),
                answer,
            })) if first == fingerprint => Some(self.replayed(generation, fields, answer, now)),
            Ok(Some(_)) => Some(reused(generation, key)),
            Err(error) => Some(self.failed(generation, fields, &error)),
        }
    }

    /// A retried request: its units are counted already, so its first
    /// answer is what the client gets, as long as the license may still use
    /// what it asked for. That is decided afresh by the module on the
    /// current bundle and license with no usage counted: a license suspended,
    /// terminated or past its grace since, or a bundle that no longer grants
    /// the feature, refuses the retry as it would refuse a new request (and
    /// nothing is recorded); otherwise the first answer comes back unchanged,
    /// under the bundle version it was decided with.
    fn replayed(
        &self,
        generation: &Generation,
        fields: &Map<String, Value>,
        first: String,
        now: DateTime<Utc>,
    ) -> Decided {
        match self.decide(generation, fields, &LicenseUsage::default(), now) {
            Ok(current)
                if matches!(
                    current.decision(),
                    Some(Decision::Allow | Decision::AllowInGrace)
                ) =>
            {
                Decided::module(first)
                    .unwrap_or_else(|error| self.failed(generation, fields, &error))
            }
            // A refusal or an error: the rules record nothing for either.
            Ok(refused) => refused,
            Err(error) => self.failed(generation, fields, &error),
        }
    }
}

/// The refusal of a key the license first used with another request.
pub(super) fn reused(generation: &Generation, key: &IdempotencyKey) -> Decided {
    let mut refusal = host_error(
        generation,
        "idempotency_key_reused",
        key.path,
        &format!(
            "the idempotency key `{}` was first sent with another request of this license",
            clipped(&key.value)
        ),
        "send a new key with every new request; repeat a key only with the very request it was first sent with",
    );
    refusal.status = Some(422);
    refusal
}

/// Input echoed in a message, kept short.
fn clipped(text: &str) -> String {
    const MOST: usize = 64;
    match text.char_indices().nth(MOST) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
        None => text.to_string(),
    }
}

/// The fingerprint of a request: the sha256 of its fields written with
/// every object's keys in order, so the same request sent with its fields in
/// another order is the same request.
pub(super) fn fingerprint(fields: &Map<String, Value>) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (n, (name, value)) in entries.into_iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(name.clone()).to_string());
                    out.push(':');
                    write(value, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut text = String::new();
    write(&Value::Object(fields.clone()), &mut text);
    crate::sha256_hex(text.as_bytes())
}
