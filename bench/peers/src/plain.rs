//! The floor: the same rule as a hand-written `if` over structs already in
//! memory (ids as strings, as the other engines hold them).

use crate::{Facts, Gate, Input};

/// The licenses and features, looked up by id.
pub struct PlainGate {
    licenses: Vec<crate::LicenseFacts>,
    features: std::collections::BTreeMap<String, crate::FeatureFacts>,
}

impl PlainGate {
    /// Holds the facts.
    pub fn new(facts: &Facts) -> PlainGate {
        PlainGate {
            licenses: facts.licenses.clone(),
            features: facts.features.clone(),
        }
    }

    /// Whether the license may do what `input` asks.
    pub fn allows(&self, input: &Input) -> bool {
        let Some(license) = self.licenses.iter().find(|l| l.id == input.license) else {
            return false;
        };
        let name = match input.gate {
            Gate::Feature(feature) => feature,
            Gate::Consume { metric, .. } => metric,
        };
        let Some(feature) = self.features.get(name) else {
            return false;
        };
        let now = input.now.seconds;
        let in_force =
            license.status == "active" && license.term_start <= now && now < license.term_end;
        let granted = feature.tiers.contains(&license.tier)
            || license.addons.iter().any(|a| feature.addons.contains(a));
        let within = match input.gate {
            Gate::Feature(_) => true,
            Gate::Consume { amount, used, .. } => license
                .limits
                .get(name)
                .is_some_and(|limit| used.checked_add(amount).is_some_and(|n| n <= *limit)),
        };
        in_force && granted && within
    }
}
