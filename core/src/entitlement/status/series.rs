//! A quota's usage over its current period, for the portal's plot: the
//! readings the usage carries, the count now, and where the count is
//! projected to be when the period ends.

use serde::Serialize;

use crate::entitlement::period::Period;
use crate::model::license::Reading;
use crate::model::time::Timestamp;

/// Points to draw for one quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    /// Readings within the current period, oldest first, ending with the count at `now`.
    pub points: Vec<Reading>,
    /// The count projected for the period's end.
    pub projected: Reading,
}

/// The series of a quota: the readings taken in `[period.start, now)`, then
/// `(now, used)`, then the projection at the period's end. Readings before
/// the period's start counted a past period, which reset since, so they are
/// left out rather than drawn against this period's count; history has been
/// checked to be in order and not after `now`, and a reading at `now` itself
/// gives way to the count the usage states.
pub fn series(
    history: &[Reading],
    used: u64,
    projected_used: u64,
    period: &Period,
    now: Timestamp,
) -> Series {
    let mut points: Vec<Reading> = history
        .iter()
        .filter(|r| r.at >= period.start && r.at < now)
        .copied()
        .collect();
    points.push(Reading { at: now, used });
    Series {
        points,
        projected: Reading {
            at: period.end,
            used: projected_used,
        },
    }
}
