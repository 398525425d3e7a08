//! The typed calls under the JSON entry: documents read once into types
//! only reading can make, then `check` and `status` called with them and
//! answered with typed results. The JSON entry and these calls share the
//! same rules, so a typed answer equals the `result` of the JSON one.

use std::fmt;

use super::{ops, LoadedBundle};
use crate::billing::quote::Quote;
use crate::entitlement::check::{Ask, CheckAnswer};
use crate::entitlement::status::Status;
use crate::entitlement::transition::TransitionAnswer;
use crate::error::{Conflict, Error, ErrorReport, JsonPath, RefKind};
use crate::metering::{history, meter};
use crate::model::bundle::FeatureKind;
use crate::model::ids::FeatureId;
use crate::model::license::{License, Usage};
use crate::model::time::Timestamp;
use crate::reading::bundle::BundleMeta;
use crate::reading::{json, parts, validate};

/// A refusal by the typed API: every problem found, each with its stable
/// code, the JSON path of the field at fault and a help line; the same
/// reports a JSON answer lists under `errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    errors: Vec<ErrorReport>,
}

impl Rejected {
    pub(crate) fn new(errors: Vec<Error>) -> Rejected {
        Rejected {
            errors: ErrorReport::list(&errors),
        }
    }

    /// The problems, in the order they were found (at most
    /// [`crate::error::MAX_ERRORS`] and a count of the rest).
    pub fn errors(&self) -> &[ErrorReport] {
        &self.errors
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, report) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{} at {}: {}", report.code, report.path, report.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejected {}

/// A license read and validated against one bundle: only
/// [`LoadedBundle::license`] makes one, so a license that was never checked
/// against the bundle's tiers, features and add-ons cannot reach a rule.
#[derive(Debug, Clone)]
pub struct ValidLicense {
    license: License,
    /// The hash of the bundle it was validated against.
    bundle_hash: String,
}

impl ValidLicense {
    /// The license's id.
    pub fn id(&self) -> &str {
        self.license.license.as_str()
    }
}

/// A usage document read and validated against one bundle: only
/// [`LoadedBundle::usage`] makes one.
#[derive(Debug, Clone)]
pub struct ValidUsage {
    usage: Usage,
    bundle_hash: String,
}

impl LoadedBundle {
    /// Reads a bundle document (JSON bytes) and validates it: the typed
    /// counterpart of [`LoadedBundle::load`], refusing with every problem.
    pub fn read(bundle: &[u8]) -> Result<LoadedBundle, Rejected> {
        let root = JsonPath::root().key("bundle");
        let value = json::parse(bundle, &root).map_err(|e| Rejected::new(vec![e]))?;
        let (bundle, meta, _) =
            crate::reading::bundle::read_bundle_field(value, None, &root).map_err(Rejected::new)?;
        Ok(LoadedBundle::new(bundle, meta))
    }

    /// The bundle's id, version and hash, as every answer's `meta` gives them.
    pub fn meta(&self) -> &BundleMeta {
        &self.meta
    }

    /// Reads a license document and validates it against this bundle.
    /// Errors have paths under `$.license`.
    pub fn license(&self, license: &[u8]) -> Result<ValidLicense, Rejected> {
        let license = self.read_license(license).map_err(Rejected::new)?;
        Ok(ValidLicense {
            license,
            bundle_hash: self.meta.hash.clone(),
        })
    }

    /// Reads a usage document and validates it against this bundle: every
    /// metric must be a metered feature. Errors have paths under `$.usage`.
    pub fn usage(&self, usage: &[u8]) -> Result<ValidUsage, Rejected> {
        let root = JsonPath::root().key("usage");
        let value = json::parse(usage, &root).map_err(|e| Rejected::new(vec![e]))?;
        let usage = parts::usage(&value, &root).map_err(Rejected::new)?;
        let errors = validate::usage(&self.bundle, &usage, &root);
        if !errors.is_empty() {
            return Err(Rejected::new(errors));
        }
        Ok(ValidUsage {
            usage,
            bundle_hash: self.meta.hash.clone(),
        })
    }

    /// What a check asks of a feature: may it be used now? Refused when the
    /// bundle defines no such feature.
    pub fn ask_feature(&self, feature: &str) -> Result<Ask, Rejected> {
        self.asked(feature, None).map_err(Rejected::new)
    }

    /// What a check asks of a metered feature: may `amount` more units be
    /// consumed now? Refused when the bundle defines no such feature or it is
    /// not metered.
    pub fn ask_consume(&self, metric: &str, amount: u64) -> Result<Ask, Rejected> {
        self.asked(metric, Some(amount)).map_err(Rejected::new)
    }

    /// A feature check (`amount` is `None`) or a consuming check, held to
    /// the bundle: the errors a JSON check naming it gets.
    pub(crate) fn asked(&self, name: &str, amount: Option<u64>) -> Result<Ask, Vec<Error>> {
        let Some(amount) = amount else {
            return self
                .feature(name, "feature", RefKind::Feature)
                .map(Ask::Feature);
        };
        let metric = self.feature(name, "metric", RefKind::Metric)?;
        let metered = self
            .bundle
            .features
            .get(&metric)
            .is_some_and(|f| f.kind == FeatureKind::Metered);
        if !metered {
            return Err(vec![Error::Contradiction {
                path: JsonPath::root().key("metric"),
                detail: format!("feature `{metric}` is boolean: check it with `feature`"),
                code: Conflict::NotMetered,
            }]);
        }
        Ok(Ask::Consume { metric, amount })
    }

    fn feature(&self, name: &str, field: &str, kind: RefKind) -> Result<FeatureId, Vec<Error>> {
        let path = JsonPath::root().key(field);
        let id: FeatureId =
            json::typed(serde_json::Value::from(name), &path).map_err(|e| vec![e])?;
        if self.bundle.features.contains_key(&id) {
            Ok(id)
        } else {
            Err(vec![Error::UnknownReference {
                path,
                kind,
                name: name.to_string(),
            }])
        }
    }

    /// May the license do what `ask` asks at `now`, given the usage counted
    /// so far? The same decision, reasons and `valid_until` a `check`
    /// request's `result` holds.
    pub fn check(
        &self,
        license: &ValidLicense,
        usage: &ValidUsage,
        ask: &Ask,
        now: Timestamp,
    ) -> Result<CheckAnswer, Rejected> {
        // An ask built by hand rather than by `ask_feature` or `ask_consume`
        // is held to the bundle all the same.
        let ask = match ask {
            Ask::Feature(feature) => self.ask_feature(feature.as_str())?,
            Ask::Consume { metric, amount } => self.ask_consume(metric.as_str(), *amount)?,
        };
        let usage = self.current(license, usage, now)?;
        ops::check::decide(&self.decide(license, &usage, now), &ask).map_err(Rejected::new)
    }

    /// The license's standing, entitlements, quotas and bill so far at
    /// `now`: what a `status` request's `result` holds.
    pub fn status(
        &self,
        license: &ValidLicense,
        usage: &ValidUsage,
        now: Timestamp,
    ) -> Result<Status, Rejected> {
        let usage = self.current(license, usage, now)?;
        ops::status::decide(&self.decide(license, &usage, now)).map_err(Rejected::new)
    }

    /// The price of the license's current period at `now`: plan, add-ons,
    /// overage and, given the period's measured `uptime` (a percentage such
    /// as `"99.5"`), the service credits it earns; what a `quote` request's
    /// `result` holds.
    pub fn quote(
        &self,
        license: &ValidLicense,
        usage: &ValidUsage,
        now: Timestamp,
        uptime: Option<&str>,
    ) -> Result<Quote, Rejected> {
        let uptime = uptime
            .map(|text| ops::quote::read_uptime(serde_json::Value::from(text)))
            .transpose()
            .map_err(Rejected::new)?;
        let usage = self.current(license, usage, now)?;
        ops::quote::decide(&self.decide(license, &usage, now), uptime).map_err(Rejected::new)
    }

    /// What moving the license to the tier `to` changes and costs at `now`:
    /// what a `transition` request's `result` holds.
    pub fn transition(
        &self,
        license: &ValidLicense,
        usage: &ValidUsage,
        to: &str,
        now: Timestamp,
    ) -> Result<TransitionAnswer, Rejected> {
        let to = ops::transition::read_to(serde_json::Value::from(to), &self.bundle)
            .map_err(Rejected::new)?;
        let usage = self.current(license, usage, now)?;
        ops::transition::decide(&self.decide(license, &usage, now), &to).map_err(Rejected::new)
    }

    fn decide<'a>(
        &'a self,
        license: &'a ValidLicense,
        usage: &'a Usage,
        now: Timestamp,
    ) -> ops::Decide<'a> {
        ops::Decide {
            bundle: &self.bundle,
            license: &license.license,
            usage,
            now,
        }
    }

    /// The usage as it counts at `now` for `license`, after checking both
    /// were validated against this bundle: counts recorded in a past period
    /// count as nothing, and readings after `now` are refused.
    fn current(
        &self,
        license: &ValidLicense,
        usage: &ValidUsage,
        now: Timestamp,
    ) -> Result<Usage, Rejected> {
        let root = JsonPath::root();
        let mismatch = |field: &str| Error::Contradiction {
            path: root.key(field),
            detail: format!(
                "this {field} was validated against another bundle than `{}` ({})",
                self.meta.id, self.meta.hash
            ),
            code: Conflict::BundleVersionMismatch,
        };
        let mut errors = Vec::new();
        if license.bundle_hash != self.meta.hash {
            errors.push(mismatch("license"));
        }
        if usage.bundle_hash != self.meta.hash {
            errors.push(mismatch("usage"));
        }
        errors.extend(history::check(&usage.usage, Some(now), &root.key("usage")));
        if !errors.is_empty() {
            return Err(Rejected::new(errors));
        }
        Ok(meter::current(
            &self.bundle,
            &license.license,
            usage.usage.clone(),
            now,
        ))
    }
}
