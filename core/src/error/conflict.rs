//! The stable codes of contradictions: two terms of the input that cannot
//! both hold, or a term against the schema's rules, each with its help line.

use crate::error::ErrorCode;

/// Two terms that contradict each other, or a term that contradicts the
/// schema's rules; each variant is a stable, documented code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Conflict {
    /// An add-on lists no tier it fits.
    AddonFitsNoTier,
    /// A license's add-on does not fit its tier.
    AddonNotForTier,
    /// A check names both a feature and a metric.
    AmbiguousCheck,
    /// A request to a preloaded bundle carries its own bundle.
    BundlePreloaded,
    /// Amounts in two currencies were combined.
    CurrencyMismatch,
    /// Two tiers share a rank.
    DuplicateRank,
    /// An exception grants nothing.
    EmptyGrant,
    /// An exception expires at or before it starts.
    ExceptionEndsBeforeStart,
    /// An exception extends the grace of a quota that is not soft.
    GraceWithoutSoftQuota,
    /// A quota increment for a metric the tier sets no quota on.
    IncrementWithoutQuota,
    /// An add-on or exception grants a metered feature.
    MeteredFeatureGrant,
    /// A tier grants a metered feature without a quota.
    MeteredWithoutQuota,
    /// An exception names no approver.
    MissingApprover,
    /// An exception gives no reason.
    MissingReason,
    /// A choice control with no choices.
    NoChoices,
    /// A request to a bundle loaded with keys carries its own `keys`.
    KeysPreloaded,
    /// A bundle with no tier.
    NoTiers,
    /// A boolean feature used where a metric is needed.
    NotMetered,
    /// A license's offline window ends at or before it starts.
    OfflineWindowEndsBeforeStart,
    /// A quota on a feature the tier does not grant.
    QuotaForUngrantedFeature,
    /// More seats than the tier allows.
    SeatsOverTierMax,
    /// A transition from a tier to itself.
    SelfTransition,
    /// Soft enforcement on an unlimited quota.
    SoftUnlimited,
    /// A term that ends at or before it starts.
    TermEndsBeforeStart,
    /// A control value outside the control's choices.
    UnknownChoice,
    /// A case opened under another bundle version is evaluated without `reevaluate`.
    BundleVersionMismatch,
    /// A severity rule with no condition.
    EmptyCondition,
    /// A case event later than the request's `now`.
    EventAfterNow,
    /// A case event that cannot happen in the case's state (reopening an open case).
    EventNotAllowed,
    /// Case events not in time order, or before the case opened.
    EventsOutOfOrder,
    /// A case category with no phase.
    NoPhases,
    /// An override or pause by a role the bundle does not permit.
    NotPermitted,
    /// A repeat on an escalation level other than the top one.
    RepeatBelowTop,
    /// A case resumed while it was not waiting on the customer.
    ResumeWithoutPause,
    /// A target whose calendar has no business time left to meet it.
    UnmeetableTarget,
    /// Exception requests (docs/exceptions.md): a fact the policy requires is absent.
    MissingFact,
    /// An exception request longer than the policy's maximum.
    DurationOverMaximum,
    /// An exception request overlapping another exception on the same feature or metric.
    OverlappingException,
    /// An exception request for a feature the tier or an add-on already grants.
    AlreadyGranted,
    /// An approval or denial by a role the request's score does not require.
    ApprovalNotRequired,
    /// An exception request giving both `expires_at` and `duration_days`.
    AmbiguousDuration,
    /// Risk weights of the exception policy that do not add up to 100.
    WeightsNotHundred,
    /// Usage points not in increasing order of their days.
    PointsOutOfOrder,
    /// An installation last seen before it was first seen.
    LastSeenBeforeFirstSeen,
    /// Usage history readings not in strictly increasing order of `at`.
    HistoryOutOfOrder,
    /// A usage history reading later than the request's `now`.
    HistoryAfterNow,
    /// A tier's service-credit band whose threshold is not under the band before it.
    CreditBandOrder,
    /// A service-credit band that credits less than the band for better uptime.
    CreditDecreases,
}

impl Conflict {
    /// Every conflict code.
    pub const ALL: [Conflict; 48] = [
        Conflict::AddonFitsNoTier,
        Conflict::AddonNotForTier,
        Conflict::AmbiguousCheck,
        Conflict::BundlePreloaded,
        Conflict::CurrencyMismatch,
        Conflict::DuplicateRank,
        Conflict::EmptyGrant,
        Conflict::ExceptionEndsBeforeStart,
        Conflict::GraceWithoutSoftQuota,
        Conflict::IncrementWithoutQuota,
        Conflict::MeteredFeatureGrant,
        Conflict::MeteredWithoutQuota,
        Conflict::MissingApprover,
        Conflict::MissingReason,
        Conflict::KeysPreloaded,
        Conflict::NoChoices,
        Conflict::NoTiers,
        Conflict::NotMetered,
        Conflict::OfflineWindowEndsBeforeStart,
        Conflict::QuotaForUngrantedFeature,
        Conflict::SeatsOverTierMax,
        Conflict::SelfTransition,
        Conflict::SoftUnlimited,
        Conflict::TermEndsBeforeStart,
        Conflict::UnknownChoice,
        Conflict::BundleVersionMismatch,
        Conflict::EmptyCondition,
        Conflict::EventAfterNow,
        Conflict::EventNotAllowed,
        Conflict::EventsOutOfOrder,
        Conflict::NoPhases,
        Conflict::NotPermitted,
        Conflict::RepeatBelowTop,
        Conflict::ResumeWithoutPause,
        Conflict::UnmeetableTarget,
        Conflict::MissingFact,
        Conflict::DurationOverMaximum,
        Conflict::OverlappingException,
        Conflict::AlreadyGranted,
        Conflict::ApprovalNotRequired,
        Conflict::AmbiguousDuration,
        Conflict::WeightsNotHundred,
        Conflict::PointsOutOfOrder,
        Conflict::LastSeenBeforeFirstSeen,
        Conflict::HistoryOutOfOrder,
        Conflict::HistoryAfterNow,
        Conflict::CreditBandOrder,
        Conflict::CreditDecreases,
    ];

    /// How to resolve it.
    pub fn help(self) -> &'static str {
        match self {
            Conflict::EventsOutOfOrder => "list the case's events in time order, none before `opened_at`",
            Conflict::EventAfterNow => "evaluate at a `now` no earlier than the case's last event",
            Conflict::ResumeWithoutPause => {
                "resume only after `waiting_on_customer`, or drop the `resumed` event"
            }
            Conflict::EventNotAllowed => "check the event against the case's state at that point",
            Conflict::NotPermitted => {
                "have a role the bundle's `support.permissions` lists do it, or permit the role"
            }
            Conflict::BundleVersionMismatch => {
                "evaluate under the bundle version the case was opened under, or set `\"reevaluate\": true`"
            }
            Conflict::UnmeetableTarget => {
                "give the target's calendar business hours that its holidays leave open"
            }
            Conflict::PointsOutOfOrder => "list a series' points by day, one point per day",
            Conflict::LastSeenBeforeFirstSeen => "give `first_seen` no later than `last_seen`",
            Conflict::HistoryOutOfOrder => "list a metric's readings oldest first, one per instant",
            Conflict::HistoryAfterNow => "leave out readings taken after the request's `now`",
            Conflict::CreditBandOrder => {
                "list a tier's service-credit bands from the highest uptime threshold down"
            }
            Conflict::CreditDecreases => {
                "give a band for worse uptime at least the credit of the band before it"
            }
            Conflict::MissingFact => "give the fact; the bundle's `exception_policy.required_facts` requires it",
            Conflict::DurationOverMaximum => {
                "shorten the exception to the policy's `max_duration_days`, or split it into reviewed renewals"
            }
            Conflict::OverlappingException => {
                "let the other exception end or revoke it first, or start this one after it"
            }
            Conflict::AlreadyGranted => "drop the feature: the license already has it",
            Conflict::ApprovalNotRequired => "record approvals only by the roles the score requires",
            Conflict::AmbiguousDuration => "give `expires_at` or `duration_days`, not both",
            Conflict::WeightsNotHundred => "make the four weights add up to 100",
            _ => "make the two terms agree",
        }
    }

    /// The stable code.
    pub fn code(self) -> ErrorCode {
        match self {
            Conflict::AddonFitsNoTier => ErrorCode::AddonFitsNoTier,
            Conflict::AddonNotForTier => ErrorCode::AddonNotForTier,
            Conflict::AmbiguousCheck => ErrorCode::AmbiguousCheck,
            Conflict::BundlePreloaded => ErrorCode::BundlePreloaded,
            Conflict::CurrencyMismatch => ErrorCode::CurrencyMismatch,
            Conflict::DuplicateRank => ErrorCode::DuplicateRank,
            Conflict::EmptyGrant => ErrorCode::EmptyGrant,
            Conflict::ExceptionEndsBeforeStart => ErrorCode::ExceptionEndsBeforeStart,
            Conflict::GraceWithoutSoftQuota => ErrorCode::GraceWithoutSoftQuota,
            Conflict::IncrementWithoutQuota => ErrorCode::IncrementWithoutQuota,
            Conflict::MeteredFeatureGrant => ErrorCode::MeteredFeatureGrant,
            Conflict::MeteredWithoutQuota => ErrorCode::MeteredWithoutQuota,
            Conflict::MissingApprover => ErrorCode::MissingApprover,
            Conflict::MissingReason => ErrorCode::MissingReason,
            Conflict::KeysPreloaded => ErrorCode::KeysPreloaded,
            Conflict::NoChoices => ErrorCode::NoChoices,
            Conflict::NoTiers => ErrorCode::NoTiers,
            Conflict::NotMetered => ErrorCode::NotMetered,
            Conflict::OfflineWindowEndsBeforeStart => ErrorCode::OfflineWindowEndsBeforeStart,
            Conflict::QuotaForUngrantedFeature => ErrorCode::QuotaForUngrantedFeature,
            Conflict::SeatsOverTierMax => ErrorCode::SeatsOverTierMax,
            Conflict::SelfTransition => ErrorCode::SelfTransition,
            Conflict::SoftUnlimited => ErrorCode::SoftUnlimited,
            Conflict::TermEndsBeforeStart => ErrorCode::TermEndsBeforeStart,
            Conflict::UnknownChoice => ErrorCode::UnknownChoice,
            Conflict::BundleVersionMismatch => ErrorCode::BundleVersionMismatch,
            Conflict::EmptyCondition => ErrorCode::EmptyCondition,
            Conflict::EventAfterNow => ErrorCode::EventAfterNow,
            Conflict::EventNotAllowed => ErrorCode::EventNotAllowed,
            Conflict::EventsOutOfOrder => ErrorCode::EventsOutOfOrder,
            Conflict::NoPhases => ErrorCode::NoPhases,
            Conflict::NotPermitted => ErrorCode::NotPermitted,
            Conflict::RepeatBelowTop => ErrorCode::RepeatBelowTop,
            Conflict::ResumeWithoutPause => ErrorCode::ResumeWithoutPause,
            Conflict::UnmeetableTarget => ErrorCode::UnmeetableTarget,
            Conflict::MissingFact => ErrorCode::MissingFact,
            Conflict::DurationOverMaximum => ErrorCode::DurationOverMaximum,
            Conflict::OverlappingException => ErrorCode::OverlappingException,
            Conflict::AlreadyGranted => ErrorCode::AlreadyGranted,
            Conflict::ApprovalNotRequired => ErrorCode::ApprovalNotRequired,
            Conflict::AmbiguousDuration => ErrorCode::AmbiguousDuration,
            Conflict::WeightsNotHundred => ErrorCode::WeightsNotHundred,
            Conflict::PointsOutOfOrder => ErrorCode::PointsOutOfOrder,
            Conflict::LastSeenBeforeFirstSeen => ErrorCode::LastSeenBeforeFirstSeen,
            Conflict::HistoryOutOfOrder => ErrorCode::HistoryOutOfOrder,
            Conflict::HistoryAfterNow => ErrorCode::HistoryAfterNow,
            Conflict::CreditBandOrder => ErrorCode::CreditBandOrder,
            Conflict::CreditDecreases => ErrorCode::CreditDecreases,
        }
    }
}
