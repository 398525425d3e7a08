//! What a gateway holds of the fleet's counts or owes them, and its journal.
//!
//! Leases: a slice of a quota a gateway reserves from the fleet's store
//! and spends locally, so a hot license costs the store one call per slice
//! instead of one per check.
//!
//! Each spend is written to the gateway's lease journal before its answer
//! leaves; a lease is settled (its unspent units given back, once) when it
//! runs dry, outlives its time to live, its period ends, the gateway stops,
//! or, after a crash, when the gateway starts again and reads its journal.
//! Reserved units are never admitted twice; at most one slice per gateway
//! per license and metric sits reserved and unspent, which is the most a
//! fleet can under-admit at a period's end (gateways × slice).
//!
//! Owed units: what a gateway admitted under `bounded_open` while the store
//! was unreachable, journaled before each answer and counted in the store
//! (once: each carries an idempotency key of its own) when it is back.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use entitle_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::HostError;
use crate::gateway::store::{Lease, SharedCounts};

/// The journal is rewritten with only the leases still held once it
/// grows past this.
const COMPACT_AT: u64 = 4 << 20;

/// A lease a gateway holds: positions `from..to` of a count, spent up to
/// `next`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// Unique in the fleet: the gateway's id and a sequence number.
    pub id: String,
    /// The license it was reserved for.
    pub license: String,
    /// Its metric.
    pub metric: String,
    /// The start of the count's period.
    pub period_start: Timestamp,
    /// The end of the count's period.
    pub period_end: Timestamp,
    /// When the soft limit was crossed, for the positions from `next` on.
    pub soft_exceeded_at: Option<Timestamp>,
    /// The first position reserved.
    pub from: u64,
    /// The next position to spend.
    pub next: u64,
    /// One past the last position reserved.
    pub to: u64,
    /// When it was reserved (not journaled: a lease read back is settled).
    #[serde(skip, default = "Instant::now")]
    pub taken: Instant,
}

impl Held {
    /// Units reserved and not spent.
    pub fn unused(&self) -> u64 {
        self.to.saturating_sub(self.next)
    }

    fn lease(&self) -> Lease<'_> {
        Lease {
            id: &self.id,
            license: &self.license,
            metric: &self.metric,
            period_start: self.period_start,
            unused: self.unused(),
        }
    }
}

/// Units admitted while the store was unreachable, to count in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owed {
    /// Unique in the fleet; the idempotency key it is counted with.
    pub id: String,
    /// The license.
    pub license: String,
    /// Its metric.
    pub metric: String,
    /// The start of the count's period.
    pub period_start: Timestamp,
    /// The end of the count's period.
    pub period_end: Timestamp,
    /// Units admitted.
    pub amount: u64,
    /// When.
    pub at: Timestamp,
}

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Reserved(Held),
    Spent { id: String, next: u64 },
    Settled { id: String },
    Owed(Owed),
    Paid { id: String },
}

/// The lease of one license's metric, taken in turn by its checks.
pub type Slot = Arc<tokio::sync::Mutex<Option<Held>>>;

/// Leases this gateway holds, by license and metric, and their journal.
pub struct Leases {
    /// Units reserved at once, per metric leased.
    sizes: HashMap<String, u64>,
    /// How long a lease is spent from before it is settled.
    ttl: Duration,
    gateway: String,
    sequence: AtomicU64,
    slots: Mutex<HashMap<(String, String), Slot>>,
    journal: Mutex<Journal>,
}

/// What the journal shows open: leases unsettled and units unpaid.
#[derive(Default)]
struct Open {
    held: HashMap<String, Held>,
    owed: HashMap<String, Owed>,
}

impl Open {
    fn apply(&mut self, line: Line) {
        match line {
            Line::Reserved(held) => {
                self.held.insert(held.id.clone(), held);
            }
            Line::Spent { id, next } => {
                if let Some(held) = self.held.get_mut(&id) {
                    held.next = next;
                }
            }
            Line::Settled { id } => {
                self.held.remove(&id);
            }
            Line::Owed(owed) => {
                self.owed.insert(owed.id.clone(), owed);
            }
            Line::Paid { id } => {
                self.owed.remove(&id);
            }
        }
    }
}

impl Leases {
    /// Opens the journal at `path`, settles every lease it shows unsettled
    /// (a gateway stopped without settling), and starts it afresh.
    pub async fn open(
        path: &Path,
        sizes: HashMap<String, u64>,
        ttl: Duration,
        store: &SharedCounts,
    ) -> Result<Leases, HostError> {
        let unsettled = read_journal(path)?;
        for held in unsettled.held.values() {
            let back = store.settle(&held.lease()).await?;
            tracing::info!(
                lease = %held.id,
                license = %held.license,
                metric = %held.metric,
                spent = held.next.saturating_sub(held.from),
                given_back = back.unwrap_or(0),
                "settled a lease the journal left open"
            );
        }
        let mut journal = Journal::create(path)?;
        // Units owed from before are carried into the new journal, to be
        // counted once the store takes them.
        for owed in unsettled.owed.into_values() {
            journal.append(Line::Owed(owed))?;
        }
        let mut id = [0_u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
        Ok(Leases {
            sizes,
            ttl,
            gateway: id.iter().map(|b| format!("{b:02x}")).collect(),
            sequence: AtomicU64::new(0),
            slots: Mutex::new(HashMap::new()),
            journal: Mutex::new(journal),
        })
    }

    /// How many units a lease of `metric` reserves; `None` when the metric
    /// is counted check by check.
    pub fn size(&self, metric: &str) -> Option<u64> {
        self.sizes.get(metric).copied()
    }

    /// How long a lease is spent from.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The slot of a license's metric.
    pub fn slot(&self, license: &str, metric: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            slots
                .entry((license.to_string(), metric.to_string()))
                .or_default(),
        )
    }

    /// Every slot, for settling.
    pub fn slots(&self) -> Vec<Slot> {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.values().cloned().collect()
    }

    /// A new lease id.
    pub fn next_id(&self) -> String {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.gateway)
    }

    /// Journals a lease just reserved, with what its first request spent.
    pub fn reserved(&self, held: &Held) -> Result<(), HostError> {
        self.write(Line::Reserved(held.clone()))
    }

    /// Journals a spend: the lease's next position.
    pub fn spent(&self, held: &Held) -> Result<(), HostError> {
        self.write(Line::Spent {
            id: held.id.clone(),
            next: held.next,
        })
    }

    /// Gives a lease's unspent units back to the store and journals it.
    /// On failure the lease stays in the journal, settled at the next start.
    /// A lease spent to its last unit has nothing to give back: it is only
    /// journaled, so a hot metric's leases cost one store call each (the
    /// reservation), not two.
    pub async fn settle(&self, store: &SharedCounts, held: &Held) -> Result<(), HostError> {
        if held.unused() > 0 {
            store.settle(&held.lease()).await?;
        }
        self.write(Line::Settled {
            id: held.id.clone(),
        })
    }

    /// Owes `owed` to the store when the units the license's metric owes
    /// with it stay within `bound`, journaled; `false` (nothing owed) past
    /// the bound.
    pub fn owe(&self, mut owed: Owed, bound: u64) -> Result<bool, HostError> {
        let mut journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        let owing: u64 = journal
            .open
            .owed
            .values()
            .filter(|o| o.license == owed.license && o.metric == owed.metric)
            .map(|o| o.amount)
            .sum();
        if owing.saturating_add(owed.amount) > bound {
            return Ok(false);
        }
        owed.id = self.next_id();
        journal.append(Line::Owed(owed))?;
        Ok(true)
    }

    /// Everything owed and not yet counted.
    pub fn owed(&self) -> Vec<Owed> {
        let journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        journal.open.owed.values().cloned().collect()
    }

    /// Units owed and not yet counted.
    pub fn owed_units(&self) -> u64 {
        let journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        journal.open.owed.values().map(|o| o.amount).sum()
    }

    /// Units reserved by leases and not spent.
    pub fn unspent_units(&self) -> u64 {
        let journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        journal.open.held.values().map(Held::unused).sum()
    }

    /// Journals that an owed record is counted in the store.
    pub fn paid(&self, id: &str) -> Result<(), HostError> {
        self.write(Line::Paid { id: id.to_string() })
    }

    fn write(&self, line: Line) -> Result<(), HostError> {
        let mut journal = self.journal.lock().unwrap_or_else(PoisonError::into_inner);
        journal.append(line)
    }
}

/// The lease journal: JSON lines, appended and written to the kernel
/// before the answer they concern; rewritten with only the leases still
/// held when it grows past [`COMPACT_AT`].
struct Journal {
    path: PathBuf,
    file: File,
    bytes: u64,
    open: Open,
}

impl Journal {
    fn create(path: &Path) -> Result<Journal, HostError> {
        let file = File::create(path).map_err(|e| journal_error(path, &e))?;
        file.sync_all().map_err(|e| journal_error(path, &e))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            bytes: 0,
            open: Open::default(),
        })
    }

    fn append(&mut self, line: Line) -> Result<(), HostError> {
        let mut text = serde_json::to_string(&line).map_err(|e| HostError::Store {
            detail: format!("a fleet journal line: {e}"),
        })?;
        text.push('\n');
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| journal_error(&self.path, &e))?;
        self.open.apply(line);
        self.bytes = self
            .bytes
            .saturating_add(u64::try_from(text.len()).unwrap_or(u64::MAX));
        if self.bytes > COMPACT_AT {
            self.compact()?;
        }
        Ok(())
    }

    /// Rewrites the journal with the leases still held, each as one
    /// `reserved` line at its current position, then swaps it in.
    fn compact(&mut self) -> Result<(), HostError> {
        let next = self.path.with_extension("compacting");
        let mut text = String::new();
        let lines = (self.open.held.values().cloned().map(Line::Reserved))
            .chain(self.open.owed.values().cloned().map(Line::Owed));
        for line in lines {
            let line = serde_json::to_string(&line).map_err(|e| HostError::Store {
                detail: format!("a fleet journal line: {e}"),
            })?;
            text.push_str(&line);
            text.push('\n');
        }
        let failed = |e: std::io::Error| journal_error(&next, &e);
        let mut file = File::create(&next).map_err(failed)?;
        file.write_all(text.as_bytes()).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        std::fs::rename(&next, &self.path).map_err(|e| journal_error(&self.path, &e))?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| journal_error(&self.path, &e))?;
        self.bytes = u64::try_from(text.len()).unwrap_or(u64::MAX);
        Ok(())
    }
}

/// The leases a journal shows reserved and not settled, at the position
/// it last journaled, and the units it shows owed and not counted. A torn
/// last line (the process killed mid-write) was never answered: skipped.
fn read_journal(path: &Path) -> Result<Open, HostError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Open::default()),
        Err(e) => return Err(journal_error(path, &e)),
    };
    let mut open = Open::default();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| journal_error(path, &e))?;
        match serde_json::from_str::<Line>(&line) {
            Ok(line) => open.apply(line),
            Err(error) => tracing::warn!(%error, "a torn fleet journal line skipped"),
        }
    }
    Ok(open)
}

fn journal_error(path: &Path, error: &std::io::Error) -> HostError {
    HostError::Store {
        detail: format!("the fleet journal `{}`: {error}", path.display()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn held(id: &str, next: u64) -> Held {
        Held {
            id: id.to_string(),
            license: String::from("lic"),
            metric: String::from("api_calls"),
            period_start: Timestamp::parse("2026-12-01T00:00:00Z").unwrap(),
            period_end: Timestamp::parse("2027-01-01T00:00:00Z").unwrap(),
            soft_exceeded_at: None,
            from: 10,
            next,
            to: 20,
            taken: Instant::now(),
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("entitle-leases-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("leases.journal")
    }

    #[test]
    fn the_journal_reads_back_what_is_unsettled_at_its_last_spend() {
        let path = scratch("read");
        let mut journal = Journal::create(&path).unwrap();
        let mut a = held("a", 11);
        journal.append(Line::Reserved(a.clone())).unwrap();
        a.next = 14;
        journal
            .append(Line::Spent {
                id: a.id.clone(),
                next: a.next,
            })
            .unwrap();
        journal.append(Line::Reserved(held("b", 12))).unwrap();
        journal
            .append(Line::Settled {
                id: String::from("b"),
            })
            .unwrap();
        // A line torn by a kill mid-write is skipped.
        journal
            .file
            .write_all(b"{\"spent\":{\"id\":\"a\",\"ne")
            .unwrap();
        let open = read_journal(&path).unwrap().held;
        assert_eq!(open.len(), 1);
        assert_eq!(open["a"].next, 14);
        assert_eq!(open["a"].unused(), 6);
    }

    #[test]
    fn compacting_keeps_exactly_the_leases_still_held() {
        let path = scratch("compact");
        let mut journal = Journal::create(&path).unwrap();
        for n in 0..3 {
            journal
                .append(Line::Reserved(held(&format!("l{n}"), 10)))
                .unwrap();
        }
        journal
            .append(Line::Spent {
                id: String::from("l1"),
                next: 17,
            })
            .unwrap();
        journal
            .append(Line::Settled {
                id: String::from("l0"),
            })
            .unwrap();
        journal.compact().unwrap();
        journal
            .append(Line::Spent {
                id: String::from("l2"),
                next: 19,
            })
            .unwrap();
        let open = read_journal(&path).unwrap().held;
        let mut positions: Vec<(String, u64)> =
            open.values().map(|h| (h.id.clone(), h.next)).collect();
        positions.sort();
        assert_eq!(
            positions,
            [(String::from("l1"), 17), (String::from("l2"), 19)]
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }
}
