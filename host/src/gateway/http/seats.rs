//! The seat endpoints: `POST /v1/seats/activate`, `/v1/seats/heartbeat`
//! and `/v1/seats/release`, each with a JSON body `{"license",
//! "fingerprint"}`; and the answer of a forward-auth request decided by
//! the seat it holds through `X-Entitle-Seat`.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{json_type, put};
use crate::gateway::answer::{decision_name, host_error, reason_name, Decided};
use crate::gateway::decision::{Gateway, SeatAsk, SeatOutcome};
use crate::gateway::telemetry::{DecisionLabels, EndpointLabels};

/// `POST /v1/seats/activate`: takes a seat for the fingerprint, or renews
/// the one it holds. 200 with the seat and the module's answer; 402 or 403
/// refused (`seats_exhausted`, or the license's own reason); 400 for a
/// request the gateway or the module cannot read; 503 when the seats'
/// store cannot be reached.
pub(super) async fn activate(State(gateway): State<Arc<Gateway>>, body: Bytes) -> Response {
    seat(&gateway, &body, SeatAsk::Take).await
}

/// `POST /v1/seats/heartbeat`: the same as activating; a client sends it
/// well within the seat's time to live (a third of it) to keep its seat.
pub(super) async fn heartbeat(State(gateway): State<Arc<Gateway>>, body: Bytes) -> Response {
    seat(&gateway, &body, SeatAsk::Take).await
}

/// `POST /v1/seats/release`: gives the seat up at once; 200 with
/// `released` saying whether it was held (a release sent twice frees it
/// once).
pub(super) async fn release(State(gateway): State<Arc<Gateway>>, body: Bytes) -> Response {
    seat(&gateway, &body, SeatAsk::Release).await
}

async fn seat(gateway: &Gateway, body: &[u8], ask: SeatAsk) -> Response {
    let started = Instant::now();
    let fields = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => fields,
        _ => {
            return unread(
                gateway,
                "malformed_body",
                "$",
                "the body is not a JSON object",
                "send `{\"license\": \"…\", \"fingerprint\": \"…\"}`",
            )
        }
    };
    let Some(license) = fields.get("license").and_then(Value::as_str) else {
        return unread(
            gateway,
            "missing_license",
            "$.license",
            "the request names no license",
            "send the license id as `license`",
        );
    };
    let Some(fingerprint) = fields.get("fingerprint").and_then(Value::as_str) else {
        return unread(
            gateway,
            "malformed_fingerprint",
            "$.fingerprint",
            "the request gives no fingerprint",
            "send the machine's or user's fingerprint as `fingerprint`",
        );
    };
    let outcome = gateway.seat(license, fingerprint, ask).await;
    observe(gateway, started, &outcome);
    let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let headers = seat_headers(&outcome);
    let body = match &outcome.decided {
        None => json!({
            "license": license,
            "fingerprint": fingerprint,
            "released": outcome.was_held,
        })
        .to_string(),
        Some(decided) if decided.result().is_none() => decided.envelope.to_string(),
        Some(decided) => {
            let answer: Value = serde_json::from_str(&decided.envelope).unwrap_or(Value::Null);
            json!({
                "license": license,
                "fingerprint": fingerprint,
                "held": outcome.expires_at.is_some(),
                "renewed": outcome.was_held && outcome.expires_at.is_some(),
                "expires_at": outcome.expires_at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                "ttl_ms": gateway.seats().map(|s| s.ttl.as_millis()),
                "answer": answer,
            })
            .to_string()
        }
    };
    let mut response = (status, headers, body).into_response();
    json_type(&mut response);
    response
}

/// A forward-auth request answered by its seat alone: refused when the
/// seat is (with `deny_status` in place of 402/403 when asked), else 200
/// when the request asked for nothing besides the seat.
pub(super) fn forward_auth_answer(
    gateway: &Gateway,
    started: Instant,
    outcome: &SeatOutcome,
    mut headers: HeaderMap,
    deny_status: Option<u16>,
) -> Response {
    observe(gateway, started, outcome);
    put(
        &mut headers,
        "x-entitle-status",
        &outcome.status.to_string(),
    );
    let status = match deny_status {
        Some(deny) if outcome.status != 200 => deny,
        _ => outcome.status,
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    if status == StatusCode::OK {
        return (status, headers).into_response();
    }
    let (decision, reason) = labels(outcome);
    let body = json!({ "decision": decision, "reason": reason });
    let mut response = (status, headers, body.to_string()).into_response();
    json_type(&mut response);
    response
}

/// The `X-Entitle-*` headers of a seat: the decision, the reason, the
/// seats left and until when this one is held.
pub(super) fn seat_headers(outcome: &SeatOutcome) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let (decision, reason) = labels(outcome);
    put(&mut headers, "x-entitle-decision", &decision);
    put(&mut headers, "x-entitle-reason", &reason);
    if let Some(answer) = outcome.decided.as_ref().and_then(Decided::result) {
        put(
            &mut headers,
            "x-entitle-seats-remaining",
            &answer.remaining.to_string(),
        );
    }
    if let Some(at) = outcome.expires_at {
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        put(&mut headers, "x-entitle-seat-expires", &at);
    }
    headers
}

/// The decision and reason a seat is counted under.
pub(super) fn labels(outcome: &SeatOutcome) -> (Cow<'static, str>, Cow<'static, str>) {
    match &outcome.decided {
        None => (Cow::Borrowed("allow"), Cow::Borrowed("released")),
        Some(decided) => match decided.result() {
            Some(answer) => (decision_name(answer.decision), reason_name(answer.reason)),
            None => (Cow::Borrowed("error"), decided.reason_code()),
        },
    }
}

/// The endpoint label seat requests are counted under in the metrics.
const ENDPOINT: &str = "seats";

fn observe(gateway: &Gateway, started: Instant, outcome: &SeatOutcome) {
    let (outcome, reason) = labels(outcome);
    let telemetry = &gateway.telemetry;
    telemetry
        .decisions
        .get_or_create(&DecisionLabels {
            endpoint: ENDPOINT,
            outcome,
            reason,
        })
        .inc();
    telemetry
        .latency
        .get_or_create(&EndpointLabels { endpoint: ENDPOINT })
        .observe(started.elapsed().as_secs_f64());
}

fn unread(
    gateway: &Gateway,
    code: &'static str,
    path: &str,
    message: &str,
    help: &str,
) -> Response {
    let decided: Decided = host_error(&gateway.generation(), code, path, message, help);
    let mut response = (StatusCode::BAD_REQUEST, decided.envelope.to_string()).into_response();
    json_type(&mut response);
    response
}
