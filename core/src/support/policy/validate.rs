//! Checks of the support section against itself and the rest of the bundle:
//! every name it uses is declared, every target can be counted.

use std::collections::BTreeSet;

use crate::error::{Conflict, Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;
use crate::model::ids::CalendarId;

use super::{Support, Target, Trigger};

/// Every problem of a bundle's support section; `at` is its path.
pub fn validate(bundle: &Bundle, support: &Support, at: &JsonPath) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, severity) in support.severities.iter().enumerate() {
        if !seen.insert(severity) {
            errors.push(Error::Duplicate {
                path: at.key("severities").index(i),
                what: "severity".into(),
                value: severity.to_string(),
            });
        }
    }
    if support.severities.is_empty() {
        errors.push(Error::MissingField {
            path: at.key("severities"),
            field: "severities".into(),
        });
    }
    let known = |s| support.rank(s).is_some();
    if !known(&support.default_severity) {
        errors.push(Error::unknown(
            at.key("default_severity"),
            RefKind::Severity,
            support.default_severity.as_str(),
        ));
    }
    for (i, rule) in support.severity_rules.iter().enumerate() {
        let path = at.key("severity_rules").index(i);
        if !known(&rule.severity) {
            errors.push(Error::unknown(
                path.key("severity"),
                RefKind::Severity,
                rule.severity.as_str(),
            ));
        }
        let w = &rule.when;
        if w.access_blocked.is_none()
            && w.seats_affected_at_least.is_none()
            && w.revenue_at_risk_at_least.is_none()
            && w.regulatory_exposure.is_none()
        {
            errors.push(Error::Contradiction {
                path: path.key("when"),
                detail: format!("severity rule `{}` states no condition", rule.rule),
                code: Conflict::EmptyCondition,
            });
        }
    }
    let sla = at.key("sla");
    if !(1..=99).contains(&support.sla.at_risk_percent) {
        errors.push(Error::OutOfRange {
            path: sla.key("at_risk_percent"),
            detail: format!(
                "`at_risk_percent` is a share of the target from 1 to 99, got `{}`",
                support.sla.at_risk_percent
            ),
        });
    }
    for (tier, by_severity) in &support.sla.policies {
        let path = sla.key("policies").key(tier.as_str());
        if !bundle.tiers.contains_key(tier) {
            errors.push(Error::unknown(path.clone(), RefKind::Tier, tier.as_str()));
        }
        for (severity, policy) in by_severity {
            let p = path.key(severity.as_str());
            if !known(severity) {
                errors.push(Error::unknown(
                    p.clone(),
                    RefKind::Severity,
                    severity.as_str(),
                ));
            }
            target(
                bundle,
                &policy.first_response,
                &p.key("first_response"),
                &mut errors,
            );
            target(bundle, &policy.update, &p.key("update"), &mut errors);
            target(
                bundle,
                &policy.resolution,
                &p.key("resolution"),
                &mut errors,
            );
        }
        // Every severity needs targets, or a case of that severity would
        // silently run without an SLA.
        for severity in &support.severities {
            if !by_severity.contains_key(severity) {
                errors.push(Error::MissingField {
                    path: path.key(severity.as_str()),
                    field: severity.to_string(),
                });
            }
        }
    }
    let mut phases = BTreeSet::new();
    for (id, category) in &support.categories {
        let path = at.key("categories").key(id.as_str());
        calendar(
            bundle,
            &category.calendar,
            &path.key("calendar"),
            &mut errors,
        );
        if category.phases.is_empty() {
            errors.push(Error::Contradiction {
                path: path.key("phases"),
                detail: format!("category `{id}` has no phase"),
                code: Conflict::NoPhases,
            });
        }
        let mut own = BTreeSet::new();
        for (i, phase) in category.phases.iter().enumerate() {
            let p = path.key("phases").index(i);
            if !own.insert(&phase.phase) {
                errors.push(Error::Duplicate {
                    path: p.key("phase"),
                    what: "phase".into(),
                    value: phase.phase.to_string(),
                });
            }
            phases.insert(&phase.phase);
            minutes(phase.minutes, &p.key("minutes"), &mut errors);
        }
        let mut evidence = BTreeSet::new();
        for (i, e) in category.evidence.iter().enumerate() {
            if !evidence.insert(e) {
                errors.push(Error::Duplicate {
                    path: path.key("evidence").index(i),
                    what: "evidence".into(),
                    value: e.to_string(),
                });
            }
        }
    }
    let top = support.levels.len().saturating_sub(1);
    for (i, level) in support.levels.iter().enumerate() {
        let path = at.key("levels").index(i);
        if level.on.is_empty() {
            errors.push(Error::MissingField {
                path: path.key("on"),
                field: "on".into(),
            });
        }
        for (j, trigger) in level.on.iter().enumerate() {
            let p = path.key("on").index(j);
            match trigger {
                Trigger::Severity { at_least } if !known(at_least) => {
                    errors.push(Error::unknown(
                        p.key("at_least"),
                        RefKind::Severity,
                        at_least.as_str(),
                    ));
                }
                Trigger::PhaseOverdue { phase: Some(phase) } if !phases.contains(phase) => {
                    errors.push(Error::unknown(
                        p.key("phase"),
                        RefKind::Phase,
                        phase.as_str(),
                    ));
                }
                _ => {}
            }
        }
        if let Some(repeat) = &level.repeat {
            if i != top {
                errors.push(Error::Contradiction {
                    path: path.key("repeat"),
                    detail: format!(
                        "only the top level (index {top}) repeats; level {} is below it",
                        i + 1
                    ),
                    code: Conflict::RepeatBelowTop,
                });
            }
            minutes(
                repeat.every_minutes,
                &path.key("repeat").key("every_minutes"),
                &mut errors,
            );
            if repeat.times > MAX_REPEATS {
                errors.push(Error::OutOfRange {
                    path: path.key("repeat").key("times"),
                    detail: format!("at most {MAX_REPEATS} repeats, got `{}`", repeat.times),
                });
            }
            calendar(
                bundle,
                &repeat.calendar,
                &path.key("repeat").key("calendar"),
                &mut errors,
            );
        }
    }
    if let Some(quiet) = &support.quiet_hours {
        if quiet.from == quiet.to {
            errors.push(Error::OutOfRange {
                path: at.key("quiet_hours").key("to"),
                detail: String::from("quiet hours that end when they begin are empty or endless"),
            });
        }
    }
    errors
}

/// The most repeats of the top level: each one is an instant `escalate`
/// lists and `simulate` evaluates, so their number is bounded, not the
/// span of time they cover.
const MAX_REPEATS: u32 = 100;

/// The longest target accepted: ten years of minutes, well inside the
/// calendar's own limits.
const MAX_MINUTES: u32 = 10 * 366 * 24 * 60;

fn target(bundle: &Bundle, target: &Target, at: &JsonPath, errors: &mut Vec<Error>) {
    minutes(target.minutes, &at.key("minutes"), errors);
    calendar(bundle, &target.calendar, &at.key("calendar"), errors);
}

fn minutes(value: u32, at: &JsonPath, errors: &mut Vec<Error>) {
    if value == 0 {
        errors.push(Error::NotPositive {
            path: at.clone(),
            what: "minutes".into(),
            value: "0".into(),
        });
    } else if value > MAX_MINUTES {
        errors.push(Error::OutOfRange {
            path: at.clone(),
            detail: format!("at most {MAX_MINUTES} minutes (ten years), got `{value}`"),
        });
    }
}

fn calendar(bundle: &Bundle, id: &CalendarId, at: &JsonPath, errors: &mut Vec<Error>) {
    if !bundle.calendars.contains_key(id) {
        errors.push(Error::unknown(at.clone(), RefKind::Calendar, id.as_str()));
    }
}
