//! A case's part of a simulation: `escalate` evaluated as a scheduler would
//! run it, at the case's opening, at each of its events and at each
//! `next_evaluation_at`, and the clock states, levels and messages due
//! collected from those answers.

use std::collections::BTreeSet;

use super::{Entry, What};
use crate::error::{Error, JsonPath};
use crate::model::bundle::Bundle;
use crate::model::license::License;
use crate::model::time::Timestamp;
use crate::support::case::Case;
use crate::support::escalate::escalate;

/// The entries of one case, up to (not including) `until`.
pub fn timeline(
    bundle: &Bundle,
    license: &License,
    case: &Case,
    until: Timestamp,
) -> Result<Vec<Entry>, Vec<Error>> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut add = |entry: Entry, entries: &mut Vec<Entry>| {
        // Answers repeat the history so far; each change is listed once.
        if entry.at < until && seen.insert(format!("{entry:?}")) {
            entries.push(entry);
        }
    };
    let mut t = case.opened_at;
    let mut last_template = None;
    // Each step moves past an event or to a later `next_evaluation_at`, so
    // the walk ends; the bound only guards against a rule that would not.
    for _ in 0..super::MAX_STEPS {
        let mut seen_case = case.clone();
        seen_case.events.retain(|e| e.at() <= t);
        let answer = escalate(bundle, license, &seen_case, true, t)?;
        let cycle = answer.cycle.number;
        for clock in &answer.clocks {
            for change in &clock.changes {
                let what = What::Clock {
                    case: case.case.clone(),
                    cycle,
                    clock: clock.clock,
                    state: change.state,
                };
                add(
                    Entry {
                        at: change.at,
                        what,
                    },
                    &mut entries,
                );
            }
        }
        for overdue in &answer.phase.overdue {
            let what = What::PhaseOverdue {
                case: case.case.clone(),
                cycle,
                phase: overdue.phase.clone(),
            };
            add(
                Entry {
                    at: overdue.at,
                    what,
                },
                &mut entries,
            );
        }
        for change in &answer.escalation.changes {
            let what = What::Escalation {
                case: case.case.clone(),
                cycle,
                level: change.level,
                role: change.role.clone(),
            };
            add(
                Entry {
                    at: change.at,
                    what,
                },
                &mut entries,
            );
        }
        let repeats = answer.escalation.repeats.iter().flat_map(|r| r.done.iter());
        for (i, at) in repeats.enumerate() {
            let what = What::EscalationRepeat {
                case: case.case.clone(),
                cycle,
                repeat: i + 1,
            };
            add(Entry { at: *at, what }, &mut entries);
        }
        let template = answer.template_due.as_ref().map(|d| (d.template, d.due_at));
        if template != last_template {
            if let Some((kind, due_at)) = template {
                let what = What::TemplateDue {
                    case: case.case.clone(),
                    template: kind,
                };
                add(Entry { at: due_at, what }, &mut entries);
            }
            last_template = template;
        }
        let next_event = case.events.iter().map(|e| e.at()).find(|at| *at > t);
        let next = match (next_event, answer.next_evaluation_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match next {
            Some(n) if n < until => t = n,
            _ => return Ok(entries),
        }
    }
    Err(vec![Error::OutOfRange {
        path: JsonPath::root().key("scenario"),
        detail: format!(
            "case `{}` needs more than {} evaluations to replay",
            case.case,
            super::MAX_STEPS
        ),
    }])
}
