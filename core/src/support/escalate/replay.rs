//! Replays a case's events, in order, through its SLA and phase clocks: the
//! state every answer of `escalate` is read from. The same events always
//! give the same state.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::{Error, JsonPath, RefKind};
use crate::model::ids::{CalendarId, EvidenceId, PhaseId, RoleId, SignalId};
use crate::model::time::Timestamp;
use crate::support::calendar::Calendar;
use crate::support::case::{Case, Event};
use crate::support::policy::{Category, ClockKind, Policy, ReopenRule, Support, Target};
use crate::support::sla::Clock;

/// A cycle that ended in resolution before the current one.
#[derive(Debug, Clone, Serialize)]
pub struct PastCycle {
    /// Its number, from 1.
    pub number: u32,
    /// When it started.
    pub started_at: Timestamp,
    /// When it was resolved.
    pub resolved_at: Timestamp,
    /// The clocks that breached in it.
    pub breached: Vec<ClockKind>,
}

/// The SLA clocks and the first phase of a new cycle.
type Begun<'a> = (Vec<(ClockKind, Clock<'a>)>, (PhaseId, Clock<'a>));

/// What `escalate` needs to know to replay a case.
pub struct Setup<'a> {
    /// The bundle's support policy.
    pub support: &'a Support,
    /// The bundle's calendars.
    pub calendars: &'a BTreeMap<CalendarId, Calendar>,
    /// The case's category.
    pub category: &'a Category,
    /// The SLA targets of the license's tier and the case's severity.
    pub policy: Option<(&'a Policy, JsonPath)>,
    /// Where the category is declared.
    pub category_path: JsonPath,
}

/// The state of a case after its events.
pub struct Replay<'a> {
    /// The current cycle's number, from 1.
    pub number: u32,
    /// When it started.
    pub started_at: Timestamp,
    /// How many times the case was reopened.
    pub reopened: u32,
    /// The SLA clocks of the cycle.
    pub clocks: Vec<(ClockKind, Clock<'a>)>,
    /// The current phase and its clock.
    pub phase: (PhaseId, Clock<'a>),
    /// Every instant a phase of this cycle became overdue.
    pub overdue: Vec<(PhaseId, Timestamp)>,
    /// Whether an agent replied in this cycle, and when last.
    pub replied: Option<Timestamp>,
    /// Whether the case waits on the customer.
    pub waiting: bool,
    /// When the case was resolved, while it stays resolved.
    pub resolved_at: Option<Timestamp>,
    /// When the resolution notice went out.
    pub notice_at: Option<Timestamp>,
    /// Manual escalations of this cycle.
    pub manual: Vec<(Timestamp, u32, RoleId)>,
    /// The latest rerouting of this cycle.
    pub rerouted: Option<(Timestamp, RoleId)>,
    /// Risk signals raised, ever.
    pub signals: Vec<(Timestamp, SignalId)>,
    /// Pauses of escalation, ever.
    pub pauses: Vec<(Timestamp, Timestamp)>,
    /// Evidence at hand.
    pub provided: Vec<EvidenceId>,
    /// Clocks that breached in earlier cycles.
    pub ever: BTreeSet<ClockKind>,
    /// The earlier cycles.
    pub past: Vec<PastCycle>,
}

fn calendar<'a>(setup: &Setup<'a>, id: &CalendarId, at: JsonPath) -> Result<&'a Calendar, Error> {
    setup.calendars.get(id).ok_or(Error::UnknownReference {
        path: at,
        kind: RefKind::Calendar,
        name: id.to_string(),
    })
}

fn sla_clock<'a>(setup: &Setup<'a>, target: &Target, at: JsonPath) -> Result<Clock<'a>, Error> {
    let cal = calendar(setup, &target.calendar, at.key("calendar"))?;
    let seconds = u64::from(target.minutes) * 60;
    Ok(Clock::new(
        cal,
        seconds,
        Some(setup.support.sla.at_risk_percent),
        at,
    ))
}

fn sla_clocks<'a>(setup: &Setup<'a>) -> Result<Vec<(ClockKind, Clock<'a>)>, Error> {
    let Some((policy, at)) = &setup.policy else {
        return Ok(Vec::new());
    };
    Ok(vec![
        (
            ClockKind::FirstResponse,
            sla_clock(setup, &policy.first_response, at.key("first_response"))?,
        ),
        (
            ClockKind::Update,
            sla_clock(setup, &policy.update, at.key("update"))?,
        ),
        (
            ClockKind::Resolution,
            sla_clock(setup, &policy.resolution, at.key("resolution"))?,
        ),
    ])
}

fn phase_clock<'a>(setup: &Setup<'a>, phase: &PhaseId) -> Result<Clock<'a>, Error> {
    let cal = calendar(
        setup,
        &setup.category.calendar,
        setup.category_path.key("calendar"),
    )?;
    let found = setup
        .category
        .phases
        .iter()
        .enumerate()
        .find(|(_, p)| &p.phase == phase);
    let (i, minutes) = found.map_or((0, 0), |(i, p)| (i, p.minutes));
    let at = setup.category_path.key("phases").index(i).key("minutes");
    Ok(Clock::new(cal, u64::from(minutes) * 60, None, at))
}

impl<'a> Replay<'a> {
    fn clock(&mut self, kind: ClockKind) -> Option<&mut Clock<'a>> {
        self.clocks
            .iter_mut()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| c)
    }

    fn all(&mut self) -> impl Iterator<Item = &mut Clock<'a>> {
        self.clocks
            .iter_mut()
            .map(|(_, c)| c)
            .chain(std::iter::once(&mut self.phase.1))
    }

    /// Starts a cycle at `t`: first response and resolution run, the
    /// update cadence waits for the first reply, the first phase begins.
    fn begin(setup: &Setup<'a>, t: Timestamp) -> Result<Begun<'a>, Error> {
        let mut clocks = sla_clocks(setup)?;
        for (kind, clock) in &mut clocks {
            if *kind != ClockKind::Update {
                clock.start(t, false)?;
            }
        }
        let first = setup
            .category
            .phases
            .first()
            .map(|p| p.phase.clone())
            .ok_or(Error::UnknownReference {
                path: setup.category_path.key("phases"),
                kind: RefKind::Phase,
                name: String::new(),
            })?;
        let mut clock = phase_clock(setup, &first)?;
        clock.start(t, false)?;
        Ok((clocks, (first, clock)))
    }

    /// Replays a checked case's events up to `now`.
    pub fn run(setup: &Setup<'a>, case: &Case, now: Timestamp) -> Result<Replay<'a>, Error> {
        let (clocks, phase) = Replay::begin(setup, case.opened_at)?;
        let mut r = Replay {
            number: 1,
            started_at: case.opened_at,
            reopened: 0,
            clocks,
            phase,
            overdue: Vec::new(),
            replied: None,
            waiting: false,
            resolved_at: None,
            notice_at: None,
            manual: Vec::new(),
            rerouted: None,
            signals: Vec::new(),
            pauses: Vec::new(),
            provided: case.evidence.clone(),
            ever: BTreeSet::new(),
            past: Vec::new(),
        };
        for event in &case.events {
            let t = event.at();
            for clock in r.all() {
                clock.advance(t);
            }
            r.apply(setup, event, t)?;
        }
        for clock in r.all() {
            clock.advance(now);
        }
        r.note_overdue();
        Ok(r)
    }

    fn note_overdue(&mut self) {
        if let Some(at) = self.phase.1.breached_at {
            if !self
                .overdue
                .iter()
                .any(|(p, t)| p == &self.phase.0 && *t == at)
            {
                self.overdue.push((self.phase.0.clone(), at));
            }
        }
    }

    fn apply(&mut self, setup: &Setup<'a>, event: &Event, t: Timestamp) -> Result<(), Error> {
        match event {
            Event::AgentReply { .. } if self.resolved_at.is_some() => {
                self.notice_at = self.notice_at.or(Some(t));
            }
            Event::AgentReply { .. } => {
                if self.replied.is_none() {
                    if let Some(c) = self.clock(ClockKind::FirstResponse) {
                        c.stop(t, true);
                    }
                }
                self.replied = Some(t);
                let waiting = self.waiting;
                if let Some(c) = self.clock(ClockKind::Update) {
                    c.stop(t, true);
                    c.start(t, waiting)?;
                }
            }
            Event::CustomerReply { .. } | Event::Resumed { .. } => {
                if self.waiting && self.resolved_at.is_none() {
                    self.waiting = false;
                    for clock in self.all() {
                        clock.resume(t)?;
                    }
                }
            }
            Event::WaitingOnCustomer { .. } => {
                self.waiting = true;
                for clock in self.all() {
                    clock.pause(t);
                }
            }
            Event::PhaseEntered { phase, .. } => {
                self.note_overdue();
                let mut clock = phase_clock(setup, phase)?;
                clock.start(t, self.waiting)?;
                self.phase = (phase.clone(), clock);
            }
            Event::EvidenceReceived { evidence, .. } => {
                if !self.provided.contains(evidence) {
                    self.provided.push(evidence.clone());
                }
            }
            Event::RiskSignal { signal, .. } => self.signals.push((t, signal.clone())),
            Event::Escalated { by, level, .. } => self.manual.push((t, *level, by.clone())),
            Event::Override { owner, .. } => {
                if let Some(owner) = owner {
                    self.rerouted = Some((t, owner.clone()));
                }
            }
            Event::EscalationPaused { until, .. } => self.pauses.push((t, *until)),
            Event::Resolved { .. } => {
                self.waiting = false;
                for (kind, clock) in &mut self.clocks {
                    // The resolution notice answers a case nobody replied to
                    // yet, so resolution judges first response too.
                    clock.stop(t, *kind != ClockKind::Update);
                }
                self.phase.1.stop(t, false);
                self.note_overdue();
                self.resolved_at = Some(t);
                self.notice_at = None;
            }
            Event::Reopened { .. } => self.reopen(setup, t)?,
        }
        Ok(())
    }

    fn reopen(&mut self, setup: &Setup<'a>, t: Timestamp) -> Result<(), Error> {
        let resolved_at = self.resolved_at.take().unwrap_or(t);
        self.reopened += 1;
        self.notice_at = None;
        match setup.support.sla.reopen {
            ReopenRule::NewCycle => {
                let breached: Vec<ClockKind> = self
                    .clocks
                    .iter()
                    .filter(|(_, c)| c.breaches > 0)
                    .map(|(k, _)| *k)
                    .collect();
                self.ever.extend(breached.iter().copied());
                self.past.push(PastCycle {
                    number: self.number,
                    started_at: self.started_at,
                    resolved_at,
                    breached,
                });
                let (clocks, phase) = Replay::begin(setup, t)?;
                self.clocks = clocks;
                self.phase = phase;
                self.number += 1;
                self.started_at = t;
                self.overdue.clear();
                self.replied = None;
                self.manual.clear();
                self.rerouted = None;
            }
            ReopenRule::SameCycle => {
                if let Some(c) = self.clock(ClockKind::Resolution) {
                    c.reopen(t)?;
                }
                if let Some(c) = self.clock(ClockKind::Update) {
                    c.start(t, false)?;
                }
                let phase = self.phase.0.clone();
                let mut clock = phase_clock(setup, &phase)?;
                clock.start(t, false)?;
                self.phase.1 = clock;
            }
        }
        Ok(())
    }
}
