//! Consuming checks batched into one PostgreSQL call: while a gateway's
//! call is in flight, further checks wait, and go together as one
//! `entitle_consume_batch` call, which locks their counts in one order and
//! runs `entitle_consume` for each, in one transaction. Each is decided by
//! the store exactly as if sent alone one after the other (its own ceiling,
//! soft state and key), so decisions stay exact; a hot count takes one row
//! lock, and any number of counts one commit, per batch instead of per check.

use std::sync::{Mutex, PoisonError};

use prometheus_client::metrics::counter::Counter;
use tokio::sync::oneshot;

use super::{PostgresCounts, MOST, WAIT};
use crate::error::HostError;
use crate::gateway::store::{Consume, Consumed, Reply, KEY_KEPT};
use entitle_core::Timestamp;

/// Checks waiting for the call in flight (`None` while no call is), and
/// how many batched calls carried how many checks.
#[derive(Default)]
pub(super) struct Batches {
    waiting: Mutex<Option<Vec<Waiting>>>,
    pub(super) calls: Counter,
    pub(super) checks: Counter,
}

/// One check's arguments as the functions take them.
#[derive(Debug, Clone)]
pub(super) struct Args {
    license: String,
    metric: String,
    start: i64,
    end: i64,
    amount: i64,
    ceiling: i64,
    key: Option<String>,
    fingerprint: Option<String>,
    at: String,
    kept_until: i64,
    soft_limit: Option<i64>,
    soft: Option<String>,
    up_to: Option<i64>,
    /// What reading the reply needs of the check.
    read: ReadAs,
}

/// What [`Consumed::from_reply`] reads of the check.
#[derive(Debug, Clone, Copy)]
struct ReadAs {
    amount: u64,
    unlimited: bool,
    period_start: Timestamp,
    period_end: Timestamp,
    now: Timestamp,
}

struct Waiting {
    args: Args,
    answer: oneshot::Sender<Result<Consumed, HostError>>,
}

impl Args {
    /// A check's arguments, each within what a `bigint` holds.
    pub(super) fn of(consume: &Consume<'_>) -> Result<Args, HostError> {
        let bigint = |what: &str, n: u64| {
            i64::try_from(n).map_err(|_| HostError::Store {
                detail: format!("{what} `{n}` is past the {MOST} a shared count holds"),
            })
        };
        let kept = i64::try_from(KEY_KEPT.as_secs()).unwrap_or(i64::MAX);
        let (key, fingerprint) = match consume.key {
            Some((key, fingerprint)) => (Some(key.to_string()), Some(fingerprint.to_string())),
            None => (None, None),
        };
        Ok(Args {
            license: consume.license.to_string(),
            metric: consume.metric.to_string(),
            start: consume.period_start.unix(),
            end: consume.period_end.unix(),
            amount: bigint("an amount", consume.amount)?,
            ceiling: bigint("a ceiling", consume.ceiling.unwrap_or(MOST))?,
            key,
            fingerprint,
            at: consume.now.to_string(),
            kept_until: consume.now.unix().saturating_add(kept),
            soft_limit: consume
                .soft_limit
                .map(|l| bigint("a limit", l.min(MOST)))
                .transpose()?,
            soft: consume.soft_exceeded_at.map(|at| at.to_string()),
            up_to: consume
                .up_to
                .map(|n| bigint("a lease", n.min(MOST)))
                .transpose()?,
            read: ReadAs {
                amount: consume.amount,
                unlimited: consume.ceiling.is_none(),
                period_start: consume.period_start,
                period_end: consume.period_end,
                now: consume.now,
            },
        })
    }

    /// The check again, to read its reply with.
    fn consume(&self) -> Consume<'_> {
        Consume {
            license: &self.license,
            metric: &self.metric,
            period_start: self.read.period_start,
            period_end: self.read.period_end,
            amount: self.read.amount,
            ceiling: (!self.read.unlimited).then_some(0),
            soft_limit: None,
            soft_exceeded_at: None,
            up_to: None,
            key: None,
            now: self.read.now,
        }
    }
}

impl PostgresCounts {
    /// Counts one check: alone when no call is in flight on this gateway,
    /// else with the others that waited for it, in one call.
    pub(super) async fn consume_batched(&self, args: Args) -> Result<Consumed, HostError> {
        let (answer, answered) = oneshot::channel();
        let leads = {
            let mut waiting = self.lock_batches();
            match waiting.as_mut() {
                Some(queue) => {
                    queue.push(Waiting { args, answer });
                    None
                }
                None => {
                    *waiting = Some(Vec::new());
                    Some(args)
                }
            }
        };
        let Some(args) = leads else {
            // The call ahead of it, then its batch's: two calls' time.
            return match tokio::time::timeout(WAIT * 2, answered).await {
                Ok(Ok(consumed)) => consumed,
                Ok(Err(_)) | Err(_) => Err(self.timed_out()),
            };
        };
        let mine = self.consume_one(&args).await;
        // Those that came meanwhile go on without this check's caller.
        if let Some(batch) = self.take() {
            let next = self.clone();
            tokio::spawn(async move { next.drain(batch).await });
        }
        mine
    }

    /// Serves a count's waiting checks, `batch` first, a batch at a time,
    /// until none wait.
    async fn drain(self, batch: Vec<Waiting>) {
        let mut batch = Some(batch);
        loop {
            let Some(batch) = batch.take().or_else(|| self.take()) else {
                return;
            };
            let args: Vec<&Args> = batch.iter().map(|w| &w.args).collect();
            let mut replies = self.consume_many(&args).await.map(Vec::into_iter);
            self.batches.calls.inc();
            self.batches.checks.inc_by(args.len() as u64);
            for waiting in batch {
                let reply = match &mut replies {
                    Ok(replies) => replies
                        .next()
                        .unwrap_or_else(|| Err(self.bad_reply("a batch answered short"))),
                    Err(error) => Err(HostError::Store {
                        detail: error.to_string(),
                    }),
                };
                // A caller gone (its client left) takes nothing with it:
                // its check was counted or not, as the reply says.
                let _ = waiting.answer.send(reply);
            }
        }
    }

    /// The checks waiting, taken; `None` (and no call in flight any more)
    /// when none wait.
    fn take(&self) -> Option<Vec<Waiting>> {
        let mut waiting = self.lock_batches();
        match waiting.as_mut() {
            Some(queue) if !queue.is_empty() => Some(std::mem::take(queue)),
            _ => {
                *waiting = None;
                None
            }
        }
    }

    fn lock_batches(&self) -> std::sync::MutexGuard<'_, Option<Vec<Waiting>>> {
        self.batches
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// One `entitle_consume` call.
    async fn consume_one(&self, a: &Args) -> Result<Consumed, HostError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let client = self.client_by(deadline).await?;
        let prepared = client.prepare_cached("SELECT r_outcome, r_before, r_at, r_soft, r_units FROM entitle_consume($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
        let statement = tokio::time::timeout_at(deadline, prepared)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 13] = [
            &a.license,
            &a.metric,
            &a.start,
            &a.end,
            &a.amount,
            &a.ceiling,
            &a.key,
            &a.fingerprint,
            &a.at,
            &a.kept_until,
            &a.soft_limit,
            &a.soft,
            &a.up_to,
        ];
        let row = tokio::time::timeout_at(deadline, client.query_one(&statement, &params))
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        self.read(a, &row)
    }

    /// One `entitle_consume_batch` call, each reply read and returned in
    /// the order of `args`. The store decides them in the order of their
    /// idempotency keys (unkeyed first, as they came): any order is one in
    /// which concurrent checks could have arrived, and one order of keys
    /// across the fleet keeps two batches from deadlocking.
    async fn consume_many(
        &self,
        args: &[&Args],
    ) -> Result<Vec<Result<Consumed, HostError>>, HostError> {
        let mut order: Vec<usize> = (0..args.len()).collect();
        order.sort_by(|a, b| {
            let key = |i: &usize| args.get(*i).and_then(|a| a.key.as_deref());
            key(a).cmp(&key(b))
        });
        let sorted: Vec<&Args> = order.iter().filter_map(|i| args.get(*i).copied()).collect();
        let texts = |f: fn(&Args) -> &str| sorted.iter().map(|a| f(a)).collect::<Vec<&str>>();
        let numbers = |f: fn(&Args) -> i64| sorted.iter().map(|a| f(a)).collect::<Vec<i64>>();
        let licenses = texts(|a| &a.license);
        let metrics = texts(|a| &a.metric);
        let ats = texts(|a| &a.at);
        let starts = numbers(|a| a.start);
        let ends = numbers(|a| a.end);
        let amounts = numbers(|a| a.amount);
        let ceilings = numbers(|a| a.ceiling);
        let kept = numbers(|a| a.kept_until);
        let keys: Vec<Option<&str>> = sorted.iter().map(|a| a.key.as_deref()).collect();
        let prints: Vec<Option<&str>> = sorted.iter().map(|a| a.fingerprint.as_deref()).collect();
        let limits: Vec<Option<i64>> = sorted.iter().map(|a| a.soft_limit).collect();
        let softs: Vec<Option<&str>> = sorted.iter().map(|a| a.soft.as_deref()).collect();
        let up_tos: Vec<Option<i64>> = sorted.iter().map(|a| a.up_to).collect();
        let deadline = tokio::time::Instant::now() + WAIT;
        let client = self.client_by(deadline).await?;
        let prepared = client.prepare_cached("SELECT r_outcome, r_before, r_at, r_soft, r_units FROM entitle_consume_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ORDER BY r_index");
        let statement = tokio::time::timeout_at(deadline, prepared)
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 13] = [
            &licenses, &metrics, &starts, &ends, &amounts, &ceilings, &keys, &prints, &ats, &kept,
            &limits, &softs, &up_tos,
        ];
        let rows = tokio::time::timeout_at(deadline, client.query(&statement, &params))
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.error(&e))?;
        if rows.len() != args.len() {
            return Err(self.bad_reply(&format!(
                "a batch of {} answered with {} rows",
                args.len(),
                rows.len()
            )));
        }
        let mut replies: Vec<Option<Result<Consumed, HostError>>> =
            (0..args.len()).map(|_| None).collect();
        for ((at, a), row) in order.iter().zip(sorted.iter()).zip(rows.iter()) {
            if let Some(slot) = replies.get_mut(*at) {
                *slot = Some(self.read(a, row));
            }
        }
        Ok(replies
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(self.bad_reply("a batch answered short"))))
            .collect())
    }

    fn read(&self, a: &Args, row: &tokio_postgres::Row) -> Result<Consumed, HostError> {
        let outcome: String = row.get(0);
        let at: String = row.get(2);
        let soft: String = row.get(3);
        let reply = Reply {
            outcome: &outcome,
            before: self.count_of(row.get(1))?,
            at: &at,
            soft: &soft,
            units: self.count_of(row.get(4))?,
        };
        Consumed::from_reply(&a.consume(), &reply, MOST).map_err(|detail| self.bad_reply(&detail))
    }
}
