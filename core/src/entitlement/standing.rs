//! A license's standing at an instant: active, expiring soon, in renewal
//! grace, expired, suspended or terminated, and when that next changes.

use chrono::Days;
use serde::Serialize;

use crate::model::bundle::ExpiryPolicy;
use crate::model::license::{License, LicenseStatus};
use crate::model::time::Timestamp;

/// The state the portal shows; derived from status, term and `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseState {
    /// Before the term starts.
    NotStarted,
    /// In its term, more than `expiring_soon_days` from its end.
    Active,
    /// In its term, within `expiring_soon_days` of its end.
    ExpiringSoon,
    /// Past its term, within renewal grace.
    InGrace,
    /// Past its term and renewal grace.
    Expired,
    /// Suspended by the vendor.
    Suspended,
    /// Terminated by the vendor.
    Terminated,
}

/// The standing of a license at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The state.
    pub state: LicenseState,
    /// The state the term alone gives, whatever the vendor's status: one of
    /// not started, active, expiring soon, in grace or expired.
    pub term_state: LicenseState,
    /// When renewal grace ends: `expiry.renewal_grace_days` local days after
    /// the term's end; `None` when that falls after 9999-12-31T23:59:59Z,
    /// the last instant the engine writes, so grace never ends within it.
    pub grace_ends_at: Option<Timestamp>,
    /// When `expiring_soon` begins; `None` when that falls before
    /// 0000-01-01T00:00:00Z, so the license has been expiring soon all along.
    pub expiring_soon_at: Option<Timestamp>,
    /// Whole local days left until the state's end (term end, or grace end
    /// in grace); `None` where no end applies.
    pub days_left: Option<i64>,
    /// The next instant after `now` at which the state changes, if any.
    pub changes_at: Option<Timestamp>,
}

impl Standing {
    /// The standing of `license` at `now`. Days are counted in the license's
    /// zone, so a grace of 14 days ends at the same local time 14 days later
    /// even across a daylight-saving change. A grace that would end after
    /// 9999 never ends within the instants the engine writes: the license
    /// stays in grace, and its days left are counted to the grace's last
    /// local date all the same.
    pub fn of(license: &License, expiry: &ExpiryPolicy, now: Timestamp) -> Standing {
        let zone = license.time_zone;
        let end_local = zone.local(license.term.end);
        // Local dates run to year 262143, far past any instant: only the
        // instant can fall outside years 0000 to 9999.
        let grace_local = end_local.checked_add_days(Days::new(expiry.renewal_grace_days.into()));
        let grace_ends_at = grace_local.and_then(|local| zone.instant(local));
        let expiring_soon_at = end_local
            .checked_sub_days(Days::new(expiry.expiring_soon_days.into()))
            .and_then(|local| zone.instant(local));
        let today = zone.local(now).date();
        let days_until = |end: Timestamp| -> i64 { (zone.local(end).date() - today).num_days() };
        let term = license.term;
        let (term_state, days_left, changes_at) = if now < term.start {
            (LicenseState::NotStarted, None, Some(term.start))
        } else if expiring_soon_at.is_some_and(|at| now < at) {
            (
                LicenseState::Active,
                Some(days_until(term.end)),
                expiring_soon_at,
            )
        } else if now < term.end {
            (
                LicenseState::ExpiringSoon,
                Some(days_until(term.end)),
                Some(term.end),
            )
        } else if grace_ends_at.is_none_or(|at| now < at) {
            let days = match (grace_ends_at, grace_local) {
                (Some(at), _) => Some(days_until(at)),
                (None, Some(local)) => Some((local.date() - today).num_days()),
                (None, None) => None,
            };
            (LicenseState::InGrace, days, grace_ends_at)
        } else {
            (LicenseState::Expired, Some(0), None)
        };
        // The vendor's status overrides the term; it changes only by a new document.
        let (state, days_left, changes_at) = match license.status {
            LicenseStatus::Terminated => (LicenseState::Terminated, None, None),
            LicenseStatus::Suspended => (LicenseState::Suspended, None, None),
            LicenseStatus::Active => (term_state, days_left, changes_at),
        };
        Standing {
            state,
            term_state,
            grace_ends_at,
            expiring_soon_at,
            days_left,
            changes_at: changes_at.filter(|t| *t > now),
        }
    }
}
