//! # entitle-core
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
// Without `internals`, what exists for the project's own tests (the
// brute-force calendar oracle, lists of every code, re-exports the tests
// name) goes unused; with it, as before the modules went private, every
// public item counts as used.
#![cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]

/// Declares the engine's internal modules: private to the crate, unless the
/// `internals` feature asks for them. The project's own tests, benches and
/// schema generator enable it; nothing else should, as nothing in them is
/// promised to stay.
macro_rules! internal {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        $(
            $(#[$attr])*
            #[cfg(feature = "internals")]
            #[doc(hidden)]
            pub mod $name;
            $(#[$attr])*
            #[cfg(not(feature = "internals"))]
            pub(crate) mod $name;
        )*
    };
}

pub mod api;

internal! {
    billing,
    compiled,
    compliance,
    entitlement,
    error,
    exceptions,
    metering,
    model,
    reading,
    simulate,
    support,
}

/// The JSON Schema of every document and of the request, for
/// `cargo xtask schemas`; never in the module.
#[cfg(feature = "schema")]
#[doc(hidden)]
pub mod schema;

pub use api::envelope::{Envelope, Failure, Meta, Success, ENGINE_VERSION};
pub use api::op::{Need, Op, OpSpec, OPS};
pub use api::BundleMeta;
pub use api::{evaluate, Expansion, LoadedBundle, Rejected, ValidLicense, ValidUsage, ABI_VERSION};
pub use billing::quote::Quote;
pub use compiled::check::{CheckKind, CompactRefusal, CompiledCheck};
pub use compiled::record::{
    CompactAnswer, CompactAsk, CompactQuota, CompactRecord, ANSWER_BYTES, ASK_BYTES,
};
pub use entitlement::basis::Basis;
pub use entitlement::check::Refusal;
pub use entitlement::check::{Ask, CheckAnswer, QuotaUse};
pub use entitlement::period::Period;
pub use entitlement::reason::{Decision, Reason};
pub use entitlement::reason::{ReasonSet, ALL as REASONS};
pub use entitlement::seat::{SeatAnswer, SeatCount};
pub use entitlement::status::Status as StatusAnswer;
pub use entitlement::terms::Source;
pub use entitlement::transition::TransitionAnswer;
pub use error::{
    ErrorCode, ErrorKind, ErrorReport, JsonPath, MAX_ECHO_CHARS, MAX_ERRORS, MAX_ERRORS_BYTES,
};
pub use metering::meter::MeterRecord;
pub use model::ids::{FeatureId, LicenseId, TierId};
pub use model::route::{StoreFailure, StoreFailureMode};
pub use model::time::{Timestamp, FIRST_INSTANT, LAST_INSTANT};
pub use reading::signed::{DocumentKind, FORMAT as SIGNED_FORMAT};
