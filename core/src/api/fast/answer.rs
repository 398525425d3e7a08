//! The envelope of a check's answer written field by field into one
//! buffer: the bytes `envelope::success` writes for it, without serde's
//! generic machinery for the parts whose shape is fixed. Every field is
//! destructured, so a field added to an answer stops the build here until
//! it is written too; values of open shape (the bases that decided, the
//! enums' names) go through [`super::write`], which writes what serde_json
//! writes. The property test of the fast path holds the whole envelope to
//! the general path's, byte for byte.

use super::write::{self, Declined};
use crate::api::envelope::ENGINE_VERSION;
use crate::entitlement::check::{CheckAnswer, QuotaUse};
use crate::entitlement::period::Period;
use crate::metering::meter::MeterRecord;
use crate::model::time::Timestamp;
use crate::reading::bundle::BundleMeta;

/// The success envelope of `answer` under `meta`, or `None` where the
/// writer declines a value (the caller then writes it with serde_json).
#[inline]
pub(super) fn envelope(answer: &CheckAnswer, meta: &BundleMeta) -> Option<String> {
    let mut out = String::with_capacity(1024);
    check(&mut out, answer, meta).ok()?;
    Some(out)
}

#[inline]
fn check(out: &mut String, answer: &CheckAnswer, meta: &BundleMeta) -> Result<(), Declined> {
    let CheckAnswer {
        decision,
        reason,
        reasons,
        feature,
        decided_by,
        remaining,
        quota,
        valid_until,
        http_status,
        record,
    } = answer;
    out.push_str(r#"{"outcome":"ok","op":"check","result":{"decision":"#);
    write::value(out, decision)?;
    out.push_str(r#","reason":"#);
    write::value(out, reason)?;
    out.push_str(r#","reasons":"#);
    write::value(out, reasons)?;
    out.push_str(r#","feature":"#);
    write::string(out, feature.as_str())?;
    out.push_str(r#","decided_by":"#);
    write::value(out, decided_by)?;
    out.push_str(r#","remaining":"#);
    count(out, *remaining);
    out.push_str(r#","quota":"#);
    match quota {
        Some(quota) => quota_use(out, quota)?,
        None => out.push_str("null"),
    }
    out.push_str(r#","valid_until":"#);
    instant(out, *valid_until)?;
    out.push_str(r#","http_status":"#);
    write::unsigned(out, u64::from(*http_status));
    out.push_str(r#","record":"#);
    match record {
        Some(record) => meter_record(out, record)?,
        None => out.push_str("null"),
    }
    let BundleMeta { id, version, hash } = meta;
    out.push_str(r#"},"meta":{"engine":"#);
    write::string(out, ENGINE_VERSION)?;
    out.push_str(r#","bundle":{"id":"#);
    write::string(out, id)?;
    out.push_str(r#","version":"#);
    write::string(out, version)?;
    out.push_str(r#","hash":"#);
    write::string(out, hash)?;
    out.push_str("}}}");
    Ok(())
}

#[inline]
fn quota_use(out: &mut String, quota: &QuotaUse) -> Result<(), Declined> {
    let QuotaUse {
        used,
        requested,
        limit,
        grace_limit,
        grace_ends_at,
        period: p,
    } = quota;
    out.push_str(r#"{"used":"#);
    write::unsigned(out, *used);
    out.push_str(r#","requested":"#);
    write::unsigned(out, *requested);
    out.push_str(r#","limit":"#);
    count(out, *limit);
    out.push_str(r#","grace_limit":"#);
    count(out, *grace_limit);
    out.push_str(r#","grace_ends_at":"#);
    instant(out, *grace_ends_at)?;
    out.push_str(r#","period":"#);
    period(out, p)?;
    out.push('}');
    Ok(())
}

#[inline]
fn meter_record(out: &mut String, record: &MeterRecord) -> Result<(), Declined> {
    let MeterRecord {
        metric,
        period: p,
        used,
        soft_exceeded_at,
    } = record;
    out.push_str(r#"{"metric":"#);
    write::string(out, metric.as_str())?;
    out.push_str(r#","period":"#);
    period(out, p)?;
    out.push_str(r#","used":"#);
    write::unsigned(out, *used);
    out.push_str(r#","soft_exceeded_at":"#);
    instant(out, *soft_exceeded_at)?;
    out.push('}');
    Ok(())
}

#[inline]
fn period(out: &mut String, period: &Period) -> Result<(), Declined> {
    let Period { kind, start, end } = period;
    out.push_str(r#"{"kind":"#);
    write::value(out, kind)?;
    out.push_str(r#","start":"#);
    instant(out, Some(*start))?;
    out.push_str(r#","end":"#);
    instant(out, Some(*end))?;
    out.push('}');
    Ok(())
}

#[inline]
fn count(out: &mut String, n: Option<u64>) {
    match n {
        Some(n) => write::unsigned(out, n),
        None => out.push_str("null"),
    }
}

/// An instant, or `null`; one with a fraction of a second as serde writes it.
#[inline]
fn instant(out: &mut String, at: Option<Timestamp>) -> Result<(), Declined> {
    let Some(at) = at else {
        out.push_str("null");
        return Ok(());
    };
    match at.whole_seconds() {
        Some(text) => {
            out.push('"');
            out.push_str(std::str::from_utf8(&text).map_err(|_| Declined)?);
            out.push('"');
            Ok(())
        }
        None => write::value(out, &at),
    }
}
