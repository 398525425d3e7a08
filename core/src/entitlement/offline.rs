//! Offline validity: a document's `issued_at` against the caller's clock
//! (a clock set back, or a forged document, shows as an issue time in the
//! future beyond the bundle's clock skew), and the license's offline window.
//! These rules hold whether or not the documents came signed.

use crate::entitlement::basis::Basis;
use crate::entitlement::reason::Reason;
use crate::model::bundle::Bundle;
use crate::model::license::{License, OfflineWindow};
use crate::model::order;
use crate::model::time::Timestamp;

/// The clock skew a bundle allows when it declares none, in seconds.
pub const DEFAULT_CLOCK_SKEW_SECONDS: u32 = 300;

/// The clock skew a bundle allows, in seconds.
pub fn clock_skew(bundle: &Bundle) -> u32 {
    bundle
        .clock_skew_seconds
        .unwrap_or(DEFAULT_CLOCK_SKEW_SECONDS)
}

/// The first instant at which a document issued at `issued_at` is no longer
/// in the future, given `skew` seconds: `issued_at - skew`. `None` when
/// that falls before 0000-01-01T00:00:00Z: every `now` the engine reads
/// is later, so the document is never in the future.
fn acceptable_from(issued_at: Timestamp, skew: u32) -> Option<Timestamp> {
    issued_at.plus_seconds(-i64::from(skew))
}

/// What a document's own times say at `now`: `issued_in_future` when its
/// `issued_at` is later than `now + skew`, and the offline window's reason
/// when `now` is outside it; with the instants at which that changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentTimes {
    /// The reasons that apply, in precedence order.
    pub reasons: Vec<Reason>,
    /// Instants at which the reasons can change.
    pub bounds: Vec<Timestamp>,
}

impl DocumentTimes {
    /// The times of one document: its issue time, and an offline window
    /// (licenses only).
    pub fn of(
        issued_at: Option<Timestamp>,
        offline: Option<&OfflineWindow>,
        skew: u32,
        now: Timestamp,
    ) -> DocumentTimes {
        let mut times = DocumentTimes::default();
        if let Some(issued_at) = issued_at {
            match acceptable_from(issued_at, skew) {
                Some(from) if now < from => {
                    times.reasons.push(Reason::IssuedInFuture);
                    times.bounds.push(from);
                }
                _ => {}
            }
        }
        if let Some(window) = offline {
            times.bounds.extend([window.not_before, window.not_after]);
            if now < window.not_before {
                times.reasons.push(Reason::OfflineWindowNotStarted);
            } else if now >= window.not_after {
                times.reasons.push(Reason::OfflineWindowEnded);
            }
        }
        times
    }
}

/// The offline rules of a check: both documents' issue times under the
/// bundle's clock skew, and the license's offline window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offline {
    /// The reasons that apply.
    pub reasons: Vec<Reason>,
    /// Instants at which they can change.
    pub bounds: Vec<Timestamp>,
    /// The documents issued in the future: the license, the bundle, or both.
    issued_in_future: Vec<Basis>,
}

impl Offline {
    /// The offline rules at `now`.
    pub fn at(bundle: &Bundle, license: &License, now: Timestamp) -> Offline {
        let skew = clock_skew(bundle);
        let of_license = DocumentTimes::of(license.issued_at, license.offline.as_ref(), skew, now);
        let of_bundle = DocumentTimes::of(bundle.issued_at, None, skew, now);
        let mut issued_in_future = Vec::new();
        if of_license.reasons.contains(&Reason::IssuedInFuture) {
            issued_in_future.push(Basis::License(license.license.clone()));
        }
        if of_bundle.reasons.contains(&Reason::IssuedInFuture) {
            issued_in_future.push(Basis::Bundle(bundle.bundle.clone()));
        }
        let mut reasons = of_license.reasons;
        reasons.extend(of_bundle.reasons);
        order::sort(&mut reasons);
        reasons.dedup();
        let mut bounds = of_license.bounds;
        bounds.extend(of_bundle.bounds);
        Offline {
            reasons,
            bounds,
            issued_in_future,
        }
    }

    /// The documents issued in the future: the license, the bundle, or both.
    pub fn issued_in_future(&self) -> &[Basis] {
        &self.issued_in_future
    }

    /// What decided a check whose top reason is `reason`, when it is one of
    /// these rules: the documents issued in the future, or the license.
    pub fn decided_by(&self, reason: Reason, license: &License) -> Option<Vec<Basis>> {
        match reason {
            Reason::IssuedInFuture => Some(self.issued_in_future.clone()),
            Reason::OfflineWindowNotStarted | Reason::OfflineWindowEnded => {
                Some(vec![Basis::License(license.license.clone())])
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn issued_at_within_the_skew_is_accepted_and_one_second_beyond_is_not() {
        let now = at("2026-11-22T10:00:00Z");
        let within = DocumentTimes::of(Some(at("2026-11-22T10:05:00Z")), None, 300, now);
        assert_eq!(within, DocumentTimes::default());
        let beyond = DocumentTimes::of(Some(at("2026-11-22T10:05:01Z")), None, 300, now);
        assert_eq!(beyond.reasons, vec![Reason::IssuedInFuture]);
        assert_eq!(beyond.bounds, vec![at("2026-11-22T10:00:01Z")]);
    }

    #[test]
    fn the_offline_window_includes_its_start_and_excludes_its_end() {
        let window = OfflineWindow {
            not_before: at("2026-11-01T00:00:00Z"),
            not_after: at("2026-12-01T00:00:00Z"),
        };
        let reasons = |now: &str| DocumentTimes::of(None, Some(&window), 300, at(now)).reasons;
        assert_eq!(
            reasons("2026-10-31T23:59:59Z"),
            vec![Reason::OfflineWindowNotStarted]
        );
        assert!(reasons("2026-11-01T00:00:00Z").is_empty());
        assert!(reasons("2026-11-30T23:59:59Z").is_empty());
        assert_eq!(
            reasons("2026-12-01T00:00:00Z"),
            vec![Reason::OfflineWindowEnded]
        );
    }
}
