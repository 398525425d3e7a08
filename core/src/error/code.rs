//! The one list of error codes: each stable code, its text in answers and
//! the kind of problem it is, so that hosts answer with a status chosen by
//! kind and never by matching code strings.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What kind of problem an error is: what decides how a host answers it
/// (an HTTP status, an exit code, a sentence for a customer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The bytes are not a readable document: not UTF-8, not JSON, too
    /// large or too deep.
    Unreadable,
    /// A field is missing, unknown, of the wrong type or out of its range.
    Shape,
    /// A name refers to nothing the bundle (or the engine) defines.
    Reference,
    /// A license named by id is not loaded into the bundle.
    LicenseNotLoaded,
    /// A bundle handle names no loaded bundle.
    HandleNotLoaded,
    /// Terms of the input contradict each other or the schema's rules.
    Contradiction,
    /// A signed document, or a key meant to check one, cannot be trusted.
    Untrusted,
    /// The arithmetic or the search has no answer within the engine's bounds.
    Unanswerable,
    /// More errors were found than an answer lists.
    Truncated,
}

/// Declares [`ErrorCode`] from one table: variant, text, kind.
macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal => $kind:ident, )*) => {
        /// Every stable error code the engine answers with, documented in
        /// `docs/errors.md`. Written in answers as its snake_case text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in the order of the table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as answers write it, e.g. `unknown_feature`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }

            /// The kind of problem the code names.
            pub fn kind(self) -> ErrorKind {
                match self {
                    $(ErrorCode::$variant => ErrorKind::$kind,)*
                }
            }

            /// The code an answer wrote as `text`, if it is one of ours.
            pub fn parse(text: &str) -> Option<ErrorCode> {
                match text {
                    $($text => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// The request bytes are not valid UTF-8.
    InvalidUtf8 = "invalid_utf8" => Unreadable,
    /// The request is larger than the engine accepts.
    TooLarge = "too_large" => Unreadable,
    /// The bytes are not JSON.
    InvalidJson = "invalid_json" => Unreadable,
    /// The JSON nests deeper than the engine accepts.
    TooDeep = "too_deep" => Unreadable,
    /// A list holds more entries than the engine reads; refused before any is read.
    TooMany = "too_many" => Shape,
    /// The errors an answer does not list: more than [`MAX_ERRORS`](super::MAX_ERRORS) were found, or more than [`MAX_ERRORS_BYTES`](super::MAX_ERRORS_BYTES) of them.
    TooManyErrors = "too_many_errors" => Truncated,
    /// A field holds a value of the wrong JSON type or shape.
    WrongType = "wrong_type" => Shape,
    /// A number does not fit the range the field allows.
    OutOfRange = "out_of_range" => Shape,
    /// A required field is missing.
    MissingField = "missing_field" => Shape,
    /// A field the schema does not know; rejected so that a typo never passes silently.
    UnknownField = "unknown_field" => Shape,
    /// The same key appears twice in one object; the engine never keeps one silently.
    DuplicateKey = "duplicate_key" => Shape,
    /// A timestamp that is not RFC 3339 with an offset.
    InvalidTimestamp = "invalid_timestamp" => Shape,
    /// A calendar date that is not `YYYY-MM-DD`.
    InvalidDate = "invalid_date" => Shape,
    /// A time zone that is not in the IANA database.
    UnknownTimeZone = "unknown_time_zone" => Shape,
    /// A decimal amount that cannot be read exactly.
    InvalidDecimal = "invalid_decimal" => Shape,
    /// A currency code that is not ISO 4217.
    UnknownCurrency = "unknown_currency" => Shape,
    /// A name that refers to nothing of its kind: a tier of the bundle that does not exist.
    UnknownTier = "unknown_tier" => Reference,
    /// A name that refers to nothing of its kind: a feature of the bundle that does not exist.
    UnknownFeature = "unknown_feature" => Reference,
    /// A name that refers to nothing of its kind: a metered feature (a metric) of the bundle that does not exist.
    UnknownMetric = "unknown_metric" => Reference,
    /// A name that refers to nothing of its kind: an add-on of the bundle that does not exist.
    UnknownAddon = "unknown_addon" => Reference,
    /// A name that refers to nothing of its kind: an operation of the engine that does not exist.
    UnknownOperation = "unknown_operation" => Reference,
    /// A name that refers to nothing of its kind: a governance control of the bundle that does not exist.
    UnknownControl = "unknown_control" => Reference,
    /// A name that refers to nothing of its kind: a license loaded into a preloaded bundle that does not exist.
    UnknownLicense = "unknown_license" => LicenseNotLoaded,
    /// A name that refers to nothing of its kind: a route of the bundle's gateway map that does not exist.
    UnknownRoute = "unknown_route" => Reference,
    /// A name that refers to nothing of its kind: a business calendar of the bundle that does not exist.
    UnknownCalendar = "unknown_calendar" => Reference,
    /// A name that refers to nothing of its kind: a severity of the bundle's support policy that does not exist.
    UnknownSeverity = "unknown_severity" => Reference,
    /// A name that refers to nothing of its kind: a case category of the escalation matrix that does not exist.
    UnknownCategory = "unknown_category" => Reference,
    /// A name that refers to nothing of its kind: a phase of a case category that does not exist.
    UnknownPhase = "unknown_phase" => Reference,
    /// A name that refers to nothing of its kind: a kind of evidence the escalation matrix names that does not exist.
    UnknownEvidence = "unknown_evidence" => Reference,
    /// A quantity that must be above zero is zero or negative.
    NotPositive = "not_positive" => Shape,
    /// A quantity that must not be negative is.
    Negative = "negative" => Shape,
    /// Pricing bands leave units unpriced between two bands.
    BandGap = "band_gap" => Contradiction,
    /// Pricing bands price some units twice.
    BandOverlap = "band_overlap" => Contradiction,
    /// A band other than the last has no upper bound, or the last has one.
    BandBounds = "band_bounds" => Contradiction,
    /// Two items that must be unique share a value.
    Duplicate = "duplicate" => Contradiction,
    /// A number overflowed while computing an answer.
    Overflow = "overflow" => Unanswerable,
    /// A calendar, or a target measured on one, finds no business time within the search horizon.
    NoBusinessTime = "no_business_time" => Unanswerable,
    /// The request names a bundle handle that is not loaded.
    UnknownBundleHandle = "unknown_bundle_handle" => HandleNotLoaded,
    /// An add-on lists no tier it fits.
    AddonFitsNoTier = "addon_fits_no_tier" => Contradiction,
    /// A license's add-on does not fit its tier.
    AddonNotForTier = "addon_not_for_tier" => Contradiction,
    /// A check names both a feature and a metric.
    AmbiguousCheck = "ambiguous_check" => Contradiction,
    /// A request to a preloaded bundle carries its own bundle.
    BundlePreloaded = "bundle_preloaded" => Contradiction,
    /// Amounts in two currencies were combined.
    CurrencyMismatch = "currency_mismatch" => Contradiction,
    /// Two tiers share a rank.
    DuplicateRank = "duplicate_rank" => Contradiction,
    /// An exception grants nothing.
    EmptyGrant = "empty_grant" => Contradiction,
    /// An exception expires at or before it starts.
    ExceptionEndsBeforeStart = "exception_ends_before_start" => Contradiction,
    /// An exception extends the grace of a quota that is not soft.
    GraceWithoutSoftQuota = "grace_without_soft_quota" => Contradiction,
    /// A quota increment for a metric the tier sets no quota on.
    IncrementWithoutQuota = "increment_without_quota" => Contradiction,
    /// An add-on or exception grants a metered feature.
    MeteredFeatureGrant = "metered_feature_grant" => Contradiction,
    /// A tier grants a metered feature without a quota.
    MeteredWithoutQuota = "metered_without_quota" => Contradiction,
    /// An exception names no approver.
    MissingApprover = "missing_approver" => Contradiction,
    /// An exception gives no reason.
    MissingReason = "missing_reason" => Contradiction,
    /// A request to a bundle loaded with keys carries its own `keys`.
    KeysPreloaded = "keys_preloaded" => Contradiction,
    /// A choice control with no choices.
    NoChoices = "no_choices" => Contradiction,
    /// A bundle with no tier.
    NoTiers = "no_tiers" => Contradiction,
    /// A boolean feature used where a metric is needed.
    NotMetered = "not_metered" => Contradiction,
    /// A license's offline window ends at or before it starts.
    OfflineWindowEndsBeforeStart = "offline_window_ends_before_start" => Contradiction,
    /// A quota on a feature the tier does not grant.
    QuotaForUngrantedFeature = "quota_for_ungranted_feature" => Contradiction,
    /// More seats than the tier allows.
    SeatsOverTierMax = "seats_over_tier_max" => Contradiction,
    /// A transition from a tier to itself.
    SelfTransition = "self_transition" => Contradiction,
    /// Soft enforcement on an unlimited quota.
    SoftUnlimited = "soft_unlimited" => Contradiction,
    /// A term that ends at or before it starts.
    TermEndsBeforeStart = "term_ends_before_start" => Contradiction,
    /// A control value outside the control's choices.
    UnknownChoice = "unknown_choice" => Contradiction,
    /// A case opened under another bundle version is evaluated without `reevaluate`.
    BundleVersionMismatch = "bundle_version_mismatch" => Contradiction,
    /// A severity rule with no condition.
    EmptyCondition = "empty_condition" => Contradiction,
    /// A case event later than the request's `now`.
    EventAfterNow = "event_after_now" => Contradiction,
    /// A case event that cannot happen in the case's state (reopening an open case).
    EventNotAllowed = "event_not_allowed" => Contradiction,
    /// Case events not in time order, or before the case opened.
    EventsOutOfOrder = "events_out_of_order" => Contradiction,
    /// A case category with no phase.
    NoPhases = "no_phases" => Contradiction,
    /// An override or pause by a role the bundle does not permit.
    NotPermitted = "not_permitted" => Contradiction,
    /// A repeat on an escalation level other than the top one.
    RepeatBelowTop = "repeat_below_top" => Contradiction,
    /// A case resumed while it was not waiting on the customer.
    ResumeWithoutPause = "resume_without_pause" => Contradiction,
    /// A target whose calendar has no business time left to meet it.
    UnmeetableTarget = "unmeetable_target" => Contradiction,
    /// Exception requests (docs/exceptions.md): a fact the policy requires is absent.
    MissingFact = "missing_fact" => Contradiction,
    /// An exception request longer than the policy's maximum.
    DurationOverMaximum = "duration_over_maximum" => Contradiction,
    /// An exception request overlapping another exception on the same feature or metric.
    OverlappingException = "overlapping_exception" => Contradiction,
    /// An exception request for a feature the tier or an add-on already grants.
    AlreadyGranted = "already_granted" => Contradiction,
    /// An approval or denial by a role the request's score does not require.
    ApprovalNotRequired = "approval_not_required" => Contradiction,
    /// An exception request giving both `expires_at` and `duration_days`.
    AmbiguousDuration = "ambiguous_duration" => Contradiction,
    /// Risk weights of the exception policy that do not add up to 100.
    WeightsNotHundred = "weights_not_hundred" => Contradiction,
    /// Usage points not in increasing order of their days.
    PointsOutOfOrder = "points_out_of_order" => Contradiction,
    /// An installation last seen before it was first seen.
    LastSeenBeforeFirstSeen = "last_seen_before_first_seen" => Contradiction,
    /// Usage history readings not in strictly increasing order of `at`.
    HistoryOutOfOrder = "history_out_of_order" => Contradiction,
    /// A usage history reading later than the request's `now`.
    HistoryAfterNow = "history_after_now" => Contradiction,
    /// A tier's service-credit band whose threshold is not under the band before it.
    CreditBandOrder = "credit_band_order" => Contradiction,
    /// A service-credit band that credits less than the band for better uptime.
    CreditDecreases = "credit_decreases" => Contradiction,
    /// The envelope's `format` is not `entitle-signed/1`.
    UnknownEnvelopeFormat = "unknown_envelope_format" => Untrusted,
    /// The payload or the signature is not standard base64.
    InvalidBase64 = "invalid_base64" => Untrusted,
    /// The signature does not decode to 64 bytes.
    InvalidSignatureLength = "invalid_signature_length" => Untrusted,
    /// A key set's `public_key` is not an Ed25519 public key in SPKI PEM.
    InvalidPublicKey = "invalid_public_key" => Untrusted,
    /// The envelope names a key the key set does not hold.
    UnknownKeyId = "unknown_key_id" => Untrusted,
    /// The key may not sign documents of the envelope's kind.
    KeyNotAllowedForKind = "key_not_allowed_for_kind" => Untrusted,
    /// The signature does not match the payload under the named key.
    BadSignature = "bad_signature" => Untrusted,
    /// The envelope's kind, its payload's kind and where it is used disagree.
    WrongDocumentKind = "wrong_document_kind" => Untrusted,
    /// A plain document where keys are given, so a signed one is required.
    SignatureRequired = "signature_required" => Untrusted,
    /// A signed document with no keys to check it.
    KeysRequired = "keys_required" => Untrusted,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        ErrorCode::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code `{text}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_and_is_written_once() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert!(seen.insert(code.as_str()), "{code} twice");
            let json = serde_json::to_string(code).unwrap_or_default();
            assert_eq!(json, format!("\"{code}\""));
            let back: Result<ErrorCode, _> = serde_json::from_str(&json);
            assert_eq!(back.ok(), Some(*code));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }
}
