//! Business calendars: a time zone, weekly hours with breaks and overnight
//! intervals, holidays, and business-time arithmetic on them; see
//! `docs/calendars.md` for the format and every semantic choice.

mod arith;
mod format;
mod stepwise;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod zone_tests;

pub use arith::{CalendarError, HORIZON_DAYS, MAX_ADD_SECONDS};
pub use format::{Calendar, Holiday, Interval, TimeOfDay, Weekly};
