//! The compiled license: one license's checks of one feature or metric,
//! decided ahead for every span between the license's boundaries, so that a
//! check is a lookup and a little integer arithmetic; and the fixed-size
//! records the compact check reads and writes.

pub mod check;
pub mod record;
