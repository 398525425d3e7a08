//! The `scan` operation: compares what licenses entitle with what telemetry
//! saw and the customer declared, and reports findings — each with its
//! detector, severity, queue and owner, the evidence records by JSON path,
//! ranked remediation options, and a case ready for `escalate`.

mod detectors;

use serde::Serialize;
use serde_json::Value;

use crate::compliance::inventory::Inventory;
use crate::compliance::policy::{self, Compliance, Route};
use crate::compliance::remediation::{self, Remedy};
use crate::error::{Error, JsonPath};
use crate::model::bundle::Bundle;
use crate::model::ids::{CategoryId, EvidenceId, LicenseId, RoleId, SeverityId};
use crate::model::time::{Timestamp, Zone};
use crate::support::policy::Support;

/// The detector that raised a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// The latest day's usage against its trailing baseline.
    Spike,
    /// More installations than seats.
    OverDeployment,
    /// An installation seen but never declared.
    Undeclared,
    /// Use after the term ended, after termination, or while suspended.
    AfterTermination,
}

/// A record of the request a finding rests on.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Its JSON path in the request.
    pub path: JsonPath,
    /// The record, as read.
    pub record: Value,
}

/// A case for `escalate`, in the shape it accepts.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDraft {
    /// The case id: `scan:<detector>:<license>:<subject>`.
    pub case: String,
    /// The finding's queue.
    pub category: CategoryId,
    /// The scan's `now`.
    pub opened_at: Timestamp,
    /// The bundle's version.
    pub bundle_version: String,
    /// The finding's impact.
    pub impact: Impact,
    /// The license's zone, as the customer's: `escalate` needs it when the
    /// bundle has quiet hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_time_zone: Option<Zone>,
    /// The evidence kinds the category requires that the scan provides.
    pub evidence: Vec<EvidenceId>,
    /// Always empty.
    pub events: Vec<Value>,
}

/// A case's impact, as `escalate` reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    /// Always false: a scan never blocks access.
    pub access_blocked: bool,
    /// Installations over the seats, undeclared, or in use after the end.
    pub seats_affected: u32,
    /// The cost of the first-ranked priced true-up, or zero.
    pub revenue_at_risk: String,
    /// Always false.
    pub regulatory_exposure: bool,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `<detector>:<license>:<subject>`.
    pub id: String,
    /// What found it.
    pub detector: Detector,
    /// The license it is about.
    pub license: LicenseId,
    /// The metric, installation, license or contract state it is about.
    pub subject: String,
    /// Its severity.
    pub severity: SeverityId,
    /// The escalation category it is queued in.
    pub queue: CategoryId,
    /// That category's owner role.
    pub owner: Option<RoleId>,
    /// What was measured against the threshold.
    pub measure: detectors::Measure,
    /// The records it rests on.
    pub evidence: Vec<Evidence>,
    /// What could fix it, best first.
    pub remediation: Vec<Remedy>,
    /// A case for `escalate`.
    pub case: CaseDraft,
}

/// The answer of `scan`.
#[derive(Debug, Clone, Serialize)]
pub struct Scan {
    /// The instant scanned at.
    pub now: Timestamp,
    /// The detectors the bundle configures, in the order they run.
    pub detectors: Vec<Detector>,
    /// Licenses scanned.
    pub licenses: usize,
    /// Every finding: by detector, then in the order of the records that raised it.
    pub findings: Vec<Finding>,
}

/// A finding as a detector reports it, before routing and ranking.
pub(crate) struct Raw<'a> {
    pub detector: Detector,
    pub license: LicenseId,
    pub subject: String,
    pub route: Route<'a>,
    /// Whether the measure reaches a severity step.
    pub reaches: Box<dyn Fn(&policy::Step) -> bool + 'a>,
    pub measure: detectors::Measure,
    pub evidence: Vec<(Evidence, &'static str)>,
    pub options: Vec<remediation::Choice>,
    pub seats_affected: u64,
}

/// Scans the inventory under the bundle at `now`.
pub fn scan(bundle: &Bundle, inventory: &Inventory, now: Timestamp) -> Result<Scan, Vec<Error>> {
    let root = JsonPath::root().key("bundle");
    let missing = |field: &str| {
        vec![Error::MissingField {
            path: root.key(field),
            field: field.into(),
        }]
    };
    let Some(compliance) = &bundle.compliance else {
        return Err(missing("compliance"));
    };
    let Some(support) = &bundle.support else {
        return Err(missing("support"));
    };
    let ctx = detectors::Ctx {
        bundle,
        inventory,
        now,
    };
    let mut raws = Vec::new();
    let mut ran = Vec::new();
    let Compliance {
        spike,
        over_deployment,
        undeclared,
        after_termination,
        ..
    } = compliance;
    if let Some(s) = spike {
        ran.push(Detector::Spike);
        raws.extend(detectors::spike(&ctx, s).map_err(|e| vec![e])?);
    }
    if let Some(o) = over_deployment {
        ran.push(Detector::OverDeployment);
        raws.extend(detectors::over_deployment(&ctx, o).map_err(|e| vec![e])?);
    }
    if let Some(u) = undeclared {
        ran.push(Detector::Undeclared);
        raws.extend(detectors::undeclared(&ctx, u).map_err(|e| vec![e])?);
    }
    if let Some(a) = after_termination {
        ran.push(Detector::AfterTermination);
        raws.extend(detectors::after_termination(&ctx, a).map_err(|e| vec![e])?);
    }
    let findings = raws
        .into_iter()
        .map(|raw| finish(bundle, support, inventory, raw, now))
        .collect();
    Ok(Scan {
        now,
        detectors: ran,
        licenses: inventory.licenses.len(),
        findings,
    })
}

fn detector_name(d: Detector) -> &'static str {
    match d {
        Detector::Spike => "spike",
        Detector::OverDeployment => "over_deployment",
        Detector::Undeclared => "undeclared",
        Detector::AfterTermination => "after_termination",
    }
}

fn finish(
    bundle: &Bundle,
    support: &Support,
    inventory: &Inventory,
    raw: Raw<'_>,
    now: Timestamp,
) -> Finding {
    let zone = inventory
        .licenses
        .iter()
        .find(|l| l.license == raw.license)
        .map(|l| l.time_zone);
    let severity = policy::severity(support, &raw.route, &raw.reaches);
    let queue = raw.route.queue.clone();
    let category = support.categories.get(&queue);
    let owner = category.map(|c| c.owner.clone());
    let kinds: Vec<&str> = raw.evidence.iter().map(|(_, k)| *k).collect();
    let evidence_kinds = category
        .map(|c| {
            c.evidence
                .iter()
                .filter(|e| kinds.contains(&e.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let remediation = remediation::rank(raw.options);
    let revenue = remediation
        .iter()
        .find(|r| matches!(r.action, remediation::Action::TrueUp { .. }) && r.cost.minor > 0)
        .map_or_else(|| remediation::free(bundle), |r| r.cost);
    let name = detector_name(raw.detector);
    let id = format!("{name}:{}:{}", raw.license, raw.subject);
    Finding {
        case: CaseDraft {
            case: format!("scan:{id}"),
            category: queue.clone(),
            opened_at: now,
            bundle_version: bundle.version.clone(),
            impact: Impact {
                access_blocked: false,
                seats_affected: u32::try_from(raw.seats_affected).unwrap_or(u32::MAX),
                revenue_at_risk: revenue.amount().to_string(),
                regulatory_exposure: false,
            },
            customer_time_zone: zone,
            evidence: evidence_kinds,
            events: Vec::new(),
        },
        id,
        detector: raw.detector,
        license: raw.license,
        subject: raw.subject,
        severity,
        queue,
        owner,
        measure: raw.measure,
        evidence: raw.evidence.into_iter().map(|(e, _)| e).collect(),
        remediation,
    }
}
