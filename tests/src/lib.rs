//! The conformance corpus runner: loads the cases of `tests/conformance/`,
//! feeds every request to every runtime through one [`Runner`] trait (native
//! Rust, wasmtime, Node, headless Chromium) and judges the outputs: byte
//! identity between runtimes, and the native output against each case's
//! `expect`. The case format is described in `tests/conformance/README.md`.

pub mod canonical;
pub mod case;
pub mod compact;
pub mod expect;
pub mod js;
pub mod runner;
pub mod verdict;
pub mod wasmtime;

use std::path::PathBuf;

pub use case::{Case, Corpus};
pub use runner::{Dist, Native, Runner, RUNTIME_FAILURE};
pub use verdict::{judge, RuntimeRun, Verdict};

/// The repository root (the parent of this crate's folder).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The conformance folder, `tests/conformance`.
pub fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// Every runtime, in the order they run: native first (the reference).
pub const ALL_RUNTIMES: [&str; 5] = ["native", "wasmtime", "node", "chromium", "portal"];

/// The runner for a runtime name, or `None` for an unknown name.
pub fn runner_for(name: &str) -> Option<Box<dyn Runner>> {
    let root = repo_root();
    match name {
        "native" => Some(Box::new(Native)),
        "wasmtime" => Some(Box::new(wasmtime::Wasmtime::new(Dist::new(&root)))),
        "node" => Some(Box::new(js::JsRuntime::node(&root))),
        "chromium" => Some(Box::new(js::JsRuntime::chromium(&root))),
        "portal" => Some(Box::new(js::JsRuntime::portal(&root))),
        _ => None,
    }
}
