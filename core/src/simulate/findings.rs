//! A simulation's compliance findings: the scenario's installations,
//! declarations, accepted usage and contract changes up to an instant, as
//! the inventory `scan` reads, and the findings that appear, change
//! severity or clear from one evaluated instant to the next.

use std::collections::BTreeMap;

use crate::compliance::inventory::{
    ContractEvent, Deployment, EventKind, Installation, Inventory, Point, Series, Telemetry,
};
use crate::compliance::scan::{scan, Detector};
use crate::error::Error;
use crate::model::bundle::Bundle;
use crate::model::ids::{FeatureId, InstallationId, SeverityId};
use crate::model::license::{License, LicenseStatus};
use crate::model::time::{Date, Timestamp};

use super::{Entry, What};

/// What the scenario has shown of the license's deployment so far.
#[derive(Debug, Default)]
pub struct Observed {
    /// Installations: first seen, and when they stopped being seen.
    pub installations: Vec<(InstallationId, Timestamp, Option<Timestamp>)>,
    /// Declared installations.
    pub declared: Vec<InstallationId>,
    /// Units counted, by metric and local date.
    pub usage: BTreeMap<(FeatureId, Date), u64>,
    /// Status changes: when, and to what.
    pub contract: Vec<(Timestamp, LicenseStatus)>,
    /// Findings open at the last evaluation, with their severity.
    open: BTreeMap<(Detector, String), SeverityId>,
}

impl Observed {
    /// The inventory as of `t`: installations still seen then have `t` as
    /// their last sighting; suspensions end at the next status change.
    fn inventory(&self, license: &License, t: Timestamp) -> Inventory {
        let id = &license.license;
        let installations = self
            .installations
            .iter()
            .map(|(installation, first, last)| Installation {
                id: installation.clone(),
                license: id.clone(),
                first_seen: *first,
                last_seen: last.map_or(t, |l| l.min(t)),
            })
            .collect();
        let deployments = self
            .declared
            .iter()
            .map(|installation| Deployment {
                installation: installation.clone(),
                license: id.clone(),
            })
            .collect();
        let mut series: BTreeMap<&FeatureId, Vec<Point>> = BTreeMap::new();
        for ((metric, date), value) in &self.usage {
            series.entry(metric).or_default().push(Point {
                date: *date,
                value: *value,
            });
        }
        let usage = series
            .into_iter()
            .map(|(metric, points)| Series {
                license: id.clone(),
                metric: metric.clone(),
                points,
            })
            .collect();
        let mut events = Vec::new();
        for (i, (at, status)) in self.contract.iter().enumerate() {
            let kind = match status {
                LicenseStatus::Terminated => EventKind::Termination,
                LicenseStatus::Suspended => EventKind::Suspension,
                LicenseStatus::Active => continue,
            };
            let until = self.contract.get(i + 1).map(|(next, _)| *next);
            events.push(ContractEvent {
                kind,
                license: id.clone(),
                at: *at,
                until: until.filter(|_| kind == EventKind::Suspension),
            });
        }
        Inventory {
            licenses: vec![license.clone()],
            deployments,
            telemetry: Telemetry {
                installations,
                usage,
            },
            events,
        }
    }

    /// Scans at `t` and lists what changed since the last scan.
    pub fn evaluate(
        &mut self,
        bundle: &Bundle,
        license: &License,
        t: Timestamp,
    ) -> Result<Vec<Entry>, Vec<Error>> {
        let answer = scan(bundle, &self.inventory(license, t), t)?;
        let mut now: BTreeMap<(Detector, String), SeverityId> = BTreeMap::new();
        let mut entries = Vec::new();
        for finding in answer.findings {
            let key = (finding.detector, finding.subject.clone());
            if self.open.get(&key) != Some(&finding.severity) {
                entries.push(Entry {
                    at: t,
                    what: What::Finding {
                        detector: finding.detector,
                        subject: finding.subject.clone(),
                        severity: finding.severity.clone(),
                        queue: finding.queue.clone(),
                        owner: finding.owner.clone(),
                    },
                });
            }
            now.insert(key, finding.severity);
        }
        for (detector, subject) in self.open.keys() {
            if !now.contains_key(&(*detector, subject.clone())) {
                entries.push(Entry {
                    at: t,
                    what: What::FindingCleared {
                        detector: *detector,
                        subject: subject.clone(),
                    },
                });
            }
        }
        self.open = now;
        Ok(entries)
    }
}
