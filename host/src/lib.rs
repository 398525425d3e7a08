//! The entitle host: loads the one module into wasmtime, or calls core natively.
//!
//! ```no_run
//! use entitle_host::{Native, WasmModule};
//!
//! # fn main() -> Result<(), entitle_host::HostError> {
//! let module = WasmModule::load("dist/entitle.wasm")?;
//! println!("{} abi {} sha256 {}", module.engine_version(), module.abi_version(), module.sha256());
//! let request = br#"{"op":"check","bundle":{},"license":{},"usage":{},"now":"2026-11-22T10:00:00Z","feature":"sso"}"#;
//! assert_eq!(module.evaluate(request)?, Native::new().evaluate(request));
//!
//! // The gateway's path: parse the bundle once, then check many times.
//! let (session, describe) = module.load_bundle(br#"{}"#)?;
//! if let Some(mut session) = session {
//!     let answer = session.evaluate(br#"{"op":"check","license":{},"usage":{},"now":"2026-11-22T10:00:00Z","feature":"sso"}"#)?;
//! }
//! # Ok(())
//! # }
//! ```

mod abi;
pub mod cli;
mod error;
pub mod gateway;
mod limits;
mod module;
mod native;
pub mod request;
mod runtime;
pub mod signing;

pub use error::HostError;
pub use limits::{Limits, EPOCH_TICK};
pub use module::{
    cache_dir, sha256_hex, Compact, CompactHandle, WasmBundle, WasmInstance, WasmModule,
    GLUE_NAMESPACE,
};
pub use native::{Native, NativeBundle};
pub use runtime::{Evaluator, Runtime, RuntimeInfo};
