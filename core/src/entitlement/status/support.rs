//! The support targets a license's tier gets, as `status` shows them: per
//! severity, the first response, update and resolution targets, each with
//! the calendar it counts on and that calendar's time zone.

use serde::Serialize;

use crate::error::{Error, JsonPath, RefKind};
use crate::model::bundle::Bundle;
use crate::model::ids::{CalendarId, SeverityId, TierId};
use crate::model::time::Zone;
use crate::support::policy::Target;

/// The SLA targets of one tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupportView {
    /// The tier whose targets these are.
    pub tier: TierId,
    /// One entry per severity, most severe first; empty when the tier has no SLA.
    pub targets: Vec<SeverityTargets>,
}

/// The three targets of one severity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityTargets {
    /// The severity.
    pub severity: SeverityId,
    /// From the start of a cycle to the first agent reply.
    pub first_response: TargetView,
    /// From each agent reply to the next.
    pub update: TargetView,
    /// From the start of a cycle to resolution.
    pub resolution: TargetView,
}

/// One target: business minutes on a calendar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetView {
    /// Business minutes allowed.
    pub minutes: u32,
    /// The calendar they count on.
    pub calendar: CalendarId,
    /// The calendar's time zone, so the page can say whose hours they are.
    pub time_zone: Zone,
}

/// The targets of `tier` in the bundle's severity order, looked up with
/// [`crate::support::policy::Support::policy`] as `escalate` does; `None` when the bundle has no
/// support section. A tier with no policy gets an empty list, which is what
/// "no SLA" means to `escalate` too.
pub fn view(bundle: &Bundle, tier: &TierId) -> Result<Option<SupportView>, Error> {
    let Some(support) = &bundle.support else {
        return Ok(None);
    };
    let mut targets = Vec::new();
    for severity in &support.severities {
        let Some(policy) = support.policy(tier, severity) else {
            continue;
        };
        let at = JsonPath::root()
            .key("bundle")
            .key("support")
            .key("sla")
            .key("policies")
            .key(tier.as_str())
            .key(severity.as_str());
        targets.push(SeverityTargets {
            severity: severity.clone(),
            first_response: target(bundle, &policy.first_response, &at.key("first_response"))?,
            update: target(bundle, &policy.update, &at.key("update"))?,
            resolution: target(bundle, &policy.resolution, &at.key("resolution"))?,
        });
    }
    Ok(Some(SupportView {
        tier: tier.clone(),
        targets,
    }))
}

/// One target with its calendar's zone; validation has already refused a
/// target on an undeclared calendar, so the error only guards that rule.
fn target(bundle: &Bundle, target: &Target, at: &JsonPath) -> Result<TargetView, Error> {
    let calendar =
        bundle
            .calendars
            .get(&target.calendar)
            .ok_or_else(|| Error::UnknownReference {
                path: at.key("calendar"),
                kind: RefKind::Calendar,
                name: target.calendar.to_string(),
            })?;
    Ok(TargetView {
        minutes: target.minutes,
        calendar: target.calendar.clone(),
        time_zone: calendar.time_zone,
    })
}
