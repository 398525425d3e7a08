//! The flags of `entitle serve`, and the documents' flags `entitle replay`
//! shares with it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::fleet::{lease_size, LeaseOptions, MeterAddress};
use super::generation::Sources;
use super::meter::Durability;
use super::server::ServeOptions;
use crate::limits::Limits;

/// The module and documents a gateway serves.
#[derive(Debug, Args)]
pub struct DocumentArgs {
    /// The module file [default: dist/entitle.wasm].
    #[arg(long, value_name = "PATH", env = "ENTITLE_MODULE")]
    module: Option<PathBuf>,
    /// The bundle document.
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    /// The directory of license documents (`*.json`).
    #[arg(long, value_name = "DIR")]
    licenses: PathBuf,
    /// The key set (`{"keys":[...]}`) the bundle and every license must be
    /// signed with (docs/signing.md).
    #[arg(long, value_name = "FILE", required_unless_present = "allow_unsigned")]
    keys: Option<PathBuf>,
    /// Take unsigned documents: for development, never in front of customers.
    #[arg(long, conflicts_with = "keys")]
    allow_unsigned: bool,
}

impl DocumentArgs {
    /// The module given, if any.
    pub fn module(&self) -> Option<&std::path::Path> {
        self.module.as_deref()
    }

    /// Where the documents are loaded from, with the module resolved.
    pub fn sources(self, module: PathBuf, cases: Option<PathBuf>) -> Sources {
        Sources {
            module,
            bundle: self.bundle,
            licenses: self.licenses,
            keys: self.keys,
            cases,
        }
    }
}

/// Flags of `entitle serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8414")]
    listen: SocketAddr,
    #[command(flatten)]
    documents: DocumentArgs,
    /// A directory of support cases, one folder per license id
    /// (`<license>/*.json`), which `/v1/status/{license}?documents=true`
    /// hands to the portal.
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// An origin (`https://portal.example.com`) whose pages may read the
    /// status and health endpoints; repeat for several, `*` for any.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Where consuming checks are counted: `sqlite:PATH` (this gateway's
    /// own meter, the default, at `--database`), or a store a fleet of
    /// gateways shares, `redis://HOST:PORT[/DB]` or
    /// `postgres://USER@HOST:PORT/DB` (docs/fleet.md).
    #[arg(long, value_name = "URL", value_parser = MeterAddress::parse, env = "ENTITLE_METER")]
    meter: Option<MeterAddress>,
    /// Lease a metric on a fleet's store: reserve this many units at a
    /// time and spend them here, one store call per lease instead of per
    /// check (`METRIC=UNITS`; repeat for several). At most one lease per
    /// license and metric sits unspent on each gateway: what a fleet may
    /// under-admit at a period's end (docs/fleet.md).
    #[arg(long = "lease", value_name = "METRIC=UNITS", value_parser = lease_size)]
    leases: Vec<(String, u64)>,
    /// How long a lease is spent from before its unspent units go back.
    #[arg(long, value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    lease_ttl_ms: u64,
    /// How long a floating seat is held after it is taken or renewed,
    /// in milliseconds: a client that sends no heartbeat within it loses
    /// its seat (docs/gateway.md, *Seats*).
    #[arg(long, value_name = "MS", default_value_t = 600_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    seat_ttl_ms: u64,
    /// On a fleet's store, where this gateway journals what it spends of
    /// its leases and the units it admits while the store is away, before
    /// each answer; what a crash leaves open is settled or counted at the
    /// next start. One journal per gateway.
    #[arg(long, value_name = "FILE", default_value = "entitle-fleet.journal")]
    fleet_journal: PathBuf,
    /// The meter database (SQLite, WAL mode); created if missing. The same
    /// as `--meter sqlite:FILE`.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "entitle-meter.db",
        conflicts_with = "meter"
    )]
    database: PathBuf,
    /// `process`: a consuming check's record survives the process being
    /// killed (it is journaled before the answer; the database follows in
    /// the background); `power`: also a power loss (the answer waits for an
    /// fsynced commit).
    #[arg(long, value_enum, default_value_t = Durability::Process)]
    durability: Durability,
    /// Append every answer the module gives, with the request and the
    /// hashes of the documents it was decided on, to this file (JSON lines;
    /// `entitle replay` gives them again).
    #[arg(long, value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// How often the meter keeps a reading of each count, in seconds: the
    /// last count of each interval, which the portal plots over the period.
    #[arg(long, value_name = "SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u32).range(1..))]
    reading_every: u32,
    /// With `--durability power`, under load (the last commit held more
    /// than one record), how long the meter's writer waits before a commit
    /// so that consuming checks arriving meanwhile share it, in
    /// microseconds; 0 commits at once. Fewer commits leave more of the
    /// machine for checks, at this much added latency.
    #[arg(long, value_name = "MICROS", default_value_t = 100)]
    commit_delay_us: u64,
    /// Worker threads, and module instances made up front [default: CPUs].
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Deadline of each module call, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 50)]
    call_timeout_ms: u64,
    /// Largest linear memory of an instance, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    memory_mib: usize,
    /// How often to look for changed files, in milliseconds; 0 reloads on SIGHUP only.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    watch_ms: u64,
    /// Longest time a client may take to send its headers, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    header_timeout_ms: u64,
    /// Longest time a request may take, body included, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    request_timeout_ms: u64,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 65_536)]
    max_body: usize,
    /// How long shutdown waits for requests in flight, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    drain_ms: u64,
}

impl ServeArgs {
    /// The options the flags give, with the module resolved as the CLI does.
    pub fn options(self, module: PathBuf) -> ServeOptions {
        let workers = self.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        });
        ServeOptions {
            listen: self.listen,
            sources: self.documents.sources(module, self.cases),
            cors_origins: self.cors_origins,
            meter: self.meter.unwrap_or(MeterAddress::Sqlite(self.database)),
            leases: LeaseOptions {
                sizes: self.leases.into_iter().collect(),
                ttl: Duration::from_millis(self.lease_ttl_ms),
                journal: self.fleet_journal,
            },
            durability: self.durability,
            seat_ttl: Duration::from_millis(self.seat_ttl_ms),
            reading_every: self.reading_every,
            commit_delay: Duration::from_micros(self.commit_delay_us),
            decision_log: self.decision_log,
            limits: Limits {
                timeout: Duration::from_millis(self.call_timeout_ms),
                memory_bytes: self.memory_mib.saturating_mul(1 << 20),
                ..Limits::default()
            },
            workers,
            watch: (self.watch_ms > 0).then(|| Duration::from_millis(self.watch_ms)),
            header_timeout: Duration::from_millis(self.header_timeout_ms),
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            max_body: self.max_body,
            drain: Duration::from_millis(self.drain_ms),
        }
    }

    /// The module given, if any.
    pub fn module(&self) -> Option<&std::path::Path> {
        self.documents.module()
    }
}
