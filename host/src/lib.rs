//! The entitle host: loads the one module into wasmtime, or calls core natively.
