//! Names of the things documents refer to, one type per kind so a tier id
//! can never be passed where a feature id is meant.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::coded;

/// Longest id accepted; ids are names, not payloads.
const MAX_ID_LEN: usize = 128;

fn valid_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_ID_LEN
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        // Derived order, equality and hash are the text's, so a map keyed
        // by ids can be searched with a `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                if valid_id(&text) {
                    Ok($name(text))
                } else {
                    Err(coded(
                        "wrong_type",
                        &format!(
                            "invalid id `{text}`: use 1 to {MAX_ID_LEN} letters, digits, `_`, `-`, `.` or `:`"
                        ),
                    ))
                }
            }
        }
    };
}

id_type!(
    /// A feature of the bundle; metered features double as metrics.
    FeatureId
);
id_type!(
    /// A tier of the bundle.
    TierId
);
id_type!(
    /// An add-on of the bundle.
    AddOnId
);
id_type!(
    /// An exception granted on a license.
    ExceptionId
);
id_type!(
    /// A license.
    LicenseId
);
id_type!(
    /// An installation or host that telemetry reports.
    InstallationId
);
id_type!(
    /// A customer.
    CustomerId
);
id_type!(
    /// A bundle, across its versions.
    BundleId
);
id_type!(
    /// A governance control declared by the bundle.
    ControlId
);
id_type!(
    /// A public key of a key set, named in signed envelopes.
    KeyId
);
id_type!(
    /// A business calendar declared by the bundle.
    CalendarId
);
id_type!(
    /// A support case.
    CaseId
);
id_type!(
    /// A category of support case in the escalation matrix.
    CategoryId
);
id_type!(
    /// A phase of a case's handling (investigation, validation, ...).
    PhaseId
);
id_type!(
    /// A severity the bundle declares, such as `critical`.
    SeverityId
);
id_type!(
    /// A role that owns, escalates, overrides or pauses cases.
    RoleId
);
id_type!(
    /// A kind of evidence a category requires, such as `usage_export`.
    EvidenceId
);
id_type!(
    /// A risk signal raised on a case, such as `legal_threat`.
    SignalId
);
id_type!(
    /// A message template the vendor sends customers.
    TemplateId
);
