//! The entitle WebAssembly module: translation only, every rule lives in `entitle-core`.
//!
//! One cdylib, post-processed by wasm-bindgen into `dist/entitle.wasm`, exports
//! two faces of the same engine:
//!
//! - [`js`]: the wasm-bindgen API for JavaScript (objects or JSON text in and out);
//! - [`abi`]: a plain byte ABI (JSON bytes in and out) that calls no import, for
//!   wasmtime and any other host.

pub mod abi;
pub mod js;
