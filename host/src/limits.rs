//! What one store of the module may use: time per request, memory, tables.

use std::time::Duration;

use wasmtime::ResourceLimiter;

/// How often the engine's epoch advances: the granularity of deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Budgets for the wasm engine. Every request gets the whole timeout, counted
/// in epoch ticks of [`EPOCH_TICK`] (epoch interruption costs a few percent
/// per call where fuel metering cost over a quarter); memory and tables are
/// capped for the store's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time each request may run, rounded up to whole ticks.
    pub timeout: Duration,
    /// Largest linear memory, in bytes.
    pub memory_bytes: usize,
    /// Largest table, in elements.
    pub table_elements: usize,
}

impl Default for Limits {
    /// One second per request (far beyond any real request), 256 MiB of
    /// memory, 100 000 table elements.
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(1),
            memory_bytes: 256 << 20,
            table_elements: 100_000,
        }
    }
}

impl Limits {
    /// The timeout in epoch ticks, rounded up, at least one.
    pub(crate) fn ticks(&self) -> u64 {
        let tick = EPOCH_TICK.as_nanos().max(1);
        let ticks = self.timeout.as_nanos().div_ceil(tick).max(1);
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }
}

/// Raised (as a trap) when the module grows past a limit.
#[derive(Debug, thiserror::Error)]
#[error("the module tried to grow its {resource} to {desired}, past the limit of {limit}")]
pub(crate) struct LimitHit {
    pub(crate) resource: &'static str,
    pub(crate) desired: usize,
    pub(crate) limit: usize,
}

/// Raised (as a trap) by every import: the byte ABI must never call one.
#[derive(Debug, thiserror::Error)]
#[error("the module called the import `{0}`")]
pub(crate) struct ImportTrap(pub(crate) String);

/// The data of every store: its limiter.
pub(crate) struct StoreState {
    pub(crate) limiter: Limiter,
}

impl StoreState {
    pub(crate) fn new(limits: &Limits) -> Self {
        StoreState {
            limiter: Limiter {
                memory_bytes: limits.memory_bytes,
                table_elements: limits.table_elements,
            },
        }
    }
}

/// Refuses growth past the limits with a [`LimitHit`] trap, so the caller
/// learns exactly which limit stopped the module.
pub(crate) struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(wasmtime::Error::new(LimitHit {
                resource: "memory",
                desired,
                limit: self.memory_bytes,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            return Err(wasmtime::Error::new(LimitHit {
                resource: "table",
                desired,
                limit: self.table_elements,
            }));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        16
    }
}
