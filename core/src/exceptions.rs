//! Time-bound exceptions: the bundle's exception policy, the request
//! document, its intake, risk score and lifecycle, and the `exception`
//! operation that assesses a request under them.

pub mod assess;
pub mod intake;
pub mod lifecycle;
pub mod policy;
pub mod request;
pub mod risk;
