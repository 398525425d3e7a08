//! What a license may do: the terms its tier, add-ons and exceptions grant,
//! its standing and periods, offline validity, the reasons of a decision,
//! and the `check`, `seat`, `status` and `transition` rules built on them.

pub mod basis;
pub mod check;
pub mod offline;
pub mod period;
pub mod reason;
pub mod seat;
pub mod standing;
pub mod status;
pub mod terms;
pub mod transition;
