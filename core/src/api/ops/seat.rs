//! `seat`: whether one more client may hold a floating seat of the license
//! at `now`, with the usage's `active_seats` held by others.

use super::Decide;
use crate::entitlement::seat::{self, SeatAnswer};
use crate::error::Error;

/// Answers a `seat` request: it takes no fields of its own.
pub(crate) fn answer(at: &Decide<'_>) -> Result<SeatAnswer, Vec<Error>> {
    Ok(seat::seat(at.bundle, at.license, at.usage, at.now))
}
