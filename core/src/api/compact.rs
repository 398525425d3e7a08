//! The compact check's entry: a loaded license compiled for one feature
//! or metric, refused with the errors a JSON check naming them would get.

use super::envelope::{failure, success};
use super::op::Op;
use super::{LoadedBundle, Rejected};
use crate::compiled::check::{CheckKind, CompiledCheck};
use crate::compiled::expand::Expansion;
use crate::entitlement::check::Ask;
use crate::error::{Error, JsonPath, RefKind};

impl LoadedBundle {
    /// Compiles the loaded license `license` for compact checks of `name`:
    /// a feature check (`{"feature": name}`) or a consuming check
    /// (`{"metric": name, "amount": n}`). Refused, with the codes and paths a
    /// JSON check naming them gets, when the license is not loaded, the
    /// bundle has no such feature, or a consuming check names one that is
    /// not metered. Compile again after the license is loaded anew.
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

    /// What turns the compact answers of `compiled`, compiled from this
    /// bundle, into the full JSON answers of the same requests
    /// ([`Expansion::envelope`]); `None` where the documents cannot be
    /// decided at a boundary of the license (its checks then go the JSON way).
    pub fn expansion(&self, compiled: &CompiledCheck) -> Option<Expansion> {
        Expansion::new(&self.bundle, &self.meta, compiled).ok()
    }

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
