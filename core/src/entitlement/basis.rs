//! What decided an answer: the license, the bundle, its expiry policy or a
//! grant. Both `check` and the offline rules name it.

use serde::{Deserialize, Serialize};

use crate::entitlement::terms::Source;
use crate::model::ids::{BundleId, LicenseId};

/// What decided an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Basis {
    /// The license's status, term or offline validity.
    License(LicenseId),
    /// The bundle, issued later than the clock allows.
    Bundle(BundleId),
    /// The bundle's expiry policy.
    ExpiryPolicy,
    /// A grant from a tier, add-on or exception.
    #[serde(untagged)]
    Grant(Source),
}
