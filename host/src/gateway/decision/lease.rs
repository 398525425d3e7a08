//! A consuming check of a leased metric: spent from the lease this gateway
//! holds for the license and metric when it fits, decided by the module on
//! the lease's next position (every admission on a count position of its
//! own, across the fleet) and journaled before it is answered; otherwise
//! the lease is settled and the check counted on the store, reserving the
//! next lease with its own units (`fleet.rs`).

use std::time::Instant;

use entitle_core::Timestamp;

use entitle_core::StoreFailureMode;

use super::fleet::{on_count, Check, OnStore};
use super::Gateway;
use crate::gateway::answer::{store_unreachable, Decided};
use crate::gateway::fleet::{Fleet, Held, Leases};
use crate::gateway::meter::LicenseUsage;

impl Gateway {
    /// Decides a check of `metric`, leased `size` units at a time.
    pub(super) async fn consume_leased(
        &self,
        fleet: &Fleet,
        check: &Check<'_>,
        metric: &str,
        size: u64,
    ) -> Decided {
        let leases = fleet.leases();
        let slot = leases.slot(check.license, metric);
        // The license's metric in turn: its lease is spent in order.
        let mut held = slot.lock().await;
        // While the store is away, `lease_only` spends a lease past its
        // time to live.
        let rule = check.generation.store_failure(metric);
        let stretched = rule.mode == StoreFailureMode::LeaseOnly && !fleet.health().up();
        let fresh = |l: &&mut Held| stretched || l.taken.elapsed() < leases.ttl();
        if let Some(lease) = held.as_mut().filter(fresh) {
            if let Some(decided) = self.spend(leases, check, lease) {
                return decided;
            }
        }
        // Dry, too old, of a past period, or not what the request needs:
        // its unspent units go back before the next lease is reserved. A
        // lease the store does not take back stays held, and the check
        // meets the metric's failure mode.
        if let Some(lease) = held.take() {
            if let Err(error) = fleet.settle(&lease).await {
                tracing::warn!(%error, lease = %lease.id, "lease not settled; still held");
                *held = Some(lease);
                if rule.mode != StoreFailureMode::BoundedOpen {
                    return store_unreachable(check.generation, metric, &error);
                }
            }
        }
        let (decided, taken) = match self.count_on_store(fleet, check, Some(size)).await {
            OnStore::Answered(decided) => return decided,
            OnStore::Unreachable(unreachable) => {
                return self.unreachable(fleet, check, unreachable)
            }
            OnStore::Leased(decided, taken) => (decided, taken),
        };
        let lease = Held {
            id: leases.next_id(),
            license: check.license.to_string(),
            metric: taken.metric,
            period_start: taken.period_start,
            period_end: taken.period_end,
            soft_exceeded_at: taken.soft_exceeded_at,
            from: taken.from,
            next: taken.next,
            to: taken.to,
            taken: Instant::now(),
        };
        // Spent whole by its first request: nothing to hold or settle.
        if lease.unused() == 0 {
            return decided;
        }
        if let Err(error) = leases.reserved(&lease) {
            // Not journaled, not answered: everything it reserved goes back.
            let mut unspent = lease;
            unspent.next = unspent.from;
            if let Err(settling) = fleet.settle(&unspent).await {
                tracing::warn!(error = %settling, lease = %unspent.id, "lease not settled");
            }
            return self.failed(check.generation, check.fields, &error);
        }
        if let Some(old) = held.replace(lease) {
            if let Err(error) = fleet.settle(&old).await {
                tracing::warn!(%error, lease = %old.id, "lease not settled; the journal keeps it for the next start");
            }
        }
        decided
    }

    /// A check decided on the lease's next position and spent from it, if
    /// the module allows it there, in the lease's period, within what is
    /// left, without crossing a soft limit (a crossing is counted on the
    /// store, where the whole fleet sees its instant); `None` otherwise.
    fn spend(&self, leases: &Leases, check: &Check<'_>, lease: &mut Held) -> Option<Decided> {
        let position = crate::gateway::store::Counted {
            used: lease.next,
            soft_exceeded_at: lease.soft_exceeded_at,
        };
        let usage = on_count(
            &LicenseUsage::default(),
            &lease.metric,
            lease.period_start,
            position,
        );
        let asked = match self.ask(
            check.generation,
            check.compact,
            check.fields,
            &usage,
            check.now,
            check.envelope,
        ) {
            Ok(asked) => asked,
            Err(error) => return Some(self.failed(check.generation, check.fields, &error)),
        };
        let quoted = asked.quoted()?;
        let after = asked.recorded()?;
        let fits = quoted.records
            && quoted.period_start == lease.period_start
            && after.soft_exceeded_at == lease.soft_exceeded_at
            && after.used == lease.next.saturating_add(quoted.amount)
            && after.used <= lease.to;
        if !fits || past(check.instant, lease.period_end) {
            return None;
        }
        let spent_from = lease.next;
        lease.next = after.used;
        if let Err(error) = leases.spent(lease) {
            // Not journaled, not answered.
            lease.next = spent_from;
            return Some(self.failed(check.generation, check.fields, &error));
        }
        self.telemetry.lease_spends.inc();
        Some(asked.decided())
    }
}

/// Whether `now` is at or past `end`.
fn past(now: Timestamp, end: Timestamp) -> bool {
    now >= end
}
