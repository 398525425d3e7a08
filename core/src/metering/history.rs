//! Usage history: the earlier readings of a metric's count that a usage may
//! carry for the portal's plot, and the order they must come in.

use crate::error::{Conflict, Error, JsonPath};
use crate::model::license::Usage;
use crate::model::time::Timestamp;

/// Checks every metric's `history`: readings strictly increasing in `at`,
/// so a plot never doubles back, and none after `now` (when the request has
/// one), since a reading from the future cannot have been taken. Readings
/// before the current period are allowed: they belong to a past period and
/// `status` leaves them out.
pub fn check(usage: &Usage, now: Option<Timestamp>, root: &JsonPath) -> Vec<Error> {
    let mut errors = Vec::new();
    for (metric, counted) in &usage.metrics {
        let at_path = root.key("metrics").key(metric.as_str()).key("history");
        let mut previous: Option<Timestamp> = None;
        for (i, reading) in counted.history.iter().enumerate() {
            let path = at_path.index(i).key("at");
            if let Some(before) = previous.filter(|before| reading.at <= *before) {
                errors.push(Error::Contradiction {
                    path,
                    detail: format!(
                        "reading at `{}` is not after the reading before it, at `{before}`",
                        reading.at
                    ),
                    code: Conflict::HistoryOutOfOrder,
                });
            } else if let Some(now) = now.filter(|now| reading.at > *now) {
                errors.push(Error::Contradiction {
                    path,
                    detail: format!("reading at `{}` is after `now`, `{now}`", reading.at),
                    code: Conflict::HistoryAfterNow,
                });
            }
            previous = Some(reading.at);
        }
    }
    errors
}
