//! The `exception` operation: intake of an exception request, its risk
//! score, track and required approvers, the approvals recorded, the
//! exception record to add to the license once approved, and its lifecycle
//! at `now`. See `docs/exceptions.md`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Conflict, Error, JsonPath};
use crate::exceptions::intake;
use crate::exceptions::lifecycle::{self, Reminder, State};
use crate::exceptions::policy::ExceptionPolicy;
use crate::exceptions::request::{Approval, Denial, ExceptionRequest};
use crate::exceptions::risk::{self, Risk};
use crate::model::bundle::Bundle;
use crate::model::ids::{ExceptionId, FeatureId, LicenseId, RoleId};
use crate::model::license::License;
use crate::model::time::Timestamp;

/// The answer of `exception`.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionAnswer {
    /// The request's id.
    pub request: ExceptionId,
    /// The license it is for.
    pub license: LicenseId,
    /// Where it stands at `now`.
    pub state: State,
    /// The window it covers.
    pub window: WindowAnswer,
    /// The score and how it was reached.
    pub risk: Risk,
    /// `fast` or `standard`.
    pub track: Track,
    /// Who must approve, who did, who is missing, and any denial.
    pub approvals: Approvals,
    /// The exception to add to the license's `exceptions`, once approved.
    pub record: Option<Record>,
    /// When the last required approval was given.
    pub approved_at: Option<Timestamp>,
    /// Review reminders before expiry, earliest first.
    pub reminders: Vec<Reminder>,
    /// The first reminder after `now`, while approved or active.
    pub next_reminder_at: Option<Timestamp>,
    /// The earliest instant after `now` at which the answer changes.
    pub next_evaluation_at: Option<Timestamp>,
}

/// The window, with its length in days (a started day counts whole).
#[derive(Debug, Clone, Serialize)]
pub struct WindowAnswer {
    /// First instant.
    pub starts_at: Timestamp,
    /// First instant after.
    pub expires_at: Timestamp,
    /// Days.
    pub duration_days: u64,
}

/// The approval track.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    /// A total below the policy's `fast_track_below`.
    Fast,
    /// Every other total.
    Standard,
}

/// The approvals the score requires and those given.
#[derive(Debug, Clone, Serialize)]
pub struct Approvals {
    /// The band's `from_score`.
    pub band_from_score: u32,
    /// Roles that must approve, in the band's order.
    pub required: Vec<RoleId>,
    /// Approvals given, as the request lists them.
    pub given: Vec<Approval>,
    /// Required roles that have not approved.
    pub missing: Vec<RoleId>,
    /// The denial, if any.
    pub denied: Option<Denial>,
}

/// An exception record in exactly the shape of a license's `exceptions` entry.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// The request's id.
    pub id: ExceptionId,
    /// What it grants.
    pub grants: RecordGrants,
    /// First instant it applies.
    pub starts_at: Timestamp,
    /// First instant it no longer applies.
    pub expires_at: Timestamp,
    /// The approving roles, in the band's order, joined by `, `.
    pub approver: String,
    /// The request's reason, else its use case, else a line naming the request.
    pub reason: String,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// The grants of a record.
#[derive(Debug, Clone, Serialize)]
pub struct RecordGrants {
    /// Extra features.
    pub features: Vec<FeatureId>,
    /// Extra units per metric.
    pub quota_increments: BTreeMap<FeatureId, u64>,
    /// Extra grace hours per metric.
    pub grace_hours: BTreeMap<FeatureId, u32>,
}

/// Runs the operation on the request's remaining fields.
pub fn exception(
    bundle: &Bundle,
    license: &License,
    fields: &mut Map<String, Value>,
    now: Timestamp,
) -> Result<ExceptionAnswer, Vec<Error>> {
    let root = JsonPath::root();
    let at = root.key("request");
    let Some(policy) = &bundle.exception_policy else {
        return Err(vec![Error::MissingField {
            path: root.key("bundle").key("exception_policy"),
            field: "exception_policy".into(),
        }]);
    };
    let request: ExceptionRequest = match fields.remove("request") {
        Some(value) => crate::reading::json::typed(value, &at).map_err(|e| vec![e])?,
        None => {
            return Err(vec![Error::MissingField {
                path: at,
                field: "request".into(),
            }])
        }
    };
    evaluate(bundle, policy, license, &request, now, &at)
}

/// Evaluates a read request under the policy at `now`.
pub fn evaluate(
    bundle: &Bundle,
    policy: &ExceptionPolicy,
    license: &License,
    request: &ExceptionRequest,
    now: Timestamp,
    at: &JsonPath,
) -> Result<ExceptionAnswer, Vec<Error>> {
    let mut errors = Vec::new();
    let window = intake::intake(bundle, policy, license, request, at, &mut errors);
    let scored = window.map(|w| (w, risk::score(bundle, policy, license, request, w)));
    let band = scored.as_ref().and_then(|(_, r)| policy.band(r.total));
    let required: Vec<RoleId> = band.map(|b| b.roles.clone()).unwrap_or_default();
    check_approvals(request, band.map(|_| &required[..]), now, at, &mut errors);
    let (Some((window, risk)), Some(band), true) = (scored, band, errors.is_empty()) else {
        return Err(errors);
    };
    let missing: Vec<RoleId> = required
        .iter()
        .filter(|r| !request.approvals.iter().any(|a| &a.role == *r))
        .cloned()
        .collect();
    let complete = missing.is_empty();
    let life = lifecycle::evaluate(policy, request, window, complete, now);
    let record = (complete && request.denied.is_none()).then(|| Record {
        id: request.id.clone(),
        grants: RecordGrants {
            features: request.features.clone(),
            quota_increments: request.quota_increments.clone(),
            grace_hours: request.grace_hours.clone(),
        },
        starts_at: window.starts_at,
        expires_at: window.expires_at,
        approver: required
            .iter()
            .map(RoleId::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        reason: reason(request),
        revoked_at: request.revoked_at,
    });
    let track = if risk.total < policy.fast_track_below {
        Track::Fast
    } else {
        Track::Standard
    };
    Ok(ExceptionAnswer {
        request: request.id.clone(),
        license: license.license.clone(),
        state: life.state,
        window: WindowAnswer {
            starts_at: window.starts_at,
            expires_at: window.expires_at,
            duration_days: window.days,
        },
        risk,
        track,
        approvals: Approvals {
            band_from_score: band.from_score,
            required,
            given: request.approvals.clone(),
            missing,
            denied: request.denied.clone(),
        },
        record,
        approved_at: life.approved_at,
        reminders: life.reminders,
        next_reminder_at: life.next_reminder_at,
        next_evaluation_at: life.next_evaluation_at,
    })
}

fn reason(request: &ExceptionRequest) -> String {
    [&request.reason, &request.use_case]
        .into_iter()
        .flatten()
        .find(|t| !t.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| format!("exception request {}", request.id))
}

/// Approvals and a denial: by required roles only (when the score is
/// known), each role once, none after `now`; a revocation only of an
/// exception fully approved and not denied.
fn check_approvals(
    request: &ExceptionRequest,
    required: Option<&[RoleId]>,
    now: Timestamp,
    at: &JsonPath,
    errors: &mut Vec<Error>,
) {
    let not_required = |role: &RoleId, path: JsonPath| {
        let needed = required.is_none_or(|r| r.contains(role));
        (!needed).then(|| {
            Error::contradiction(
                path,
                Conflict::ApprovalNotRequired,
                format!("the request's score does not require role `{role}`"),
            )
        })
    };
    let after_now = |instant: Timestamp, path: JsonPath| {
        (instant > now).then(|| {
            Error::contradiction(
                path,
                Conflict::EventAfterNow,
                format!("`{instant}` is after `now`, `{now}`"),
            )
        })
    };
    let mut seen = Vec::new();
    for (i, a) in request.approvals.iter().enumerate() {
        let path = at.key("approvals").index(i);
        if seen.contains(&&a.role) {
            errors.push(Error::Duplicate {
                path: path.key("role"),
                what: "approval by role".into(),
                value: a.role.to_string(),
            });
        } else {
            errors.extend(not_required(&a.role, path.key("role")));
        }
        seen.push(&a.role);
        errors.extend(after_now(a.at, path.key("at")));
    }
    if let Some(d) = &request.denied {
        let path = at.key("denied");
        errors.extend(not_required(&d.role, path.key("role")));
        errors.extend(after_now(d.at, path.key("at")));
    }
    if request.revoked_at.is_some() {
        let complete = required.is_some_and(|r| {
            r.iter()
                .all(|role| request.approvals.iter().any(|a| &a.role == role))
        });
        if request.denied.is_some() || (required.is_some() && !complete) {
            errors.push(Error::contradiction(
                at.key("revoked_at"),
                Conflict::EventNotAllowed,
                "only an exception approved by every required role, and not denied, can be revoked"
                    .into(),
            ));
        }
    }
}
