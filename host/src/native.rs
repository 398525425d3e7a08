//! The native engine: `entitle_core` called directly, behind the same traits
//! as the module, so every answer can be compared byte for byte.

use entitle_core::api::{self, LoadedBundle};

/// Calls `entitle_core` in this process.
#[derive(Debug, Default, Clone, Copy)]
pub struct Native;

impl Native {
    /// The native engine.
    pub fn new() -> Native {
        Native
    }

    /// Evaluates a self-contained request.
    pub fn evaluate(&self, request: &[u8]) -> String {
        api::evaluate(request)
    }

    /// Loads a bundle once. Returns the envelope (the bundle's description,
    /// or its errors) and, when the bundle loaded, the session.
    pub fn load_bundle(&self, bundle: &[u8]) -> (Option<NativeBundle>, String) {
        session(LoadedBundle::load(bundle))
    }

    /// Verifies a signed bundle against a key set and loads it once; the
    /// session keeps the key set, so its licenses must be signed too.
    /// Returns the envelope (the bundle's description, or its errors) and,
    /// when the bundle loaded, the session.
    pub fn load_signed_bundle(
        &self,
        envelope: &[u8],
        keys: &[u8],
    ) -> (Option<NativeBundle>, String) {
        session(LoadedBundle::load_signed(envelope, keys))
    }
}

fn session(loaded: Result<LoadedBundle, String>) -> (Option<NativeBundle>, String) {
    match loaded {
        Ok(loaded) => {
            let describe = loaded.describe();
            (Some(NativeBundle { loaded }), describe)
        }
        Err(envelope) => (None, envelope),
    }
}

/// A bundle loaded once, natively.
#[derive(Debug, Clone)]
pub struct NativeBundle {
    loaded: LoadedBundle,
}

impl NativeBundle {
    /// Evaluates a request (without `bundle`) against the bundle.
    pub fn evaluate(&self, request: &[u8]) -> String {
        self.loaded.evaluate(request)
    }

    /// Loads a license into the bundle, so that requests may name it by id;
    /// returns the envelope (`{"license":id,"loaded":n}` or the errors).
    pub fn load_license(&mut self, license: &[u8]) -> String {
        self.loaded.load_license(license)
    }

    /// Forgets a loaded license; whether it was loaded.
    pub fn unload_license(&mut self, id: &str) -> bool {
        self.loaded.unload_license(id)
    }

    /// The bundle's description envelope.
    pub fn describe(&self) -> String {
        self.loaded.describe()
    }
}
