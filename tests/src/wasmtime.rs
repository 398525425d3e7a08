//! The wasmtime runtime: `dist/entitle.wasm` loaded by the host crate, every
//! import linked as a trap, requests sent over the module's plain byte ABI.

use anyhow::{Context, Result};
use entitle_host::{WasmInstance, WasmModule};

use crate::runner::{Dist, Runner, RUNTIME_FAILURE};

/// The module in wasmtime, one instance reused across requests (the host
/// replaces it after a failed call), as a gateway runs it.
#[derive(Debug)]
pub struct Wasmtime {
    dist: Dist,
    sha256: Option<String>,
    description: String,
}

impl Wasmtime {
    /// The runtime for the module under `dist`.
    pub fn new(dist: Dist) -> Self {
        Wasmtime {
            dist,
            sha256: None,
            description: String::new(),
        }
    }
}

impl Runner for Wasmtime {
    fn name(&self) -> &str {
        "wasmtime"
    }

    fn run(&mut self, requests: &[(String, Vec<u8>)]) -> Result<Vec<String>> {
        self.dist.require_built()?;
        let path = self.dist.wasm();
        let module = WasmModule::load(&path)
            .with_context(|| format!("loading {} into wasmtime", path.display()))?;
        self.sha256 = Some(module.sha256().to_ascii_lowercase());
        self.description = format!(
            "engine {} (abi {}), {} import(s) linked as traps",
            module.engine_version(),
            module.abi_version(),
            module.trapped_imports().len()
        );
        let mut instance: WasmInstance = module
            .instance()
            .context("instantiating the module in wasmtime")?;
        Ok(requests
            .iter()
            .map(|(_, request)| match instance.evaluate(request) {
                Ok(output) => output,
                Err(error) => format!("{RUNTIME_FAILURE}{error}"),
            })
            .collect())
    }

    fn module_sha256(&self) -> Option<String> {
        self.sha256.clone()
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}
