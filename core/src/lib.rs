//! The rules of entitle: every decision is a pure function of the bundle, the
//! license, the usage and `now`, all passed in. Nothing here reads a clock, a
//! file or the network, so the same inputs give the same bytes on every runtime.

pub mod api;
pub mod error;
