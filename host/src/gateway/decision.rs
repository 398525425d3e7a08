//! One decision through the gateway: the request completed with the
//! gateway's clock and the meter's usage, answered by the module (or from
//! the cache, within `valid_until`), and the consumption it allows recorded
//! before the answer leaves.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use entitle_core::{CheckKind, Op, Timestamp};
use serde_json::{json, Map, Value};

use super::answer::{failure_mode, host_error, Decided, Unread};
use super::audit::{Decision, DecisionLog};
use super::fleet::{Fleet, Metering};
use super::generation::{Generation, Sources};
use super::meter::{Committed, Keyed, LicenseUsage, Meter, Recorded, WriteGuard};
use super::portal::Documents;
use super::seats::Seats;
use super::telemetry::Telemetry;
use crate::error::HostError;
use crate::limits::Limits;

mod compact;
mod fleet;
mod idempotency;
mod lease;
mod seat;

use compact::{Compactable, Deferred, Full};
use idempotency::fingerprint;
pub use idempotency::IdempotencyKey;
pub use seat::{SeatAsk, SeatOutcome};

/// Fields the gateway sets itself; a request that sends them is refused.
const OWNED: [&str; 3] = ["now", "usage", "bundle"];

/// The most decisions kept in the cache; it is emptied when full.
const CACHE_CAPACITY: usize = 100_000;

/// A check decided: answered, or waiting for the commit of its record; or
/// decided by the compact check, its full answer still to write.
enum Step {
    Answered(Decided),
    Committing(Decided, Committed),
    Compacted(Deferred, Committed),
}

/// What a consuming check brings to its license's turn.
struct Pending<'a> {
    generation: &'a Arc<Generation>,
    /// The request's compact form, when it is decided that way.
    compact: Option<Compactable<'a>>,
    /// Whether the endpoint sends the JSON answer.
    envelope: bool,
    fields: &'a Map<String, Value>,
    /// An answer decided before the turn, with the usage version it saw.
    early: Option<(Decided, u64)>,
    keyed: Option<(&'a IdempotencyKey, &'a str, &'a str)>,
    cache_key: String,
    now: DateTime<Utc>,
}

struct Cached {
    generation: u64,
    usage_version: u64,
    valid_until: Option<DateTime<Utc>>,
    decided: Decided,
}

/// The gateway's state: the generation served, the meter, the cache, metrics.
pub struct Gateway {
    current: ArcSwap<Generation>,
    next_generation: AtomicU64,
    metering: Metering,
    cache: Mutex<HashMap<String, Cached>>,
    /// The metrics.
    pub telemetry: Telemetry,
    /// Where documents are loaded from.
    pub sources: Sources,
    limits: Limits,
    instances: usize,
    log: Option<DecisionLog>,
    seats: Option<Seats>,
    /// The seats each license held when this gateway last looked, for
    /// its status.
    seats_seen: Mutex<HashMap<String, u64>>,
}

impl Gateway {
    /// Loads the first generation: nothing is served before it is complete.
    /// Counts are kept in `meter`: this gateway's own [`Meter`] or a
    /// [`Fleet`]'s store.
    pub fn start(
        sources: Sources,
        limits: Limits,
        instances: usize,
        meter: impl Into<Metering>,
        log: Option<DecisionLog>,
    ) -> Result<Gateway, HostError> {
        let first = Generation::load(1, &sources, limits, instances)?;
        let gateway = Gateway {
            current: ArcSwap::from_pointee(first),
            next_generation: AtomicU64::new(2),
            metering: meter.into(),
            cache: Mutex::new(HashMap::new()),
            telemetry: Telemetry::new(),
            sources,
            limits,
            instances,
            log,
            seats: None,
            seats_seen: Mutex::new(HashMap::new()),
        };
        if let Some(meter) = gateway.meter() {
            gateway.telemetry.meter(meter.commits());
        }
        if let Some((calls, checks)) = gateway.fleet().and_then(|f| f.store().batches()) {
            gateway.telemetry.store_batches(calls, checks);
        }
        gateway.mark_served();
        Ok(gateway)
    }

    /// Keeps floating seats in `seats`.
    #[must_use]
    pub fn with_seats(mut self, seats: Seats) -> Gateway {
        self.seats = Some(seats);
        self
    }

    /// Where the seats are kept, if this gateway keeps them.
    pub fn seats(&self) -> Option<&Seats> {
        self.seats.as_ref()
    }

    fn saw_seats(&self, license: &str, held: u64) {
        self.seats_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(license.to_string(), held);
    }

    fn seats_seen(&self, license: &str) -> u64 {
        self.seats_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(license)
            .copied()
            .unwrap_or(0)
    }

    /// The generation answering now.
    pub fn generation(&self) -> Arc<Generation> {
        self.current.load_full()
    }

    /// This gateway's own meter; `None` on a fleet's store.
    pub fn meter(&self) -> Option<&Meter> {
        match &self.metering {
            Metering::Local(meter) => Some(meter),
            Metering::Fleet(_) => None,
        }
    }

    /// The fleet's store this gateway counts in; `None` on its own meter.
    pub fn fleet(&self) -> Option<&Fleet> {
        match &self.metering {
            Metering::Fleet(fleet) => Some(fleet),
            Metering::Local(_) => None,
        }
    }

    /// Brings what this gateway knows of a license's counts up to the
    /// fleet's, before a status is decided on them; nothing to do on its
    /// own meter. A store that cannot answer leaves what it knew, and the
    /// answer is `false`: the counts are the last this gateway saw.
    pub async fn refresh(&self, license: &str) -> bool {
        let Some(fleet) = self.fleet() else {
            return true;
        };
        match fleet.refresh(license).await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, license, "status on the counts this gateway last saw");
                false
            }
        }
    }

    /// Loads a new generation from the sources and swaps it in. Requests in
    /// flight finish on the generation they started with; on failure the
    /// current one stays.
    pub fn reload(&self) -> Result<Arc<Generation>, HostError> {
        let id = self.next_generation.fetch_add(1, Ordering::Relaxed);
        match Generation::load(id, &self.sources, self.limits, self.instances) {
            Ok(next) => {
                let next = Arc::new(next);
                self.current.store(Arc::clone(&next));
                self.mark_served();
                self.count_reload("ok");
                Ok(next)
            }
            Err(error) => {
                self.count_reload(error.code());
                Err(error)
            }
        }
    }

    fn count_reload(&self, kind: &str) {
        self.telemetry
            .reloads
            .get_or_create(&super::telemetry::KindLabels {
                kind: kind.to_string(),
            })
            .inc();
    }

    fn mark_served(&self) {
        let generation = self.generation();
        self.telemetry.serving(super::telemetry::ServedLabels {
            module_sha256: generation.module_sha256.clone(),
            bundle: generation.bundle.id.clone(),
            bundle_version: generation.bundle.version.clone(),
            bundle_hash: generation.bundle.hash.clone(),
        });
    }

    /// Decides a check. `fields` is the request as the client sent it (its
    /// `license`, and `feature`, `metric` with `amount`, or `route`); `key`
    /// makes a consuming check idempotent within its license: the same
    /// request again gets its first answer (see [`Gateway::replayed`]), any
    /// other request with the key is refused. A consuming check's answer is
    /// returned only once its record is committed.
    pub async fn check(&self, fields: Map<String, Value>, key: Option<&IdempotencyKey>) -> Decided {
        self.answer(fields, key, true).await
    }

    /// Decides a check as [`Gateway::check`] does, for an endpoint that
    /// sends no envelope (forward-auth): the answer may come from the
    /// compact check alone, with an empty envelope.
    pub async fn authorize(
        &self,
        fields: Map<String, Value>,
        key: Option<&IdempotencyKey>,
    ) -> Decided {
        self.answer(fields, key, false).await
    }

    /// The cached answer of a request that may consume (a route) when the
    /// cache holds one for the usage now: such an answer records nothing,
    /// so it needs no turn and no task of its own. `None` for a request
    /// with an idempotency key, which is looked up as it comes.
    pub fn recall(
        &self,
        fields: &Map<String, Value>,
        key: Option<&IdempotencyKey>,
    ) -> Option<Decided> {
        if key.is_some() {
            return None;
        }
        let license = match fields.get("license") {
            Some(Value::String(id)) => Some(id.as_str()),
            _ => None,
        };
        let version = self.usage(license).version;
        let generation = self.current.load().id;
        let hit = self.cached(&cache_key(fields), generation, version, Utc::now())?;
        self.telemetry.cache_hits.inc();
        Some(hit)
    }

    async fn answer(
        &self,
        fields: Map<String, Value>,
        key: Option<&IdempotencyKey>,
        envelope: bool,
    ) -> Decided {
        let (answer, committed) = match self.decide_and_stage(&fields, key, envelope).await {
            Step::Answered(answer) => return answer,
            Step::Committing(answer, committed) => (answer, committed),
            // Out of the license's turn: the full answer is written while
            // the record commits.
            Step::Compacted(deferred, committed) => {
                (self.full_answer(&fields, deferred), committed)
            }
        };
        let Some(committed) = committed else {
            return answer;
        };
        match committed.await {
            Ok(Ok(())) => answer,
            Ok(Err(detail)) => {
                self.failed(&self.generation(), &fields, &HostError::Store { detail })
            }
            Err(_) => {
                let detail = String::from("the meter's writer thread stopped");
                self.failed(&self.generation(), &fields, &HostError::Store { detail })
            }
        }
    }

    /// Everything of a check but waiting for its commit. A consuming check
    /// waits for its license's turn (yielding its worker meanwhile); no
    /// other check and no other license waits for it.
    async fn decide_and_stage(
        &self,
        fields: &Map<String, Value>,
        key: Option<&IdempotencyKey>,
        envelope: bool,
    ) -> Step {
        let generation = self.generation();
        if let Some(field) = OWNED.iter().find(|f| fields.contains_key(**f)) {
            return Step::Answered(host_error(
                &generation,
                "field_set_by_gateway",
                &format!("$.{field}"),
                &format!("`{field}` is set by the gateway"),
                "leave it out: the gateway sets the time, the usage and the bundle",
            ));
        }
        let license = match fields.get("license") {
            Some(Value::String(id)) => Some(id.as_str()),
            _ => None,
        };
        let consumes = fields.contains_key("metric");
        let may_consume = consumes || fields.contains_key("route");
        let now = Utc::now();
        let usage = self.usage(license);

        // A key is scoped to its license and its first request; the license
        // must be named for a key to mean anything.
        let fingerprint = key.map(|_| fingerprint(fields));
        let keyed = match (may_consume, key, license, fingerprint.as_deref()) {
            (true, Some(key), Some(license), Some(fingerprint)) => {
                Some((key, license, fingerprint))
            }
            _ => None,
        };
        let meter = match &self.metering {
            Metering::Fleet(fleet) if may_consume => {
                let asking = fleet::Asking {
                    generation: &generation,
                    fields,
                    license,
                    key: key.zip(fingerprint.as_deref()),
                    envelope,
                    now,
                };
                return Step::Answered(self.consume_on_fleet(fleet, asking).await);
            }
            Metering::Fleet(_) => None,
            Metering::Local(meter) => Some(meter),
        };
        if let Some((key, license, fingerprint)) = keyed {
            if let Some(answer) = self.earlier(&generation, fields, key, license, fingerprint, now)
            {
                return Step::Answered(answer);
            }
        }
        // Answers that record nothing are cached under the usage they were
        // decided on, until their valid_until.
        let cache_key = cache_key(fields);
        if let Some(hit) = self.cached(&cache_key, generation.id, usage.version, now) {
            self.telemetry.cache_hits.inc();
            return Step::Answered(hit);
        }
        // The decision log keeps every module answer in full: with it, every
        // check goes the JSON way.
        let compact = self
            .log
            .is_none()
            .then(|| Compactable::of(fields, key.is_some()))
            .flatten();
        // A feature check: the compact check, with the JSON answer the
        // module writes from it for an endpoint that sends one.
        if let Some(request) = compact.filter(|c| c.kind == CheckKind::Feature) {
            match self.compact(&generation, &request, &usage, now, envelope) {
                Ok(Some((answer, written))) if answer.record.is_none() => match written {
                    Some(written) => {
                        let decided = Decided::compact_with(answer, written);
                        self.remember(cache_key, generation.id, usage.version, &decided);
                        return Step::Answered(decided);
                    }
                    None if !envelope => return Step::Answered(Decided::compact(answer)),
                    None => {}
                },
                Ok(_) => {}
                Err(error) => return Step::Answered(self.failed(&generation, fields, &error)),
            }
        }

        // A metric of a loaded license is consumed on the latest count,
        // decided and staged in the license's turn. Anything else (a route,
        // a feature, a license not loaded, which records nothing) is decided
        // without it, and only when its answer records does it take the turn
        // and decide again if the count moved meanwhile.
        let in_turn = consumes && license.is_some_and(|l| generation.licenses.contains_key(l));
        let (license, early) = match license {
            Some(license) if in_turn => (license, None),
            _ => {
                let answer = match self.decide(&generation, fields, &usage, now) {
                    Ok(answer) => answer,
                    Err(error) => return Step::Answered(self.failed(&generation, fields, &error)),
                };
                match license.filter(|_| answer.record().is_some()) {
                    Some(license) => (license, Some((answer, usage.version))),
                    None => {
                        self.remember(cache_key, generation.id, usage.version, &answer);
                        return Step::Answered(answer);
                    }
                }
            }
        };
        // Not held into the turn: the record would copy the counts.
        drop(usage);
        // Only checks that may consume record, and on a fleet they were
        // decided above.
        let Some(meter) = meter else {
            let error = HostError::Store {
                detail: String::from("a record without a meter to keep it"),
            };
            return Step::Answered(self.failed(&generation, fields, &error));
        };
        let turn = meter.turn(license).await;
        let guard = meter.hold(turn);
        let pending = Pending {
            generation: &generation,
            compact: compact.filter(|c| c.kind == CheckKind::Consume),
            envelope,
            fields,
            early,
            keyed,
            cache_key,
            now,
        };
        self.decide_in_turn(meter, &guard, pending)
    }

    /// A consuming check in its license's turn: decided on the latest count
    /// (again, if it moved since an earlier decision) and its record staged.
    fn decide_in_turn(&self, meter: &Meter, guard: &WriteGuard<'_>, pending: Pending<'_>) -> Step {
        let Pending {
            generation,
            compact,
            envelope,
            fields,
            early,
            keyed,
            cache_key,
            now,
        } = pending;
        let latest = meter.usage(guard.license());
        if let Some(request) = compact.filter(|_| early.is_none()) {
            match self.compact(generation, &request, &latest, now, envelope) {
                Ok(Some((answer, written))) => {
                    let record = answer
                        .record
                        .zip(answer.quota)
                        .map(|(record, quota)| Recorded {
                            metric: request.name,
                            period_start: quota.period_start,
                            used: record.used,
                            soft_exceeded_at: record.soft_exceeded_at,
                        });
                    // A record without its quota's period cannot be kept:
                    // the JSON answer below says what to keep.
                    if record.is_some() || answer.record.is_none() {
                        let version = latest.version;
                        // Released before the record moves the counts, so
                        // they move in place instead of being copied.
                        let full = match (written, envelope.then_some(latest)) {
                            (Some(written), _) => Full::Written(written),
                            (None, Some(latest)) => Full::OnCounts(latest),
                            (None, None) => Full::NotSent,
                        };
                        let committed = match record {
                            Some(record) => {
                                match meter.stage(guard, record, None, "", now.timestamp()) {
                                    Ok(committed) => committed,
                                    Err(error) => {
                                        return Step::Answered(
                                            self.failed(generation, fields, &error),
                                        )
                                    }
                                }
                            }
                            None => None,
                        };
                        let deferred = Deferred {
                            generation: Arc::clone(generation),
                            version,
                            now,
                            answer,
                            full,
                            cache_key,
                        };
                        return Step::Compacted(deferred, committed);
                    }
                }
                Ok(None) => {}
                Err(error) => return Step::Answered(self.failed(generation, fields, &error)),
            }
        }
        let answer = match early {
            Some((answer, version)) if version == latest.version => answer,
            _ => match self.decide(generation, fields, &latest, now) {
                Ok(answer) => answer,
                Err(error) => return Step::Answered(self.failed(generation, fields, &error)),
            },
        };
        let Some(record) = answer.record() else {
            self.remember(cache_key, generation.id, latest.version, &answer);
            return Step::Answered(answer);
        };
        if let Some((key, license, fingerprint)) = keyed {
            // A concurrent request with this key may have been staged meanwhile.
            if let Some(answer) = self.earlier(generation, fields, key, license, fingerprint, now) {
                return Step::Answered(answer);
            }
        }
        let staged = meter.stage(
            guard,
            Recorded::from(record),
            keyed.map(|(key, _, fingerprint)| Keyed {
                key: &key.value,
                fingerprint,
            }),
            &answer.envelope,
            now.timestamp(),
        );
        match staged {
            Ok(committed) => Step::Committing(answer, committed),
            Err(error) => Step::Answered(self.failed(generation, fields, &error)),
        }
    }

    fn usage(&self, license: Option<&str>) -> Arc<LicenseUsage> {
        let Some(license) = license else {
            return Arc::default();
        };
        match &self.metering {
            Metering::Local(meter) => meter.usage(license),
            Metering::Fleet(fleet) => fleet.usage(license),
        }
    }

    /// Asks the module, with the gateway's clock and the given usage.
    fn decide(
        &self,
        generation: &Generation,
        fields: &Map<String, Value>,
        usage: &LicenseUsage,
        now: DateTime<Utc>,
    ) -> Result<Decided, HostError> {
        let mut request = fields.clone();
        request.insert(String::from("op"), json!(Op::Check));
        request.insert(String::from("now"), json!(timestamp(now)));
        request.insert(String::from("usage"), json!({ "metrics": usage.metrics }));
        let bytes = Value::Object(request).to_string();
        let envelope = generation.evaluate(bytes.as_bytes())?;
        let license = fields.get("license").and_then(Value::as_str);
        self.log(generation, license, &bytes, &envelope);
        Decided::module(envelope)
    }

    /// Appends a module answer to the decision log, when there is one.
    fn log(&self, generation: &Generation, license: Option<&str>, request: &str, answer: &str) {
        if let Some(log) = &self.log {
            log.record(&Decision {
                generation,
                license,
                request,
                answer,
            });
        }
    }

    /// Writes out the decision log's last lines; at shutdown.
    pub fn close_log(&self) {
        if let Some(log) = &self.log {
            log.close();
        }
    }

    /// The status of a license with its metered usage.
    pub fn status(&self, license: &str) -> Unread {
        self.status_with_documents(license, false).0
    }

    /// The license's status and, when asked, the documents it was decided on
    /// (for the portal, which decides again in the browser).
    pub fn status_with_documents(
        &self,
        license: &str,
        documents: bool,
    ) -> (Unread, Option<Documents>) {
        let generation = self.generation();
        let at = Utc::now();
        let usage = self.usage_with_history(license, at);
        let now = timestamp(at);
        let request = json!({
            "op": Op::Status,
            "license": license,
            "usage": usage,
            "now": now,
        });
        let bytes = request.to_string();
        let answer = generation.evaluate(bytes.as_bytes()).and_then(|envelope| {
            self.log(&generation, Some(license), &bytes, &envelope);
            Unread::module(envelope)
        });
        let decided = match answer {
            Ok(decided) => decided,
            Err(error) => host_error(
                &generation,
                error.code(),
                "$",
                &error.to_string(),
                "the module failed; the gateway keeps serving, retry",
            ),
        };
        let documents = documents
            .then(|| {
                Documents::of(
                    &generation,
                    license,
                    usage,
                    now,
                    self.sources.cases.as_deref(),
                )
            })
            .flatten();
        (decided, documents)
    }

    /// A license's metered usage with each count's readings of its period
    /// as `history`, for `status` to plot. Without readings (the database
    /// failed to answer) the counts alone still give every figure; only the
    /// plot loses its earlier points.
    fn usage_with_history(&self, license: &str, now: DateTime<Utc>) -> Value {
        let counts = self.usage(Some(license));
        // A fleet's store keeps no readings: its status plots no history.
        let history = self
            .meter()
            .map(|meter| meter.history(license, now.timestamp()));
        let mut history = match history {
            Some(Ok(history)) => history,
            Some(Err(error)) => {
                tracing::warn!(%error, license, "status without the meter's readings");
                BTreeMap::new()
            }
            None => BTreeMap::new(),
        };
        let metrics: Map<String, Value> = counts
            .metrics
            .iter()
            .map(|(metric, count)| {
                let mut value = json!(count);
                if let (Some(fields), Some(readings)) =
                    (value.as_object_mut(), history.remove(metric))
                {
                    fields.insert(String::from("history"), json!(readings));
                }
                (metric.clone(), value)
            })
            .collect();
        json!({ "metrics": metrics, "active_seats": self.seats_seen(license) })
    }

    fn cached(
        &self,
        key: &str,
        generation: u64,
        version: u64,
        now: DateTime<Utc>,
    ) -> Option<Decided> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let hit = cache.get(key)?;
        let fresh = hit.generation == generation
            && hit.usage_version == version
            && hit.valid_until.is_none_or(|until| now < until);
        fresh.then(|| hit.decided.clone())
    }

    fn remember(&self, key: String, generation: u64, version: u64, answer: &Decided) {
        if !answer.cacheable() {
            return;
        }
        let valid_until = answer.valid_until().map(Timestamp::utc);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(
            key,
            Cached {
                generation,
                usage_version: version,
                valid_until,
                decided: answer.clone(),
            },
        );
    }

    /// The answer when the module (or the meter) failed: the feature's
    /// failure mode decides, and nothing is recorded.
    fn failed(
        &self,
        generation: &Generation,
        fields: &Map<String, Value>,
        error: &HostError,
    ) -> Decided {
        self.telemetry
            .module_failures
            .get_or_create(&super::telemetry::KindLabels {
                kind: error.code().to_string(),
            })
            .inc();
        tracing::warn!(code = error.code(), error = %error, "answered by failure mode");
        let feature = fields
            .get("feature")
            .or_else(|| fields.get("metric"))
            .and_then(Value::as_str);
        failure_mode(generation, feature, error)
    }
}

/// The key of a request in the decision cache: its fields as JSON.
fn cache_key(fields: &Map<String, Value>) -> String {
    serde_json::to_string(fields).unwrap_or_default()
}

/// RFC 3339 in UTC with milliseconds, as the rules read it.
fn timestamp(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
