//! The documentation lists every code the engine can emit: every reason code
//! and every error code found in the sources must appear in `docs/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

/// String literals that directly follow `marker` in the source.
fn literals_after(source: &str, marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(marker) {
        rest = &rest[at + marker.len()..];
        let tail = rest;
        let Some(close) = tail.find('"') else { break };
        let literal = &tail[..close];
        if !literal.is_empty() && literal.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            found.push(literal.to_string());
        }
    }
    found
}

#[test]
fn every_error_code_is_documented() {
    use entitle_core::error::Conflict;
    let docs = include_str!("../../docs/errors.md");
    // Every code lives in error.rs and conflict.rs: the arms of `Error::code`
    // and `Conflict::code`.
    let source = concat!(
        include_str!("../src/error.rs"),
        include_str!("../src/error/conflict.rs")
    );
    let mut codes: BTreeSet<String> = literals_after(source, "=> \"").into_iter().collect();
    for kind in [
        "tier",
        "feature",
        "add",
        "operation",
        "control",
        "metric",
        "license",
        "route",
        "calendar",
        "severity",
        "case category",
        "phase",
        "evidence",
    ] {
        codes.remove(kind);
    }
    codes.remove("contradiction");
    for conflict in Conflict::ALL {
        assert!(
            codes.contains(conflict.code()),
            "{} not found in error.rs or conflict.rs",
            conflict.code()
        );
    }
    // The codes of signed documents refused live in rejection.rs.
    let rejections = include_str!("../src/error/rejection.rs");
    for rejection in entitle_core::error::Rejection::ALL {
        assert!(
            rejections.contains(&format!("=> \"{}\"", rejection.code())),
            "{} not found in rejection.rs",
            rejection.code()
        );
        codes.insert(rejection.code().to_string());
    }
    let missing: Vec<_> = codes
        .iter()
        .filter(|c| !docs.contains(&format!("`{c}`")))
        .collect();
    assert!(
        codes.len() > 45,
        "found only {} codes: {codes:?}",
        codes.len()
    );
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
            | Reason::RenewalGrace
            | Reason::SoftLimitGrace
            | Reason::ExpiredAccessKept
            | Reason::WithinQuota
            | Reason::Unlimited
            | Reason::Entitled => {}
        }
    }
    assert_eq!(all.len(), 20);
}
