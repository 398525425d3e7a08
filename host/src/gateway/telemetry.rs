//! The gateway's metrics, in the Prometheus text format: decisions by
//! endpoint, outcome and reason, request latency, module failures, reloads,
//! and which module and bundle are being served.

use std::borrow::Cow;
use std::sync::{Mutex, PoisonError};

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a decision.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// `check`, `forward_auth`, `seats` or `status`.
    pub endpoint: &'static str,
    /// `allow`, `allow_in_grace`, `deny` or `error`.
    pub outcome: Cow<'static, str>,
    /// The reason code, or the first error code. Known codes are borrowed,
    /// so counting a decision allocates nothing.
    pub reason: Cow<'static, str>,
}

/// Labels of a latency observation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    /// The endpoint.
    pub endpoint: &'static str,
}

/// Labels of what is served.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServedLabels {
    /// The module's sha256.
    pub module_sha256: String,
    /// The bundle's id.
    pub bundle: String,
    /// The bundle's version.
    pub bundle_version: String,
    /// The bundle's hash.
    pub bundle_hash: String,
}

/// Labels of a module failure or a reload.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// What happened (`timeout`, `trap`...; `ok`, `refused`...).
    pub kind: String,
}

/// Every metric of the gateway.
pub struct Telemetry {
    registry: Mutex<Registry>,
    /// Decisions answered.
    pub decisions: Family<DecisionLabels, Counter>,
    /// Request latency in seconds, decision endpoints only.
    pub latency: Family<EndpointLabels, Histogram>,
    /// Module calls that failed (answered by failure mode).
    pub module_failures: Family<KindLabels, Counter>,
    /// Reloads, by result.
    pub reloads: Family<KindLabels, Counter>,
    /// 1 for what is served now.
    pub served: Family<ServedLabels, Gauge>,
    /// Decisions answered from the cache.
    pub cache_hits: Counter,
    /// Checks the module's compact check decided.
    pub compact_checks: Counter,
    /// Checks whose JSON answer disagreed with their compact one (never, as
    /// long as the compact one is its projection).
    pub compact_disagreements: Counter,
    /// Consuming checks spent from a lease this gateway held, without a
    /// call to the fleet's store.
    pub lease_spends: Counter,
    /// Consuming checks admitted under `bounded_open` while the fleet's
    /// store was unreachable (counted in it once it is back).
    pub owed_admissions: Counter,
    /// 1 while the fleet's store answers, 0 while it does not (absent on
    /// a gateway's own meter).
    pub store_up: Gauge,
    /// Units admitted while the store was away and not yet counted in it.
    pub units_owed: Gauge,
    /// Units reserved by this gateway's leases and not spent.
    pub lease_units_unspent: Gauge,
}

impl Telemetry {
    /// Registers every metric.
    pub fn new() -> Telemetry {
        let mut registry = Registry::with_prefix("entitle");
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register("decisions", "Decisions answered", decisions.clone());
        let latency = Family::<EndpointLabels, Histogram>::new_with_constructor(|| {
            // 25 µs to about 3.3 s, doubling.
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                0.000_025, 2.0, 18,
            ))
        });
        registry.register(
            "request_duration_seconds",
            "Time from request to answer",
            latency.clone(),
        );
        let module_failures = Family::<KindLabels, Counter>::default();
        registry.register(
            "module_failures",
            "Module calls that trapped or ran past their deadline, answered by failure mode",
            module_failures.clone(),
        );
        let reloads = Family::<KindLabels, Counter>::default();
        registry.register(
            "reloads",
            "Reloads of module, bundle and licenses",
            reloads.clone(),
        );
        let served = Family::<ServedLabels, Gauge>::default();
        registry.register(
            "served",
            "The module and bundle being served (1)",
            served.clone(),
        );
        let cache_hits = Counter::default();
        registry.register(
            "decision_cache_hits",
            "Decisions answered from the cache, within their valid_until",
            cache_hits.clone(),
        );
        let compact_checks = Counter::default();
        registry.register(
            "compact_checks",
            "Checks decided by the module's compact check",
            compact_checks.clone(),
        );
        let compact_disagreements = Counter::default();
        registry.register(
            "compact_disagreements",
            "Checks whose full JSON answer disagreed with the compact one they were decided by",
            compact_disagreements.clone(),
        );
        let lease_spends = Counter::default();
        registry.register(
            "lease_spends",
            "Consuming checks spent from a lease this gateway held, without a call to the fleet's store",
            lease_spends.clone(),
        );
        let owed_admissions = Counter::default();
        registry.register(
            "owed_admissions",
            "Consuming checks admitted under bounded_open while the fleet's store was unreachable",
            owed_admissions.clone(),
        );
        let store_up = Gauge::default();
        let units_owed = Gauge::default();
        let lease_units_unspent = Gauge::default();
        registry.register(
            "store_up",
            "1 while the fleet's store answers this gateway, 0 while it does not",
            store_up.clone(),
        );
        registry.register(
            "units_owed",
            "Units admitted under bounded_open while the fleet's store was away, not yet counted in it",
            units_owed.clone(),
        );
        registry.register(
            "lease_units_unspent",
            "Units this gateway's leases reserved in the fleet's store and have not spent",
            lease_units_unspent.clone(),
        );
        Telemetry {
            registry: Mutex::new(registry),
            decisions,
            latency,
            module_failures,
            reloads,
            served,
            cache_hits,
            compact_checks,
            compact_disagreements,
            lease_spends,
            owed_admissions,
            store_up,
            units_owed,
            lease_units_unspent,
        }
    }

    /// Registers the meter's counts of commits and of the records they held
    /// (their ratio is the average group a commit wrote).
    pub fn meter(&self, counts: &super::meter::Commits) {
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        registry.register(
            "meter_commits",
            "Transactions the meter committed",
            counts.commits.clone(),
        );
        registry.register(
            "meter_records",
            "Consuming checks' records those transactions held",
            counts.records.clone(),
        );
    }

    /// Registers the counts of a PostgreSQL store's batched calls and of
    /// the consuming checks they carried.
    pub fn store_batches(&self, calls: Counter, checks: Counter) {
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        registry.register(
            "store_batches",
            "Calls to the fleet's PostgreSQL that carried consuming checks which waited for the call before them",
            calls,
        );
        registry.register(
            "store_batched_checks",
            "Consuming checks those batched calls carried",
            checks,
        );
    }

    /// Marks what is served now, forgetting what was served before.
    pub fn serving(&self, labels: ServedLabels) {
        self.served.clear();
        self.served.get_or_create(&labels).set(1);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry::new()
    }
}
