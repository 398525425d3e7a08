//! `scan`: compliance findings over the licenses, deployments, telemetry
//! and contract events the request carries, at `now`.

use crate::compliance::inventory::Inventory;
use crate::compliance::scan::{self, Scan};
use crate::error::Error;
use crate::model::bundle::Bundle;
use crate::model::time::Timestamp;

/// Answers a `scan` request whose inventory is read.
pub(crate) fn answer(
    bundle: &Bundle,
    inventory: &Inventory,
    now: Timestamp,
) -> Result<Scan, Vec<Error>> {
    scan::scan(bundle, inventory, now)
}
