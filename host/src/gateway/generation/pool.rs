//! The pool of a generation's module instances: one slot per instance made
//! up front, each behind a lock of its own, and each thread trying its own
//! slot first, so two worker threads checking at once do not wait for each
//! other or for a shared list.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

/// Instances in slots, plus the ones made when every slot was busy.
pub(super) struct Pool<T> {
    slots: Vec<Mutex<T>>,
    /// Instances made because every slot was busy, kept for the next time.
    spare: Mutex<Vec<T>>,
}

/// Hands each thread a different slot to try first, round robin.
static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static FIRST_SLOT: usize = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
}

impl<T> Pool<T> {
    /// A pool of these instances, one slot each.
    pub(super) fn new(instances: Vec<T>) -> Pool<T> {
        Pool {
            slots: instances.into_iter().map(Mutex::new).collect(),
            spare: Mutex::new(Vec::new()),
        }
    }

    /// Runs `call` on a free instance: the calling thread's own slot when
    /// free, else any free slot, else a spare, else one `make` makes (kept
    /// as a spare afterwards). A slot is locked for the call only.
    pub(super) fn with<R, E>(
        &self,
        make: impl FnOnce() -> Result<T, E>,
        call: impl FnOnce(&mut T) -> Result<R, E>,
    ) -> Result<R, E> {
        if let Some(mut slot) = self.free_slot() {
            return call(&mut slot);
        }
        let taken = self
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut instance = match taken {
            Some(instance) => instance,
            None => make()?,
        };
        let answer = call(&mut instance);
        self.spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(instance);
        answer
    }

    fn free_slot(&self) -> Option<MutexGuard<'_, T>> {
        let count = self.slots.len();
        let first = FIRST_SLOT.with(|first| *first);
        (0..count).find_map(|i| {
            let slot = self.slots.get((first + i) % count)?;
            match slot.try_lock() {
                Ok(guard) => Some(guard),
                // A call that panicked left the instance as any failed
                // call does: it reloads itself before its next request.
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    #[test]
    fn a_free_slot_is_used_before_any_instance_is_made() {
        let pool = Pool::new(vec![1, 2]);
        let mut made = 0;
        for _ in 0..10 {
            let seen = pool
                .with(
                    || {
                        made += 1;
                        Ok::<_, ()>(99)
                    },
                    |n| Ok(*n),
                )
                .unwrap();
            assert!(seen == 1 || seen == 2);
        }
        assert_eq!(made, 0);
    }

    #[test]
    fn busy_slots_make_a_spare_which_is_kept() {
        let pool = Pool::new(vec![0]);
        // The only slot is busy while its call runs: a nested call takes
        // a new instance, and the one after that takes the same spare.
        let mut made = 0;
        pool.with(
            || Ok::<_, ()>(0),
            |_| {
                pool.with(
                    || {
                        made += 1;
                        Ok(10)
                    },
                    |n| {
                        *n += 1;
                        Ok(())
                    },
                )?;
                pool.with(
                    || {
                        made += 1;
                        Ok(20)
                    },
                    |n| {
                        assert_eq!(*n, 11, "the spare made before is reused");
                        Ok(())
                    },
                )
            },
        )
        .unwrap();
        assert_eq!(made, 1);
    }

    #[test]
    fn threads_at_once_each_get_an_instance_of_their_own() {
        let pool = Pool::new(vec![Vec::new(), Vec::new()]);
        let barrier = Barrier::new(4);
        std::thread::scope(|s| {
            for t in 0..4 {
                let (pool, barrier) = (&pool, &barrier);
                s.spawn(move || {
                    for i in 0..1000 {
                        pool.with(
                            || Ok::<_, ()>(Vec::new()),
                            |calls: &mut Vec<(usize, usize)>| {
                                calls.push((t, i));
                                Ok(())
                            },
                        )
                        .unwrap();
                        if i == 0 {
                            barrier.wait();
                        }
                    }
                });
            }
        });
        // Every call ran on exactly one instance.
        let mut calls: Vec<(usize, usize)> = pool
            .slots
            .into_iter()
            .map(|m| m.into_inner().unwrap())
            .chain(pool.spare.into_inner().unwrap())
            .flatten()
            .collect();
        calls.sort_unstable();
        let expected: Vec<(usize, usize)> = (0..4)
            .flat_map(|t| (0..1000).map(move |i| (t, i)))
            .collect();
        assert_eq!(calls, expected);
    }
}
