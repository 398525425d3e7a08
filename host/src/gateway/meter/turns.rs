//! Each license's turn: consuming checks of one license decide and record
//! one at a time; licenses do not wait for each other.

use std::sync::{Arc, PoisonError, RwLockReadGuard};

use super::Meter;

impl Meter {
    /// Waits for `license`'s turn: consuming checks of one license decide
    /// and record one at a time, so two never decide on the same count, and
    /// their records reach the writer thread in the order they were
    /// decided. Other licenses' checks do not wait for it; a waiting check
    /// yields its worker thread.
    pub async fn turn(&self, license: &str) -> LicenseTurn {
        let mutex = self.turn_of(license);
        LicenseTurn {
            license: license.to_string(),
            _turn: mutex.lock_owned().await,
        }
    }

    fn turn_of(&self, license: &str) -> Arc<tokio::sync::Mutex<()>> {
        let turns = self
            .inner
            .turns
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(mutex) = turns.get(license) {
            return Arc::clone(mutex);
        }
        drop(turns);
        let mut turns = self
            .inner
            .turns
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(turns.entry(license.to_string()).or_default())
    }

    /// Holds the license's turn while its counts are read, decided on and
    /// staged; the writer thread does not take the counts back from the
    /// database meanwhile.
    pub fn hold(&self, turn: LicenseTurn) -> WriteGuard<'_> {
        WriteGuard {
            turn,
            _writes: self
                .inner
                .writes
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        }
    }
}

/// A license's turn to decide and record a consuming check.
pub struct LicenseTurn {
    license: String,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

/// Held while a consuming check is decided and recorded.
pub struct WriteGuard<'a> {
    pub(super) turn: LicenseTurn,
    _writes: RwLockReadGuard<'a, ()>,
}

impl WriteGuard<'_> {
    /// The license whose turn it is.
    pub fn license(&self) -> &str {
        &self.turn.license
    }
}
