//! Where an exception request stands at `now`: requested, denied, approved
//! (before its start), active, expired or revoked; its review reminders
//! before expiry; and the next instant any of that changes.

use serde::Serialize;

use crate::exceptions::intake::{Window, DAY};
use crate::exceptions::policy::ExceptionPolicy;
use crate::exceptions::request::ExceptionRequest;
use crate::model::order;
use crate::model::time::Timestamp;

/// The state of a request and of the exception it grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for approvals.
    Requested,
    /// Refused; it grants nothing.
    Denied,
    /// Every approval given; its window has not started.
    Approved,
    /// Approved and in its window.
    Active,
    /// Approved, and `now` is at or after `expires_at`.
    Expired,
    /// Approved, and `now` is at or after `revoked_at`.
    Revoked,
}

/// A review reminder before expiry.
#[derive(Debug, Clone, Serialize)]
pub struct Reminder {
    /// Days before `expires_at`.
    pub days_before: u32,
    /// When it is due.
    pub at: Timestamp,
    /// Whether `now` has reached it.
    pub due: bool,
}

/// The lifecycle at `now`.
#[derive(Debug, Clone, Serialize)]
pub struct Lifecycle {
    /// The state.
    pub state: State,
    /// When the last required approval was given, once all are.
    pub approved_at: Option<Timestamp>,
    /// Every reminder, earliest first.
    pub reminders: Vec<Reminder>,
    /// The first reminder after `now`, while the exception is approved or active.
    pub next_reminder_at: Option<Timestamp>,
    /// The earliest instant after `now` at which the state or the reminders change.
    pub next_evaluation_at: Option<Timestamp>,
}

/// Evaluates the lifecycle; `complete` says whether every required role approved.
pub(crate) fn evaluate(
    policy: &ExceptionPolicy,
    request: &ExceptionRequest,
    window: Window,
    complete: bool,
    now: Timestamp,
) -> Lifecycle {
    let approved_at = request
        .approvals
        .iter()
        .map(|a| a.at)
        .max()
        .filter(|_| complete);
    let state = match (&request.denied, approved_at) {
        (Some(_), _) => State::Denied,
        (None, None) => State::Requested,
        (None, Some(_)) => match request.revoked_at {
            Some(revoked) if revoked <= now => State::Revoked,
            _ if now < window.starts_at => State::Approved,
            _ if now < window.expires_at => State::Active,
            _ => State::Expired,
        },
    };
    let mut reminders: Vec<Reminder> = policy
        .reminder_days_before_expiry
        .iter()
        .filter_map(|d| {
            let at = window
                .expires_at
                .plus_seconds(-i64::from(*d).saturating_mul(DAY))?;
            Some(Reminder {
                days_before: *d,
                at,
                due: at <= now,
            })
        })
        .collect();
    order::sort_by_key(&mut reminders, |r| r.at);
    let live = matches!(state, State::Approved | State::Active);
    let next_reminder_at = reminders
        .iter()
        .map(|r| r.at)
        .find(|at| *at > now)
        .filter(|_| live);
    let boundaries = [
        Some(window.starts_at),
        Some(window.expires_at),
        request.revoked_at,
        next_reminder_at,
    ];
    let next_evaluation_at = boundaries
        .into_iter()
        .flatten()
        .filter(|at| *at > now)
        .min()
        .filter(|_| live);
    Lifecycle {
        state,
        approved_at,
        reminders,
        next_reminder_at,
        next_evaluation_at,
    }
}
