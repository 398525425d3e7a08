//! Reason codes: why a check (or a seat) decided what it did. The order of the variants
//! is the documented precedence: when several apply, the first one listed is
//! the reason given, and every one that applies is listed after it.

use serde::{Deserialize, Serialize};

/// What a check answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Allowed under the standard terms.
    Allow,
    /// Allowed, but only thanks to a grace (renewal or soft limit) that ends.
    AllowInGrace,
    /// Refused.
    Deny,
}

/// A stable reason code. Variants are in precedence order, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The license or the bundle was issued later than `now` plus the
    /// bundle's clock skew: the clock was set back, or the document is forged.
    IssuedInFuture,
    /// The vendor terminated the license.
    LicenseTerminated,
    /// The vendor suspended the license.
    LicenseSuspended,
    /// The term has not started.
    LicenseNotStarted,
    /// The term and its renewal grace are over and the expiry policy revokes
    /// access (or restricts it to features other than this one).
    LicenseExpired,
    /// `now` is before the license's offline window opens.
    OfflineWindowNotStarted,
    /// `now` is at or after the end of the license's offline window.
    OfflineWindowEnded,
    /// The only grant of the feature is an exception that was revoked.
    ExceptionRevoked,
    /// The only grant of the feature is an exception that has expired.
    ExceptionExpired,
    /// The only grant of the feature is an exception that has not started.
    ExceptionNotStarted,
    /// Neither the tier, an add-on nor an exception grants the feature.
    FeatureNotEntitled,
    /// A hard quota would be exceeded.
    QuotaExceeded,
    /// A soft quota's grace allowance would be exceeded.
    GraceAllowanceExhausted,
    /// A soft quota's grace time is over.
    GracePeriodEnded,
    /// Every seat of the license is held by another client.
    SeatsExhausted,
    /// The term is over but renewal grace keeps access for now.
    RenewalGrace,
    /// Past a soft limit, within its grace allowance and grace time.
    SoftLimitGrace,
    /// The term and grace are over; the expiry policy keeps this feature.
    ExpiredAccessKept,
    /// Within the quota.
    WithinQuota,
    /// The quota is unlimited.
    Unlimited,
    /// A seat is free for the client asking.
    SeatAvailable,
    /// The feature is granted.
    Entitled,
}

impl Reason {
    /// The decision this reason leads to on its own.
    pub fn decision(self) -> Decision {
        match self {
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
            | Reason::SeatsExhausted => Decision::Deny,
            Reason::RenewalGrace | Reason::SoftLimitGrace => Decision::AllowInGrace,
            Reason::ExpiredAccessKept
            | Reason::WithinQuota
            | Reason::Unlimited
            | Reason::SeatAvailable
            | Reason::Entitled => Decision::Allow,
        }
    }
}

impl Reason {
    /// The HTTP status a gateway refuses with when this reason decides a
    /// deny: 402 Payment Required where paying lifts it (a quota spent, a
    /// term lapsed: a top-up or a renewal), 403 Forbidden where only the
    /// vendor's terms can (not entitled, suspended, terminated, not started,
    /// an exception out of force). Allowing reasons answer 200.
    pub fn http_status(self) -> u16 {
        match self.decision() {
            Decision::Allow | Decision::AllowInGrace => 200,
            Decision::Deny => match self {
                Reason::QuotaExceeded
                | Reason::GraceAllowanceExhausted
                | Reason::GracePeriodEnded
                | Reason::SeatsExhausted
                | Reason::LicenseExpired => 402,
                _ => 403,
            },
        }
    }
}

/// Every reason code, in precedence order.
pub const ALL: [Reason; 22] = [
    Reason::IssuedInFuture,
    Reason::LicenseTerminated,
    Reason::LicenseSuspended,
    Reason::LicenseNotStarted,
    Reason::LicenseExpired,
    Reason::OfflineWindowNotStarted,
    Reason::OfflineWindowEnded,
    Reason::ExceptionRevoked,
    Reason::ExceptionExpired,
    Reason::ExceptionNotStarted,
    Reason::FeatureNotEntitled,
    Reason::QuotaExceeded,
    Reason::GraceAllowanceExhausted,
    Reason::GracePeriodEnded,
    Reason::SeatsExhausted,
    Reason::RenewalGrace,
    Reason::SoftLimitGrace,
    Reason::ExpiredAccessKept,
    Reason::WithinQuota,
    Reason::Unlimited,
    Reason::SeatAvailable,
    Reason::Entitled,
];

/// A set of reasons, held as one bit per reason in precedence order, so
/// that iterating it lists them sorted and without repeats, and its first
/// member is the reason of highest precedence. The compact check answers
/// it as these bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReasonSet(u32);

impl ReasonSet {
    /// Adds a reason.
    pub fn insert(&mut self, reason: Reason) {
        self.0 |= 1 << (reason as u32);
    }

    /// Whether the set holds `reason`.
    pub fn contains(self, reason: Reason) -> bool {
        self.0 & (1 << (reason as u32)) != 0
    }

    /// The reason of highest precedence, if any.
    pub fn first(self) -> Option<Reason> {
        ALL.get(self.0.trailing_zeros() as usize).copied()
    }

    /// The reasons held, in precedence order.
    pub fn iter(self) -> impl Iterator<Item = Reason> {
        ALL.into_iter().filter(move |r| self.contains(*r))
    }

    /// The decision the reasons lead to together: the most severe one's.
    pub fn decision(self) -> Decision {
        self.iter()
            .map(Reason::decision)
            .max()
            .unwrap_or(Decision::Allow)
    }

    /// The bits: bit `i` stands for `ALL[i]`.
    pub fn bits(self) -> u32 {
        self.0
    }
}

impl FromIterator<Reason> for ReasonSet {
    fn from_iter<I: IntoIterator<Item = Reason>>(reasons: I) -> Self {
        let mut set = ReasonSet::default();
        for reason in reasons {
            set.insert(reason);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_sits_at_its_precedence_bit() {
        for (i, reason) in ALL.into_iter().enumerate() {
            assert_eq!(reason as usize, i, "{reason:?}");
        }
    }

    #[test]
    fn a_set_lists_its_reasons_sorted_and_once() {
        let set: ReasonSet = [
            Reason::WithinQuota,
            Reason::IssuedInFuture,
            Reason::WithinQuota,
            Reason::RenewalGrace,
        ]
        .into_iter()
        .collect();
        let listed: Vec<Reason> = set.iter().collect();
        assert_eq!(
            listed,
            vec![
                Reason::IssuedInFuture,
                Reason::RenewalGrace,
                Reason::WithinQuota
            ]
        );
        assert_eq!(set.first(), Some(Reason::IssuedInFuture));
        assert_eq!(set.decision(), Decision::Deny);
        assert_eq!(ReasonSet::default().first(), None);
        assert_eq!(ReasonSet::default().decision(), Decision::Allow);
    }
}
