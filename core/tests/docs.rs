//! The documentation lists every code the engine can emit: every reason code
//! and every error code found in the sources must appear in `docs/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

#[test]
fn every_error_code_is_documented() {
    use entitle_core::error::{Conflict, ErrorCode, Rejection};
    let docs = include_str!("../../docs/errors.md");
    // Every code an error, a contradiction or a refused signature answers
    // with is in the one table of codes, and every entry there is documented.
    let codes: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes.len(), ErrorCode::ALL.len(), "a code is listed twice");
    for conflict in Conflict::ALL {
        assert!(codes.contains(conflict.code().as_str()));
    }
    for rejection in Rejection::ALL {
        assert!(codes.contains(rejection.code().as_str()));
    }
    // The arms of `Error::code` name only codes of the table (a literal
    // there would not compile); and the table is no smaller than the codes
    // the sources produced before it existed (95).
    assert!(codes.len() >= 95, "found only {} codes", codes.len());
    let missing: Vec<_> = codes
        .iter()
        .filter(|c| !docs.contains(&format!("`{c}`")))
        .collect();
    assert!(missing.is_empty(), "undocumented error codes: {missing:?}");
}

#[test]
fn every_reason_code_is_documented_in_precedence_order() {
    use entitle_core::entitlement::reason::Reason;
    let docs = include_str!("../../docs/reasons.md");
    let all = entitle_core::entitlement::reason::ALL;
    let mut last = 0;
    for (i, reason) in all.iter().enumerate() {
        let code = serde_json::to_value(reason).unwrap();
        let row = format!("| {} | `{}` |", i + 1, code.as_str().unwrap());
        let at = docs
            .find(&row)
            .unwrap_or_else(|| panic!("{row} not in docs/reasons.md"));
        assert!(at > last, "{row} out of order");
        last = at;
        // Sorting by the enum's order is the precedence the engine applies.
        if i > 0 {
            assert!(all[i - 1] < *reason);
        }
    }
    // Exhaustive: a new variant fails to compile here until it is listed.
    fn _listed(r: Reason) {
        match r {
            Reason::IssuedInFuture
            | Reason::LicenseTerminated
            | Reason::LicenseSuspended
            | Reason::LicenseNotStarted
            | Reason::LicenseExpired
            | Reason::OfflineWindowNotStarted
            | Reason::OfflineWindowEnded
            | Reason::ExceptionRevoked
            | Reason::ExceptionExpired
            | Reason::ExceptionNotStarted
            | Reason::FeatureNotEntitled
            | Reason::QuotaExceeded
            | Reason::GraceAllowanceExhausted
            | Reason::GracePeriodEnded
            | Reason::SeatsExhausted
            | Reason::RenewalGrace
            | Reason::SoftLimitGrace
            | Reason::ExpiredAccessKept
            | Reason::WithinQuota
            | Reason::Unlimited
            | Reason::SeatAvailable
            | Reason::Entitled => {}
        }
    }
    assert_eq!(all.len(), 22);
}
