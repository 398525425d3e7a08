//! Clocks that count business time toward a target: started, paused while
//! the case waits on the customer, resumed, stopped; at risk once a share of
//! the target is used and breached at the due instant, each state change
//! kept with its instant.
//!
//! A clock is breached *at* its due instant, the way a countdown reaching
//! zero is: an event exactly at the due instant is late. Elapsed time is
//! business time on the clock's calendar, so a pause over a weekend or a
//! night costs nothing either way.

use serde::Serialize;

use crate::error::{Conflict, Error, JsonPath};
use crate::model::time::Timestamp;
use crate::support::calendar::{Calendar, CalendarError};

/// What a clock is doing, and the states its history records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Not started yet (the update cadence before the first response).
    Pending,
    /// Counting, under the at-risk share.
    Running,
    /// Counting, past the at-risk share.
    AtRisk,
    /// Counting, past the target.
    Breached,
    /// Waiting on the customer: not counting.
    Paused,
    /// Stopped before its due instant.
    Met,
    /// Stopped at or after its due instant.
    Missed,
    /// Ended without being met or missed (the update cadence at resolution).
    Stopped,
}

/// A state change of a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Change {
    /// When.
    pub at: Timestamp,
    /// The state from then on.
    pub state: ClockState,
}

/// A business-time clock toward one target.
#[derive(Debug, Clone)]
pub struct Clock<'a> {
    calendar: &'a Calendar,
    /// The target in business seconds.
    pub target: u64,
    /// Business seconds at which the clock is at risk, when it has a threshold.
    at_risk: Option<u64>,
    /// Where the target is declared, for the error when it cannot be met.
    path: JsonPath,
    /// When the current run of the clock started.
    pub started_at: Option<Timestamp>,
    /// Business seconds counted before `since`.
    counted: u64,
    /// Counting since this instant, when running.
    since: Option<Timestamp>,
    /// When the at-risk share was reached.
    pub at_risk_at: Option<Timestamp>,
    /// When the target was reached.
    pub breached_at: Option<Timestamp>,
    /// When and how the clock stopped.
    pub stopped: Option<(Timestamp, ClockState)>,
    /// Every state change, in order.
    pub changes: Vec<Change>,
    /// How many times the clock breached (the update cadence can breach in
    /// several of its intervals).
    pub breaches: u32,
    /// The at-risk instant ahead of the current run, worked out once when it
    /// starts counting.
    eta_risk: Option<Timestamp>,
    /// The due instant ahead of the current run, likewise.
    eta_due: Option<Timestamp>,
}

impl<'a> Clock<'a> {
    /// A pending clock; `at_risk_percent` of the target makes it at risk.
    pub fn new(
        calendar: &'a Calendar,
        target: u64,
        at_risk_percent: Option<u8>,
        path: JsonPath,
    ) -> Clock<'a> {
        // The at-risk share is rounded down to a whole second.
        let at_risk = at_risk_percent.map(|p| target.saturating_mul(u64::from(p)) / 100);
        Clock {
            calendar,
            target,
            at_risk,
            path,
            started_at: None,
            counted: 0,
            since: None,
            at_risk_at: None,
            breached_at: None,
            stopped: None,
            changes: Vec::new(),
            breaches: 0,
            eta_risk: None,
            eta_due: None,
        }
    }

    /// Works out the instants ahead of a run that starts counting now: they
    /// depend only on where it counts from and what is left, so events
    /// that change neither never repeat the search.
    fn project(&mut self) -> Result<(), Error> {
        self.eta_risk = None;
        self.eta_due = None;
        let Some(since) = self.since else {
            return Ok(());
        };
        if let Some(share) = self.at_risk.filter(|_| self.at_risk_at.is_none()) {
            self.eta_risk = Some(self.add(since, share.saturating_sub(self.counted))?);
        }
        if self.breached_at.is_none() {
            self.eta_due = Some(self.add(since, self.target.saturating_sub(self.counted))?);
        }
        Ok(())
    }

    fn unmeetable(&self, from: Timestamp) -> Error {
        Error::Contradiction {
            path: self.path.clone(),
            detail: format!(
                "the target of {} business seconds counted from `{from}` can never be met: its calendar has no business time left",
                self.target
            ),
            code: Conflict::UnmeetableTarget,
        }
    }

    fn add(&self, from: Timestamp, seconds: u64) -> Result<Timestamp, Error> {
        self.calendar.add(from, seconds).map_err(|e| match e {
            CalendarError::NoBusinessTime { .. } => self.unmeetable(from),
            CalendarError::OutOfRange | CalendarError::PastLastInstant => Error::OutOfRange {
                path: self.path.clone(),
                detail: format!(
                    "the target of {} business seconds counted from `{from}` ends after 9999-12-31T23:59:59Z, the last instant an answer can hold",
                    self.target
                ),
            },
        })
    }

    fn push(&mut self, at: Timestamp, state: ClockState) {
        self.changes.push(Change { at, state });
    }

    /// The state a counting clock is in.
    fn counting_state(&self) -> ClockState {
        if self.breached_at.is_some() {
            ClockState::Breached
        } else if self.at_risk_at.is_some() {
            ClockState::AtRisk
        } else {
            ClockState::Running
        }
    }

    /// (Re)starts the clock at `t` with nothing counted; `paused` starts it
    /// paused (the case is waiting on the customer at that instant).
    pub fn start(&mut self, t: Timestamp, paused: bool) -> Result<(), Error> {
        self.started_at = Some(t);
        self.counted = 0;
        self.at_risk_at = None;
        self.breached_at = None;
        self.stopped = None;
        if paused {
            self.since = None;
            self.push(t, ClockState::Paused);
        } else {
            self.since = Some(t);
            self.push(t, ClockState::Running);
        }
        self.project()
    }

    /// Records the at-risk and due instants passed by `t` while counting.
    pub fn advance(&mut self, t: Timestamp) {
        if let Some(at) = self.eta_risk.filter(|at| *at <= t) {
            self.eta_risk = None;
            self.at_risk_at = Some(at);
            self.push(at, ClockState::AtRisk);
        }
        if let Some(at) = self.eta_due.filter(|at| *at <= t) {
            self.eta_due = None;
            self.breached_at = Some(at);
            self.breaches += 1;
            self.push(at, ClockState::Breached);
        }
    }

    /// Stops counting at `t`: the case now waits on the customer.
    pub fn pause(&mut self, t: Timestamp) {
        if self.stopped.is_some() || self.started_at.is_none() {
            return;
        }
        self.advance(t);
        if let Some(since) = self.since.take() {
            self.counted = self.counted.saturating_add(self.calendar.elapsed(since, t));
            self.push(t, ClockState::Paused);
        }
        self.eta_risk = None;
        self.eta_due = None;
    }

    /// Counts again from `t`.
    pub fn resume(&mut self, t: Timestamp) -> Result<(), Error> {
        if self.stopped.is_none() && self.started_at.is_some() && self.since.is_none() {
            self.since = Some(t);
            let state = self.counting_state();
            self.push(t, state);
        }
        self.project()
    }

    /// Ends the clock at `t`: met when before the due instant, missed at or
    /// after it, or `Stopped` when `judged` is false.
    pub fn stop(&mut self, t: Timestamp, judged: bool) {
        if self.stopped.is_some() || self.started_at.is_none() {
            return;
        }
        self.advance(t);
        self.eta_risk = None;
        self.eta_due = None;
        if let Some(since) = self.since.take() {
            self.counted = self.counted.saturating_add(self.calendar.elapsed(since, t));
        }
        let state = match (judged, self.breached_at.is_some()) {
            (false, _) => ClockState::Stopped,
            (true, true) => ClockState::Missed,
            (true, false) => ClockState::Met,
        };
        self.stopped = Some((t, state));
        self.push(t, state);
    }

    /// Takes a stopped clock up again at `t`, keeping what it counted (a
    /// case reopened into the same cycle).
    pub fn reopen(&mut self, t: Timestamp) -> Result<(), Error> {
        if self.stopped.take().is_some() {
            self.since = Some(t);
            let state = self.counting_state();
            self.push(t, state);
        }
        self.project()
    }

    /// Whether the clock counts now.
    pub fn is_running(&self) -> bool {
        self.since.is_some()
    }

    /// Business seconds counted up to `now`.
    pub fn elapsed(&self, now: Timestamp) -> u64 {
        let running = self.since.map_or(0, |s| self.calendar.elapsed(s, now));
        self.counted.saturating_add(running)
    }

    /// The state at the last instant advanced to.
    pub fn state(&self) -> ClockState {
        match (self.started_at, self.stopped, self.since) {
            (None, _, _) => ClockState::Pending,
            (Some(_), Some((_, state)), _) => state,
            (Some(_), None, Some(_)) => self.counting_state(),
            (Some(_), None, None) => ClockState::Paused,
        }
    }

    /// The due instant: past when breached, projected while counting,
    /// unknown while paused or once stopped.
    pub fn due_at(&self) -> Option<Timestamp> {
        self.breached_at.or(self.eta_due)
    }

    /// The at-risk instant: past when reached, projected while counting.
    pub fn at_risk_due(&self) -> Option<Timestamp> {
        self.at_risk_at.or(self.eta_risk)
    }
}
