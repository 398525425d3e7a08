//! The entitle WebAssembly module: translation only, every rule lives in `entitle-core`.
