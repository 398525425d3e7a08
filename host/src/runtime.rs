//! The two traits every engine answers through, so the CLI, the conformance
//! runner and the benchmarks treat native and wasm alike.

use std::path::PathBuf;

use crate::error::HostError;
use crate::module::{WasmBundle, WasmInstance, WasmModule};
use crate::native::{Native, NativeBundle};

/// Anything that turns request bytes into an envelope.
pub trait Evaluator {
    /// Evaluates one request and returns the envelope JSON. `Err` only for a
    /// failure of the host or the module (a trap, the deadline, a limit), never for
    /// bad input, which gets an error envelope.
    fn evaluate(&mut self, request: &[u8]) -> Result<String, HostError>;
}

/// What an engine reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// `native` or `wasmtime`.
    pub runtime: &'static str,
    /// The engine version (read from the module for wasmtime).
    pub engine_version: String,
    /// The byte ABI version (read from the module for wasmtime).
    pub abi_version: u32,
    /// The module's sha256 (wasmtime only).
    pub module_sha256: Option<String>,
    /// The module's file (wasmtime only).
    pub module_path: Option<PathBuf>,
}

/// A whole engine: self-contained requests, and bundles loaded once.
pub trait Runtime: Evaluator {
    /// Versions, and the module's identity for wasmtime.
    fn info(&self) -> RuntimeInfo;

    /// Loads a bundle once. Returns the envelope (the bundle's description,
    /// or its errors) and, when the bundle loaded, a session evaluating
    /// requests that name no `bundle`.
    #[allow(clippy::type_complexity)]
    fn load_bundle(
        &self,
        bundle: &[u8],
    ) -> Result<(Option<Box<dyn Evaluator + Send>>, String), HostError>;

    /// Verifies a signed bundle (an `entitle-signed/1` envelope) against a
    /// key set and loads it once, keeping the key set: requests to the
    /// session then take signed licenses only. Returns the envelope and,
    /// when the bundle loaded, the session.
    #[allow(clippy::type_complexity)]
    fn load_signed_bundle(
        &self,
        envelope: &[u8],
        keys: &[u8],
    ) -> Result<(Option<Box<dyn Evaluator + Send>>, String), HostError>;
}

impl Evaluator for Native {
    fn evaluate(&mut self, request: &[u8]) -> Result<String, HostError> {
        Ok(Native::evaluate(self, request))
    }
}

impl Evaluator for NativeBundle {
    fn evaluate(&mut self, request: &[u8]) -> Result<String, HostError> {
        Ok(NativeBundle::evaluate(self, request))
    }
}

impl Runtime for Native {
    fn info(&self) -> RuntimeInfo {
        RuntimeInfo {
            runtime: "native",
            engine_version: entitle_core::api::ENGINE_VERSION.to_string(),
            abi_version: entitle_core::api::ABI_VERSION,
            module_sha256: None,
            module_path: None,
        }
    }

    fn load_bundle(
        &self,
        bundle: &[u8],
    ) -> Result<(Option<Box<dyn Evaluator + Send>>, String), HostError> {
        let (session, envelope) = Native::load_bundle(self, bundle);
        Ok((
            session.map(|s| Box::new(s) as Box<dyn Evaluator + Send>),
            envelope,
        ))
    }

    fn load_signed_bundle(
        &self,
        envelope: &[u8],
        keys: &[u8],
    ) -> Result<(Option<Box<dyn Evaluator + Send>>, String), HostError> {
        let (session, envelope) = Native::load_signed_bundle(self, envelope, keys);
        Ok((
            session.map(|s| Box::new(s) as Box<dyn Evaluator + Send>),
            envelope,
        ))
    }
}

impl Evaluator for WasmModule {
    /// A fresh instance per call.
    fn evaluate(&mut self, request: &[u8]) -> Result<String, HostError> {
        WasmModule::evaluate(self, request)
    }
}

impl Evaluator for WasmInstance {
    fn evaluate(&mut self, request: &[u8]) -> Result<String, HostError> {
        WasmInstance::evaluate(self, request)
    }
}

impl Evaluator for WasmBundle {
    fn evaluate(&mut self, request: &[u8]) -> Result<String, HostError> {
        WasmBundle::evaluate(self, request)
    }
}

impl Runtime for WasmModule {
    fn info(&self) -> RuntimeInfo {
        RuntimeInfo {
            runtime: "wasmtime",
            engine_version: self.engine_version().to_string(),
            abi_version: self.abi_version(),
            module_sha256: Some(self.sha256().to_string()),
            module_path: self.path().map(PathBuf::from),
        }
    }

    fn load_bundle(
        &self,
        bundle: &[u8],
    ) -> Result<(Option<Box<dyn Evaluator + Send>>, String), HostError> {
        let (session, envelope) = WasmModule::load_bundle(self, bundle)?;
        Ok((
            session.map(|s| Box::new(s) as Box<dyn Evaluator + Send>),
            envelope,
        ))
    }

    fn load_signed_bundle(
        &self,
        envelope: &[u8],
        keys: &[u8],
    ) -> Result<(Option<Box<dyn Evaluator + Send>>, String), HostError> {
        let (session, envelope) = WasmModule::load_signed_bundle(self, envelope, keys)?;
        Ok((
            session.map(|s| Box::new(s) as Box<dyn Evaluator + Send>),
            envelope,
        ))
    }
}
