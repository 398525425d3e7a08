//! Support: the bundle's support policy, business calendars, SLA clocks,
//! the case document, the escalation matrix applied to a case, and the
//! `escalate` operation that derives a case's state from its events.

pub mod calendar;
pub mod case;
pub mod escalate;
pub mod matrix;
pub mod policy;
pub mod sla;
