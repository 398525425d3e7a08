//! A license's standing at an instant: active, expiring soon, in renewal
//! grace, expired, suspended or terminated, and when that next changes.

use chrono::Days;
use serde::Serialize;

use crate::bundle::ExpiryPolicy;
use crate::license::{License, LicenseStatus};
use crate::time::Timestamp;

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
    /// When renewal grace ends: `expiry.renewal_grace_days` local days after the term's end.
    pub grace_ends_at: Timestamp,
    /// When `expiring_soon` begins.
    pub expiring_soon_at: Timestamp,
    /// Whole local days left until the state's end (term end, or grace end
    /// in grace); `None` where no end applies.
    pub days_left: Option<i64>,
    /// The next instant after `now` at which the state changes, if any.
    pub changes_at: Option<Timestamp>,
}

impl Standing {
    /// The standing of `license` at `now`. Days are counted in the license's
    /// zone, so a grace of 14 days ends at the same local time 14 days later
    /// even across a daylight-saving change. `None` only outside chrono's range.
    pub fn of(license: &License, expiry: &ExpiryPolicy, now: Timestamp) -> Option<Standing> {
        let zone = license.time_zone;
        let end_local = zone.local(license.term.end);
        let grace_ends_at =
            zone.instant(end_local.checked_add_days(Days::new(expiry.renewal_grace_days.into()))?)?;
        let expiring_soon_at =
            zone.instant(end_local.checked_sub_days(Days::new(expiry.expiring_soon_days.into()))?)?;
        let days_until = |end: Timestamp| -> i64 {
            (zone.local(end).date() - zone.local(now).date()).num_days()
        };
        let term = license.term;
        let (term_state, days_left, changes_at) = if now < term.start {
            (LicenseState::NotStarted, None, Some(term.start))
        } else if now < expiring_soon_at {
            (
                LicenseState::Active,
                Some(days_until(term.end)),
                Some(expiring_soon_at),
            )
        } else if now < term.end {
            (
                LicenseState::ExpiringSoon,
                Some(days_until(term.end)),
                Some(term.end),
            )
        } else if now < grace_ends_at {
            (
                LicenseState::InGrace,
                Some(days_until(grace_ends_at)),
                Some(grace_ends_at),
            )
        } else {
            (LicenseState::Expired, Some(0), None)
        };
        // The vendor's status overrides the term; it changes only by a new document.
        let (state, days_left, changes_at) = match license.status {
            LicenseStatus::Terminated => (LicenseState::Terminated, None, None),
            LicenseStatus::Suspended => (LicenseState::Suspended, None, None),
            LicenseStatus::Active => (term_state, days_left, changes_at),
        };
        Some(Standing {
            state,
            term_state,
            grace_ends_at,
            expiring_soon_at,
            days_left,
            changes_at: changes_at.filter(|t| *t > now),
        })
    }
}
