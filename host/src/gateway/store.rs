//! Stores a fleet of gateways shares its counts in, so that several
//! gateways give a license one quota, not one each. The embedded SQLite
//! meter (`meter.rs`) stays the single node's store.

pub mod redis;
