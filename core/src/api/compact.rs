//! The compact check's entry: a loaded license compiled for one feature
//! or metric, refused with the errors a JSON check naming them would get.

use super::envelope::{failure, success};
use super::op::Op;
use super::{LoadedBundle, Rejected};
use crate::compiled::check::CompactRefusal;
use crate::compiled::check::{CheckKind, CompiledCheck};
use crate::compiled::record::{CompactAnswer, CompactAsk};
use crate::entitlement::check::Ask;
use crate::error::{Error, JsonPath, RefKind};
use crate::reading::bundle::BundleMeta;

impl LoadedBundle {
    /// Compiles the loaded license `license` for compact checks of `name`:
    /// a feature check (`{"feature": name}`) or a consuming check
    /// (`{"metric": name, "amount": n}`). Refused, with the codes and paths a
    /// JSON check naming them gets, when the license is not loaded, the
    /// bundle has no such feature, or a consuming check names one that is
    /// not metered. Compile again after the license is loaded anew.
    #[inline]
    pub fn compile(
        &self,
        license: &str,
        name: &str,
        kind: CheckKind,
    ) -> Result<CompiledCheck, Rejected> {
        self.compile_checked(license, name, kind)
            .map_err(Rejected::new)
    }

    /// [`LoadedBundle::compile`] for hosts that speak JSON: the compiled
    /// check and the success envelope describing it (its bases, what a
    /// record's decided-by bits stand for, and the reason codes in the order
    /// of a record's reason bits), or the error envelope.
    #[inline]
    pub fn compile_json(
        &self,
        license: &str,
        name: &str,
        kind: CheckKind,
    ) -> Result<(CompiledCheck, String), String> {
        #[derive(serde::Serialize)]
        struct Compiled<'a> {
            license: &'a str,
            feature: &'a str,
            kind: &'static str,
            bases: &'a [crate::entitlement::basis::Basis],
            reasons: &'static [crate::entitlement::reason::Reason],
        }
        let compiled = self
            .compile_checked(license, name, kind)
            .map_err(|errors| failure(errors, Some(&self.meta)))?;
        let described = Compiled {
            license,
            feature: name,
            kind: match kind {
                CheckKind::Feature => "feature",
                CheckKind::Consume => "metric",
            },
            bases: compiled.bases(),
            reasons: &crate::entitlement::reason::ALL,
        };
        let envelope = success(Op::Compile, &described, Some(&self.meta));
        Ok((compiled, envelope))
    }

    /// What writes the full JSON answers of this bundle's compiled checks
    /// ([`Expansion::check`]).
    #[inline]
    pub fn expansion(&self) -> Expansion {
        Expansion {
            meta: self.meta.clone(),
        }
    }

    #[inline]
    fn compile_checked(
        &self,
        license: &str,
        name: &str,
        kind: CheckKind,
    ) -> Result<CompiledCheck, Vec<Error>> {
        let loaded = self
            .licenses
            .iter()
            .find(|(id, _)| id.as_str() == license)
            .map(|(_, l)| l);
        // As in a JSON check, a license that is not loaded is the one error.
        let Some(loaded) = loaded else {
            return Err(vec![Error::UnknownReference {
                path: JsonPath::root().key("license"),
                kind: RefKind::License,
                name: license.to_string(),
            }]);
        };
        let ask = self.asked(
            name,
            match kind {
                CheckKind::Feature => None,
                CheckKind::Consume => Some(0),
            },
        )?;
        let feature = match &ask {
            Ask::Feature(f) | Ask::Consume { metric: f, .. } => f,
        };
        CompiledCheck::compile(&self.bundle, loaded, feature, kind).map_err(|e| vec![e])
    }
}

/// The full answer of a compact check for hosts that send it too (a
/// gateway's `/v1/check` body): the envelope the JSON entry writes for the
/// same request, decided once with the compact record, in one call instead
/// of a second, JSON, check. It holds what every envelope carries besides
/// the answer, the bundle's identity.
#[derive(Debug, Clone)]
pub struct Expansion {
    meta: BundleMeta,
}

impl Expansion {
    /// The compact answer of `compiled` (a check of this bundle) to `ask`,
    /// and the JSON entry's envelope for the same request, byte for byte;
    /// refused where the compact check refuses.
    #[inline]
    pub fn check(
        &self,
        compiled: &CompiledCheck,
        ask: &CompactAsk,
    ) -> Result<(CompactAnswer, String), CompactRefusal> {
        let (compact, answer) = compiled.check_in_full(ask)?;
        Ok((compact, super::fast::written(&answer, &self.meta)))
    }
}
