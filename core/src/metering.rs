//! Counting usage: the count a consuming check records, the usage of the
//! current period, and the history of readings a usage may carry.

pub mod history;
pub mod meter;
