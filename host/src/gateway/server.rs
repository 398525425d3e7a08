//! The server loop: listens only once the first generation is loaded,
//! bounds what a client may hold (header time, body time, body size), reloads
//! on SIGHUP or when a source file changes, and drains connections on
//! SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::audit::DecisionLog;
use super::decision::Gateway;
use super::fleet::{Fleet, LeaseOptions, MeterAddress, Metering};
use super::generation::Sources;
use super::http::{cors, router};
use super::meter::{Durability, Meter};
use super::seats::Seats;
use crate::error::HostError;
use crate::limits::Limits;

/// Everything `entitle serve` is told.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The module, bundle and licenses.
    pub sources: Sources,
    /// Where consuming checks are counted.
    pub meter: MeterAddress,
    /// Which metrics a gateway of a fleet leases, and its journal.
    pub leases: LeaseOptions,
    /// How hard commits are flushed.
    pub durability: Durability,
    /// How long a floating seat is held between renewals.
    pub seat_ttl: Duration,
    /// Seconds per meter reading (the portal's plot).
    pub reading_every: u32,
    /// How long the meter's writer waits, under load, to gather consuming
    /// checks into one commit.
    pub commit_delay: Duration,
    /// Where to append the decision log, if anywhere.
    pub decision_log: Option<PathBuf>,
    /// Budgets of every module call.
    pub limits: Limits,
    /// Worker threads; also the number of module instances made up front.
    pub workers: usize,
    /// How often source files are checked for changes; `None` only reloads on SIGHUP.
    pub watch: Option<Duration>,
    /// Longest time a client may take to send its headers.
    pub header_timeout: Duration,
    /// Longest time a request may take, body included.
    pub request_timeout: Duration,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// How long shutdown waits for requests in flight.
    pub drain: Duration,
    /// Origins whose pages may read the status and health endpoints.
    pub cors_origins: Vec<String>,
}

/// Runs the gateway until SIGTERM or Ctrl-C. Prints (to stderr, as a JSON
/// log line) the address it listens on once it is ready to answer.
pub fn serve(options: ServeOptions) -> Result<(), HostError> {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ENTITLE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.workers.max(1))
        .enable_all()
        .build()
        .map_err(|e| serve_error(&options, &e))?;
    runtime.block_on(run(options))
}

async fn run(options: ServeOptions) -> Result<(), HostError> {
    // Seats are kept beside the counts: in the meter's SQLite file, or
    // in the fleet's store.
    let (meter, seats): (Metering, Seats) = match &options.meter {
        MeterAddress::Sqlite(database) => {
            let meter = Meter::open(
                database,
                options.durability,
                options.reading_every,
                options.commit_delay,
            )?;
            (meter.into(), Seats::local(database, options.seat_ttl)?)
        }
        MeterAddress::Shared(url) => {
            let fleet = Fleet::connect(url, &options.leases).await?;
            let seats = Seats::shared(fleet.store().clone(), options.seat_ttl);
            (fleet.into(), seats)
        }
    };
    if matches!(options.meter, MeterAddress::Sqlite(_)) && !options.leases.sizes.is_empty() {
        return Err(HostError::Usage(String::from(
            "`--lease` needs a store a fleet shares: give `--meter redis://…` or `--meter postgres://…`",
        )));
    }
    let log = options
        .decision_log
        .as_deref()
        .map(DecisionLog::open)
        .transpose()?;
    let gateway = Gateway::start(
        options.sources.clone(),
        options.limits,
        options.workers.max(1),
        meter,
        log,
    )?
    .with_seats(seats);
    let gateway = Arc::new(gateway);
    let generation = gateway.generation();
    for refusal in &generation.refused {
        tracing::warn!(file = %refusal.path.display(), errors = %refusal.detail, "license refused");
    }
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|e| serve_error(&options, &e))?;
    let local = listener
        .local_addr()
        .map_err(|e| serve_error(&options, &e))?;
    let signals = Signals::listen();
    tracing::info!(
        listen = %local,
        module_sha256 = %generation.module_sha256,
        bundle = %generation.bundle.id,
        bundle_version = %generation.bundle.version,
        signed_by = generation.signed_by.as_deref().unwrap_or("unsigned documents allowed"),
        licenses = generation.licenses.len(),
        "serving"
    );
    drop(generation);

    tokio::spawn(reload_on_hangup(Arc::clone(&gateway), signals.hangup));
    if let Some(every) = options.watch {
        tokio::spawn(reload_on_change(Arc::clone(&gateway), every));
    }
    tokio::spawn(prune(Arc::clone(&gateway)));
    if gateway.fleet().is_some() {
        tokio::spawn(settle_leases(Arc::clone(&gateway), options.leases.ttl));
    }

    let cors = cors(&options.cors_origins).map_err(HostError::Usage)?;
    let app = router(Arc::clone(&gateway), cors)
        .layer(RequestBodyLimitLayer::new(options.max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .keep_alive(true);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let shutdown = shutdown_signal(signals.interrupt, signals.terminate);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of descriptors and the like: back off, keep serving.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let connection = http.serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "connection closed with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: draining requests in flight");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("drained"),
        () = tokio::time::sleep(options.drain) => tracing::warn!("drain time over, closing"),
    }
    gateway.close_log();
    // A lease's unspent units go back to the fleet as the gateway stops.
    if let (Some(fleet), Some(now)) = (gateway.fleet(), now()) {
        let settled = fleet.settle_due(now, true).await;
        tracing::info!(settled, "leases settled");
    }
    // The records journaled since the last fold go into the database now,
    // so the database a stopped gateway leaves is complete (were this cut
    // short, the next start folds the journal first).
    if let Some(meter) = gateway.meter().cloned() {
        let flushed = tokio::task::spawn_blocking(move || meter.flush(Duration::from_secs(10)))
            .await
            .unwrap_or(false);
        if flushed {
            tracing::info!("meter flushed");
        } else {
            tracing::warn!("meter not flushed; its journal is folded at the next start");
        }
    }
    Ok(())
}

/// One signal listened for; `None` where it cannot be (not unix, or the
/// registration failed).
#[cfg(unix)]
type Listener = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Listener = Option<std::convert::Infallible>;

/// SIGHUP, SIGINT and SIGTERM, listened for before the gateway logs that it
/// is serving: a signal sent the moment it says so must not meet the
/// default action, which ends the process.
struct Signals {
    hangup: Listener,
    interrupt: Listener,
    terminate: Listener,
}

impl Signals {
    #[cfg(unix)]
    fn listen() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            hangup: signal(SignalKind::hangup()).ok(),
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    #[cfg(not(unix))]
    fn listen() -> Signals {
        Signals {
            hangup: None,
            interrupt: None,
            terminate: None,
        }
    }
}

/// Waits for the next delivery of a signal; never, without a listener.
async fn received(listener: &mut Listener) {
    match listener {
        #[cfg(unix)]
        Some(signal) => {
            if signal.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        Some(never) => match *never {},
        None => std::future::pending::<()>().await,
    }
}

/// Reloads on every SIGHUP.
async fn reload_on_hangup(gateway: Arc<Gateway>, mut hangups: Listener) {
    if hangups.is_none() {
        tracing::warn!("cannot listen for SIGHUP; reload by file change only");
        return;
    }
    loop {
        received(&mut hangups).await;
        reload(&gateway, "sighup").await;
    }
}

/// Reloads when a source file's size or modification time changes.
async fn reload_on_change(gateway: Arc<Gateway>, every: Duration) {
    let mut seen = gateway.sources.fingerprint();
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let now = gateway.sources.fingerprint();
        if now != seen {
            seen = now;
            reload(&gateway, "file change").await;
        }
    }
}

async fn reload(gateway: &Arc<Gateway>, cause: &'static str) {
    let loading = Arc::clone(gateway);
    // Loading compiles and instantiates: off the request threads.
    match tokio::task::spawn_blocking(move || loading.reload()).await {
        Ok(Ok(generation)) => tracing::info!(
            cause,
            generation = generation.id,
            module_sha256 = %generation.module_sha256,
            bundle_version = %generation.bundle.version,
            licenses = generation.licenses.len(),
            refused = generation.refused.len(),
            "reloaded"
        ),
        Ok(Err(error)) => {
            tracing::error!(cause, code = error.code(), %error, "reload refused; still serving the previous generation");
        }
        Err(error) => tracing::error!(cause, %error, "reload task failed"),
    }
}

/// Forgets idempotency keys a day old and readings of periods that are
/// over, every hour; on a fleet's store, its ended periods and old keys.
async fn prune(gateway: Arc<Gateway>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(3600));
    loop {
        ticks.tick().await;
        let now = chrono::Utc::now();
        if let Some(meter) = gateway.meter() {
            let before = now.timestamp() - 86_400;
            if let Err(error) = meter.prune_requests(before) {
                tracing::warn!(%error, "cannot prune idempotency keys");
            }
            if let Err(error) = meter.prune_readings() {
                tracing::warn!(%error, "cannot prune past periods' readings");
            }
        }
        let now = entitle_core::Timestamp::from_unix(now.timestamp());
        if let (Some(fleet), Some(now)) = (gateway.fleet(), now) {
            if let Err(error) = fleet.prune(now).await {
                tracing::warn!(%error, "cannot prune the fleet's ended periods and old keys");
            }
        }
    }
}

/// Settles leases past their time to live or their period, twice per
/// time to live (at least every half second), and counts in the store the
/// units admitted while it was away.
async fn settle_leases(gateway: Arc<Gateway>, ttl: Duration) {
    let every = (ttl / 2).clamp(Duration::from_millis(50), Duration::from_millis(500));
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        if let (Some(fleet), Some(now)) = (gateway.fleet(), now()) {
            fleet.settle_due(now, false).await;
            fleet.pay_owed().await;
        }
    }
}

/// The wall clock as an instant the rules read.
fn now() -> Option<entitle_core::Timestamp> {
    entitle_core::Timestamp::from_utc(chrono::Utc::now())
}

async fn shutdown_signal(mut interrupt: Listener, mut terminate: Listener) {
    tokio::select! {
        () = received(&mut interrupt) => {},
        () = received(&mut terminate) => {},
    }
}

fn serve_error(options: &ServeOptions, error: &std::io::Error) -> HostError {
    HostError::Serve {
        addr: options.listen.to_string(),
        detail: error.to_string(),
    }
}
