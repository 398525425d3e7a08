//! The one table of operations: each name a request may give in `op`, the
//! fields it accepts and requires, the bundle section it needs, and whether
//! it decides for a license at an instant. Everything that dispatches on an
//! operation (the reader, the dispatcher, the schemas, the page, the
//! packages) asks this table; the module exports it as JSON (`ops`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Whether an operation needs one of the request's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// The request must give it.
    Required,
    /// The request may give it.
    Optional,
    /// The operation does not take it (a replay's instants come from its
    /// scenario, a scan reads many licenses).
    Never,
}

/// An operation of the engine: what a request's `op` names, and what an
/// answer's `op` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// May a license use a feature, or consume units of a metric, now?
    Check,
    /// May one more client hold a floating seat of a license now?
    Seat,
    /// A license's standing, entitlements, quotas and bill so far.
    Status,
    /// The price of the current period: plan, add-ons, overage, credits.
    Quote,
    /// What a move to another tier changes and costs.
    Transition,
    /// Whether a bundle, and a license and usage with it, hold.
    Validate,
    /// Whether a signed document verifies against a key set.
    Verify,
    /// A support case's severity, clocks, level, owner and next action.
    Escalate,
    /// A scenario replayed through time under a bundle.
    Simulate,
    /// One scenario replayed under two bundles, and where they differ.
    Diff,
    /// An exception request assessed: risk, track, approvers, lifecycle.
    Exception,
    /// Compliance findings over licenses, deployments, telemetry and events.
    Scan,
    /// Business-time arithmetic on a calendar.
    BusinessTime,
    /// Not a request's op: the answer to loading a bundle.
    Load,
    /// Not a request's op: the answer to loading a license into a bundle.
    LoadLicense,
    /// Not a request's op: the answer to compiling a loaded license for
    /// compact checks of one feature or metric.
    Compile,
}

/// What the table knows of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OpSpec {
    /// The operation.
    #[serde(rename = "op")]
    pub op: Op,
    /// Every top-level field a request for it may carry besides `op`.
    pub accepts: &'static [&'static str],
    /// The fields it cannot do without (a preloaded bundle or license
    /// stands in for its field).
    pub requires: &'static [&'static str],
    /// Whether it decides for one license (inline or loaded by id).
    pub license: Need,
    /// Whether it is decided at an instant the request gives as `now`.
    pub now: Need,
    /// The bundle section it needs, if any.
    pub section: Option<&'static str>,
}

const fn spec(
    op: Op,
    accepts: &'static [&'static str],
    requires: &'static [&'static str],
    license: Need,
    now: Need,
    section: Option<&'static str>,
) -> OpSpec {
    OpSpec {
        op,
        accepts,
        requires,
        license,
        now,
        section,
    }
}

use Need::{Never, Optional, Required};

/// Every operation a request may name, in the order documentation lists them.
pub const OPS: [OpSpec; 13] = [
    spec(
        Op::Check,
        &[
            "bundle", "license", "usage", "now", "feature", "metric", "amount", "keys", "route",
        ],
        &["bundle", "license", "now"],
        Required,
        Required,
        None,
    ),
    spec(
        Op::Seat,
        &["bundle", "license", "usage", "now", "keys"],
        &["bundle", "license", "now"],
        Required,
        Required,
        None,
    ),
    spec(
        Op::Status,
        &["bundle", "license", "usage", "now", "keys", "what_if"],
        &["bundle", "license", "now"],
        Required,
        Required,
        None,
    ),
    spec(
        Op::Quote,
        &["bundle", "license", "usage", "now", "keys", "uptime"],
        &["bundle", "license", "now"],
        Required,
        Required,
        None,
    ),
    spec(
        Op::Transition,
        &["bundle", "license", "usage", "now", "to", "keys"],
        &["bundle", "license", "now", "to"],
        Required,
        Required,
        None,
    ),
    spec(
        Op::Validate,
        &["bundle", "license", "usage", "keys"],
        &["bundle"],
        Optional,
        Never,
        None,
    ),
    spec(
        Op::Verify,
        &["keys", "document", "kind", "now"],
        &["keys", "document"],
        Never,
        Optional,
        None,
    ),
    spec(
        Op::Escalate,
        &["bundle", "license", "now", "keys", "case", "reevaluate"],
        &["bundle", "license", "now", "case"],
        Required,
        Required,
        Some("support"),
    ),
    spec(
        Op::Simulate,
        &["bundle", "license", "keys", "scenario"],
        &["bundle", "license", "scenario"],
        Required,
        Never,
        None,
    ),
    spec(
        Op::Diff,
        &["bundle", "against", "license", "keys", "scenario"],
        &["bundle", "against", "license", "scenario"],
        Required,
        Never,
        None,
    ),
    spec(
        Op::Exception,
        &["bundle", "license", "now", "keys", "request"],
        &["bundle", "license", "now", "request"],
        Required,
        Required,
        Some("exception_policy"),
    ),
    spec(
        Op::Scan,
        &[
            "bundle",
            "licenses",
            "deployments",
            "telemetry",
            "events",
            "now",
            "keys",
        ],
        &["bundle", "now", "licenses"],
        Never,
        Required,
        Some("compliance"),
    ),
    spec(
        Op::BusinessTime,
        &[
            "action", "calendar", "bundle", "keys", "at", "seconds", "from", "to",
        ],
        &["action", "calendar"],
        Never,
        Never,
        None,
    ),
];

impl Op {
    /// The operation a request names, if it is one a request may name.
    ///
    /// ```
    /// use entitle_core::{Need, Op};
    ///
    /// let op = Op::parse("business_time").unwrap();
    /// assert_eq!(op, Op::BusinessTime);
    /// assert_eq!(op.license(), Need::Never);
    /// assert!(op.accepts().contains(&"calendar"));
    /// assert_eq!(Op::parse("load"), None); // an answer's op, not a request's
    /// ```
    pub fn parse(name: &str) -> Option<Op> {
        OPS.iter().map(|spec| spec.op).find(|op| op.name() == name)
    }

    /// The name requests and answers give it.
    pub fn name(self) -> &'static str {
        match self {
            Op::Check => "check",
            Op::Seat => "seat",
            Op::Status => "status",
            Op::Quote => "quote",
            Op::Transition => "transition",
            Op::Validate => "validate",
            Op::Verify => "verify",
            Op::Escalate => "escalate",
            Op::Simulate => "simulate",
            Op::Diff => "diff",
            Op::Exception => "exception",
            Op::Scan => "scan",
            Op::BusinessTime => "business_time",
            Op::Load => "load",
            Op::LoadLicense => "load_license",
            Op::Compile => "compile",
        }
    }

    /// What the table knows of it; `None` for the answer-only `load` ops.
    pub fn spec(self) -> Option<&'static OpSpec> {
        // `OPS` lists the operations in the order of the enum's variants.
        OPS.get(self as usize).filter(|spec| spec.op == self)
    }

    /// The fields a request for it may carry besides `op`.
    pub fn accepts(self) -> &'static [&'static str] {
        self.spec().map_or(&[], |spec| spec.accepts)
    }

    /// Whether it decides for one license.
    pub fn license(self) -> Need {
        self.spec().map_or(Never, |spec| spec.license)
    }

    /// Whether it is decided at the request's `now`.
    pub fn now(self) -> Need {
        self.spec().map_or(Never, |spec| spec.now)
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        match name.as_ref() {
            "load" => Ok(Op::Load),
            "load_license" => Ok(Op::LoadLicense),
            "compile" => Ok(Op::Compile),
            other => Op::parse(other)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown operation `{other}`"))),
        }
    }
}

/// The table as JSON, for the page and the language packages: one object per
/// operation with `op`, `accepts`, `requires`, `license`, `now`, `section`.
pub fn table_json() -> String {
    serde_json::to_string(&OPS).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn every_name_reads_back_and_requires_only_what_it_accepts() {
        for spec in OPS {
            assert_eq!(Op::parse(spec.op.name()), Some(spec.op));
            for field in spec.requires {
                let preloadable = *field == "bundle" || *field == "license";
                assert!(
                    spec.accepts.contains(field) || preloadable,
                    "{} requires {field}",
                    spec.op
                );
            }
        }
        assert_eq!(Op::parse("load"), None);
        assert_eq!(Op::Load.spec(), None);
        assert_eq!(Op::LoadLicense.accepts(), &[] as &[&str]);
        for (i, spec) in OPS.iter().enumerate() {
            assert_eq!(spec.op as usize, i, "OPS lists {} out of order", spec.op);
            assert_eq!(spec.op.spec(), Some(spec));
        }
        assert_eq!(Op::parse("Check"), None);
    }

    #[test]
    fn the_table_is_json_a_page_can_read() {
        let table: serde_json::Value = serde_json::from_str(&table_json()).unwrap_or_default();
        assert_eq!(table[0]["op"], "check");
        assert_eq!(table[1]["op"], "seat");
        assert_eq!(table[5]["op"], "validate");
        assert_eq!(table[5]["license"], "optional");
        assert_eq!(table[12]["op"], "business_time");
        assert_eq!(table.as_array().map(Vec::len), Some(13));
    }
}
