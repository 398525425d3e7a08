//! The one trait every runtime implements, and the native implementation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Prefix of an output that is not the module's answer but a failure of the
/// runtime for that one request (a trap, a thrown exception). It can never be
/// the start of a JSON envelope, so such an output always differs from the
/// native one and fails its case.
pub const RUNTIME_FAILURE: &str = "!runtime-failure: ";

/// One runtime able to evaluate a batch of requests.
pub trait Runner {
    /// A short name: `native`, `wasmtime`, `node`, `chromium`.
    fn name(&self) -> &str;

    /// Evaluates every request, in order, returning one output per request.
    /// A failure of one request is an output starting with [`RUNTIME_FAILURE`];
    /// an error fails the whole batch.
    fn run(&mut self, requests: &[(String, Vec<u8>)]) -> Result<Vec<String>>;

    /// The lowercase hex sha256 of the module bytes this runtime loaded, as
    /// the runtime itself computed it; `None` for native code. Known after `run`.
    fn module_sha256(&self) -> Option<String> {
        None
    }

    /// A line about the runtime (its version), known after `run`.
    fn describe(&self) -> String {
        String::new()
    }

    /// Whether this runtime loads `dist/entitle.wasm` (and so must report its hash).
    fn loads_module(&self) -> bool {
        true
    }
}

/// Native Rust: `entitle_core::api::evaluate`, the reference every other
/// runtime must equal byte for byte.
#[derive(Debug, Default)]
pub struct Native;

impl Runner for Native {
    fn name(&self) -> &str {
        "native"
    }

    fn run(&mut self, requests: &[(String, Vec<u8>)]) -> Result<Vec<String>> {
        Ok(requests
            .iter()
            .map(|(_, request)| entitle_core::api::evaluate(request))
            .collect())
    }

    fn describe(&self) -> String {
        format!("entitle_core {}", entitle_core::api::ENGINE_VERSION)
    }

    fn loads_module(&self) -> bool {
        false
    }
}

/// Where the built module and its companions live.
#[derive(Debug, Clone)]
pub struct Dist {
    /// The repository root.
    pub root: PathBuf,
}

impl Dist {
    /// The layout under a repository root.
    pub fn new(root: &Path) -> Self {
        Dist {
            root: root.to_path_buf(),
        }
    }

    /// `dist/`.
    pub fn dir(&self) -> PathBuf {
        self.root.join("dist")
    }

    /// `dist/entitle.wasm`.
    pub fn wasm(&self) -> PathBuf {
        self.dir().join("entitle.wasm")
    }

    /// `dist/entitle.js`, the wasm-bindgen glue.
    pub fn glue(&self) -> PathBuf {
        self.dir().join("entitle.js")
    }

    /// `dist/entitle.wasm.sha256`.
    pub fn sha256_file(&self) -> PathBuf {
        self.dir().join("entitle.wasm.sha256")
    }

    /// Fails with the command to run when the module has not been built.
    pub fn require_built(&self) -> Result<()> {
        for path in [self.wasm(), self.glue(), self.sha256_file()] {
            if !path.is_file() {
                anyhow::bail!(
                    "{} is missing: run `cargo xtask build-wasm` first",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// The hash recorded in `dist/entitle.wasm.sha256` (its first word, so
    /// both a bare hash and `sha256sum` output are read), lowercased.
    pub fn recorded_sha256(&self) -> Result<String> {
        let path = self.sha256_file();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let word = text.split_whitespace().next().unwrap_or_default();
        Ok(word.to_ascii_lowercase())
    }

    /// The sha256 of `dist/entitle.wasm` as this process reads it.
    pub fn actual_sha256(&self) -> Result<String> {
        let path = self.wasm();
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(sha256_hex(&bytes))
    }
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
