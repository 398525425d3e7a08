//! The rules of entitle: every decision is a pure function of the bundle, the
//! license, the usage and `now`, all passed in. Nothing here reads a clock, a
//! file or the network, so the same inputs give the same bytes on every runtime.

pub mod api;
pub mod bundle;
mod business_time;
pub mod calendar;
pub mod case;
pub mod charge;
pub mod check;
pub mod compliance;
mod conflict;
pub mod credit;
pub mod error;
pub mod escalate;
pub mod escalation;
pub mod exception;
pub mod exception_request;
pub mod governance;
pub mod history;
pub mod ids;
mod intake;
pub mod inventory;
pub mod json;
pub mod license;
mod lifecycle;
pub mod meter;
pub mod money;
pub mod offline;
mod parts;
pub mod period;
pub mod quote;
pub mod reason;
pub mod rejection;
pub mod remediation;
mod request;
mod risk;
pub mod route;
pub mod scan;
pub mod scenario;
#[cfg(feature = "schema")]
pub mod schema;
pub mod signed;
pub mod simulate;
pub mod sla;
pub mod standing;
pub mod status;
pub mod strict;
pub mod support;
pub mod tier;
pub mod time;
pub mod transition;
pub mod validate;
mod verify;
