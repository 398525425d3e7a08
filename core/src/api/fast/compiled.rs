//! The compiled checks of the licenses loaded into a bundle, for the JSON
//! fast path: one slot per feature of the bundle and loaded license,
//! compiled the first time a check names it and dropped with the license.
//! Derived data only: a license loaded anew gets empty slots.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::compiled::check::{CheckKind, CompiledCheck};
use crate::model::bundle::Bundle;
use crate::model::ids::FeatureId;
use crate::model::license::License;

/// One loaded license's compiled checks, by feature.
#[derive(Debug, Clone, Default)]
pub(crate) struct LicenseChecks {
    /// `None` in a slot once compiling that feature failed: its checks stay
    /// on the general rules.
    slots: BTreeMap<FeatureId, OnceLock<Option<CompiledCheck>>>,
}

impl LicenseChecks {
    /// Empty slots for every feature of `bundle`.
    #[inline]
    pub(crate) fn new(bundle: &Bundle) -> LicenseChecks {
        LicenseChecks {
            slots: bundle
                .features
                .keys()
                .map(|f| (f.clone(), OnceLock::new()))
                .collect(),
        }
    }

    /// `license` compiled for `feature`, compiled now when first asked.
    #[inline]
    pub(crate) fn get(
        &self,
        bundle: &Bundle,
        license: &License,
        feature: &FeatureId,
    ) -> Option<&CompiledCheck> {
        self.slots
            .get(feature)?
            .get_or_init(|| {
                // The kind only says which check `CompiledCheck::check`
                // runs; the fast path names the kind on every call.
                CompiledCheck::compile(bundle, license, feature, CheckKind::Feature).ok()
            })
            .as_ref()
    }
}
