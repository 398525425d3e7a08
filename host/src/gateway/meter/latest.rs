//! The latest counts of every license, each license's behind a lock of its
//! own: checks of different licenses never wait for each other to read or
//! move their counts, and the map of licenses is only written when a
//! license consumes for the first time or the counts are taken back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::{lock, LicenseUsage};

/// One license's latest counts: swapped whole (an `Arc`) so a check keeps
/// the counts it decided on while the next moves them.
type Slot = Arc<Mutex<Arc<LicenseUsage>>>;

/// The latest counts of every license that consumed.
pub(crate) struct Latest {
    licenses: RwLock<HashMap<String, Slot>>,
}

impl Latest {
    /// The counts as loaded from the database.
    pub(crate) fn new(loaded: HashMap<String, Arc<LicenseUsage>>) -> Latest {
        let licenses = loaded
            .into_iter()
            .map(|(license, usage)| (license, Arc::new(Mutex::new(usage))))
            .collect();
        Latest {
            licenses: RwLock::new(licenses),
        }
    }

    /// A license's latest counts (empty when it has consumed nothing).
    pub(crate) fn get(&self, license: &str) -> Arc<LicenseUsage> {
        self.slot(license)
            .map(|slot| Arc::clone(&lock(&slot)))
            .unwrap_or_default()
    }

    /// Changes a license's counts in place (copied first only while a check
    /// still holds the counts it decided on: they never change under it).
    pub(crate) fn update(&self, license: &str, change: impl FnOnce(&mut LicenseUsage)) {
        let slot = match self.slot(license) {
            Some(slot) => slot,
            None => Arc::clone(
                self.licenses
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(license.to_string())
                    .or_default(),
            ),
        };
        change(Arc::make_mut(&mut lock(&slot)));
    }

    /// Replaces every license's counts by the database's (`fresh`), each
    /// license's version moving on, never back: a cached answer of an
    /// earlier version must not match again.
    pub(super) fn take_back(&self, fresh: &HashMap<String, Arc<LicenseUsage>>) {
        let mut licenses = self
            .licenses
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for license in fresh.keys() {
            licenses.entry(license.clone()).or_default();
        }
        for (license, slot) in licenses.iter() {
            let mut usage = lock(slot);
            let metrics = fresh
                .get(license)
                .map(|u| u.metrics.clone())
                .unwrap_or_default();
            let version = usage.version.wrapping_add(1);
            *usage = Arc::new(LicenseUsage { metrics, version });
        }
    }

    fn slot(&self, license: &str) -> Option<Slot> {
        self.licenses
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(license)
            .cloned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::gateway::meter::Count;

    fn count(used: u64) -> Count {
        Count {
            used,
            soft_exceeded_at: None,
            period_start: entitle_core::Timestamp::parse("2026-12-01T00:00:00Z").unwrap(),
        }
    }

    #[test]
    fn a_check_keeps_the_counts_it_read_while_they_move() {
        let latest = Latest::new(HashMap::new());
        assert_eq!(latest.get("lic").version, 0);
        latest.update("lic", |u| {
            u.metrics.insert(String::from("api_calls"), count(1));
            u.version += 1;
        });
        let read = latest.get("lic");
        latest.update("lic", |u| {
            u.metrics.insert(String::from("api_calls"), count(2));
            u.version += 1;
        });
        assert_eq!(read.metrics["api_calls"].used, 1);
        assert_eq!(latest.get("lic").metrics["api_calls"].used, 2);
        assert_eq!(latest.get("lic").version, 2);
        assert!(latest.get("other").metrics.is_empty());
    }

    #[test]
    fn taking_back_moves_every_version_on() {
        let latest = Latest::new(HashMap::new());
        latest.update("a", |u| {
            u.metrics.insert(String::from("api_calls"), count(5));
            u.version = 7;
        });
        let mut fresh = HashMap::new();
        let mut b = LicenseUsage::default();
        b.metrics.insert(String::from("api_calls"), count(3));
        fresh.insert(String::from("b"), Arc::new(b));
        latest.take_back(&fresh);
        // `a` had nothing in the database: its counts are gone, its
        // version still moves on.
        assert!(latest.get("a").metrics.is_empty());
        assert_eq!(latest.get("a").version, 8);
        assert_eq!(latest.get("b").metrics["api_calls"].used, 3);
        assert_eq!(latest.get("b").version, 1);
    }
}
