//! The stable codes of contradictions: two terms of the input that cannot
//! both hold, or a term against the schema's rules, each with its help line.

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
            other => crate::exceptions::policy::help(other).unwrap_or("make the two terms agree"),
        }
    }

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Conflict::AddonFitsNoTier => "addon_fits_no_tier",
            Conflict::AddonNotForTier => "addon_not_for_tier",
            Conflict::AmbiguousCheck => "ambiguous_check",
            Conflict::BundlePreloaded => "bundle_preloaded",
            Conflict::CurrencyMismatch => "currency_mismatch",
            Conflict::DuplicateRank => "duplicate_rank",
            Conflict::EmptyGrant => "empty_grant",
            Conflict::ExceptionEndsBeforeStart => "exception_ends_before_start",
            Conflict::GraceWithoutSoftQuota => "grace_without_soft_quota",
            Conflict::IncrementWithoutQuota => "increment_without_quota",
            Conflict::MeteredFeatureGrant => "metered_feature_grant",
            Conflict::MeteredWithoutQuota => "metered_without_quota",
            Conflict::MissingApprover => "missing_approver",
            Conflict::MissingReason => "missing_reason",
            Conflict::KeysPreloaded => "keys_preloaded",
            Conflict::NoChoices => "no_choices",
            Conflict::NoTiers => "no_tiers",
            Conflict::NotMetered => "not_metered",
            Conflict::OfflineWindowEndsBeforeStart => "offline_window_ends_before_start",
            Conflict::QuotaForUngrantedFeature => "quota_for_ungranted_feature",
            Conflict::SeatsOverTierMax => "seats_over_tier_max",
            Conflict::SelfTransition => "self_transition",
            Conflict::SoftUnlimited => "soft_unlimited",
            Conflict::TermEndsBeforeStart => "term_ends_before_start",
            Conflict::UnknownChoice => "unknown_choice",
            Conflict::BundleVersionMismatch => "bundle_version_mismatch",
            Conflict::EmptyCondition => "empty_condition",
            Conflict::EventAfterNow => "event_after_now",
            Conflict::EventNotAllowed => "event_not_allowed",
            Conflict::EventsOutOfOrder => "events_out_of_order",
            Conflict::NoPhases => "no_phases",
            Conflict::NotPermitted => "not_permitted",
            Conflict::RepeatBelowTop => "repeat_below_top",
            Conflict::ResumeWithoutPause => "resume_without_pause",
            Conflict::UnmeetableTarget => "unmeetable_target",
            Conflict::MissingFact => "missing_fact",
            Conflict::DurationOverMaximum => "duration_over_maximum",
            Conflict::OverlappingException => "overlapping_exception",
            Conflict::AlreadyGranted => "already_granted",
            Conflict::ApprovalNotRequired => "approval_not_required",
            Conflict::AmbiguousDuration => "ambiguous_duration",
            Conflict::WeightsNotHundred => "weights_not_hundred",
            Conflict::PointsOutOfOrder => "points_out_of_order",
            Conflict::LastSeenBeforeFirstSeen => "last_seen_before_first_seen",
            Conflict::HistoryOutOfOrder => "history_out_of_order",
            Conflict::HistoryAfterNow => "history_after_now",
            Conflict::CreditBandOrder => "credit_band_order",
            Conflict::CreditDecreases => "credit_decreases",
        }
    }
}
