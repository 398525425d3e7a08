//! The rules of entitle: every decision is a pure function of the bundle, the
//! license, the usage and `now`, all passed in. Nothing here reads a clock, a
//! file or the network, so the same inputs give the same bytes on every runtime.

pub mod api;
pub mod billing;
pub mod compliance;
pub mod entitlement;
pub mod error;
pub mod exceptions;
pub mod metering;
pub mod model;
pub mod reading;
#[cfg(feature = "schema")]
pub mod schema;
pub mod simulate;
pub mod support;

pub use api::envelope::{BundleMeta, Envelope, Failure, Meta, Success, ENGINE_VERSION};
pub use api::op::{Need, Op, OpSpec, OPS};
pub use entitlement::check::CheckAnswer;
pub use error::{ErrorCode, ErrorKind, ErrorReport};
