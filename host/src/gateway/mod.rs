//! `entitle serve`: the edge gateway. It loads the module, the bundle and
//! the licenses into a pool of instances, then listens; every check is
//! decided by the module, consumption is metered before the answer leaves
//! (in its own SQLite meter, or in the Redis or PostgreSQL a fleet of
//! gateways shares), and the whole generation is swapped on reload.
//!
//! See `docs/gateway.md` for the endpoints, the headers and proxy set-ups.

mod answer;
mod args;
mod audit;
mod decision;
mod fleet;
mod generation;
mod http;
mod meter;
mod portal;
pub mod seats;
mod server;
pub mod store;
mod telemetry;

pub use answer::{Answer, Decided, Unread};
pub use args::{DocumentArgs, ServeArgs};
pub use audit::{replay, DecisionLog, Replay};
pub use decision::{Gateway, SeatAsk, SeatOutcome};
pub use fleet::{Fleet, MeterAddress, Metering};
pub use generation::{Generation, Mode, Sources};
pub use http::{router, FORWARD_AUTH};
pub use meter::{Count, Durability, LicenseUsage, Meter};
pub use portal::Documents;
pub use server::{serve, ServeOptions};
pub use telemetry::Telemetry;
