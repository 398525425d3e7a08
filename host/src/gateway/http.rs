//! The gateway's HTTP endpoints: `/v1/check`, the forward-auth endpoint
//! reverse proxies call, `/v1/status/{license}`, `/healthz` and `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use entitle_core::{Decision, ErrorKind};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::answer::{failure_mode, host_error, Decided};
use super::decision::{Gateway, IdempotencyKey};
use super::telemetry::{DecisionLabels, EndpointLabels};
use crate::error::HostError;

mod seats;

/// The path of the forward-auth endpoint.
pub const FORWARD_AUTH: &str = "/v1/forward-auth";

/// Every endpoint, over the shared gateway. `cors` lets the listed
/// origins' pages (the portal) read the status and health endpoints.
pub fn router(gateway: Arc<Gateway>, cors: CorsLayer) -> Router {
    Router::new()
        .route("/v1/check", post(check))
        .route(FORWARD_AUTH, any(forward_auth))
        .route("/v1/forward-auth/", any(forward_auth))
        .route("/v1/forward-auth/{*original}", any(forward_auth))
        .route("/v1/seats/activate", post(seats::activate))
        .route("/v1/seats/heartbeat", post(seats::heartbeat))
        .route("/v1/seats/release", post(seats::release))
        .route("/v1/status/{license}", get(status).layer(cors.clone()))
        .route("/healthz", get(healthz).layer(cors))
        .route("/metrics", get(metrics))
        .with_state(gateway)
}

/// `POST /v1/check`: the body is a check request without `now`, `usage` or
/// `bundle` (the gateway sets them); `license` names a loaded license.
/// `Idempotency-Key` (or a body `request_id`) makes a consuming check count
/// once however often it is sent. 200 with the decision, 400 with the errors.
async fn check(State(gateway): State<Arc<Gateway>>, headers: HeaderMap, body: Bytes) -> Response {
    let started = Instant::now();
    let mut key = idempotency_key(&headers, false);
    let decided = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut fields)) => {
            if let Some(Value::String(id)) = fields.remove("request_id") {
                key.get_or_insert(IdempotencyKey {
                    value: id,
                    path: "$.request_id",
                });
            }
            decided(&gateway, "check", started, fields, key, true).await
        }
        // Not a JSON object: the module reports exactly what is wrong and where.
        _ => {
            let decided = match gateway
                .generation()
                .evaluate(&body)
                .and_then(Decided::module)
            {
                Ok(decided) => decided,
                Err(error) => host_error(
                    &gateway.generation(),
                    error.code(),
                    "$",
                    &error.to_string(),
                    "send a JSON object",
                ),
            };
            finish(&gateway, "check", started, &decided);
            decided
        }
    };
    let status = match decided.status.and_then(|s| StatusCode::from_u16(s).ok()) {
        Some(status) => status,
        None if decided.answered() => StatusCode::OK,
        None => StatusCode::BAD_REQUEST,
    };
    let mut response = (
        status,
        decided_headers(&decided),
        shared_body(&decided.envelope),
    )
        .into_response();
    json_type(&mut response);
    response
}

/// Decides a check (with its full envelope or, for forward-auth, as the
/// headers need it) and counts it in the metrics. Once a consuming check's
/// record is staged it is kept, decided and counted even if the client goes
/// away before its answer, so the metrics' allowed consuming checks and the
/// meter's counts agree. When answers wait for their commit
/// (`--durability power`), or for a fleet's store, a check that may consume
/// runs as a task of its own for that; otherwise nothing awaits between
/// staging and counting, so the request's own task is enough.
async fn decided(
    gateway: &Arc<Gateway>,
    endpoint: &'static str,
    started: Instant,
    fields: Map<String, Value>,
    key: Option<IdempotencyKey>,
    envelope: bool,
) -> Decided {
    let may_consume = fields.contains_key("metric") || fields.contains_key("route");
    let feature = fields
        .get("feature")
        .or_else(|| fields.get("metric"))
        .and_then(Value::as_str)
        .map(str::to_string);
    // A route whose answer records nothing is cached like a feature's.
    if may_consume && !fields.contains_key("metric") {
        if let Some(hit) = gateway.recall(&fields, key.as_ref()) {
            finish(gateway, endpoint, started, &hit);
            return hit;
        }
    }
    let shared = Arc::clone(gateway);
    let work = async move {
        let decided = if envelope {
            shared.check(fields, key.as_ref()).await
        } else {
            shared.authorize(fields, key.as_ref()).await
        };
        finish(&shared, endpoint, started, &decided);
        decided
    };
    // On a fleet's store the check awaits the store after the count may
    // be in it: a client gone meanwhile must not take the decision (and
    // its metrics) with it.
    let waits = gateway.fleet().is_some()
        || gateway
            .meter()
            .is_some_and(super::meter::Meter::answers_wait_for_commits);
    if !may_consume || !waits {
        return work.await;
    }
    match tokio::spawn(work).await {
        Ok(decided) => decided,
        // Only a panic (which the lints rule out) or the runtime shutting
        // down ends the task early.
        Err(error) => failure_mode(
            &gateway.generation(),
            feature.as_deref(),
            &HostError::Serve {
                addr: endpoint.to_string(),
                detail: error.to_string(),
            },
        ),
    }
}

/// The headers forward-auth reads.
const ENTITLE_HEADERS: [&str; 11] = [
    "x-entitle-license",
    "x-entitle-seat",
    "x-entitle-feature",
    "x-entitle-metric",
    "x-entitle-amount",
    "x-original-method",
    "x-original-uri",
    "x-forwarded-method",
    "x-forwarded-uri",
    "idempotency-key",
    "x-request-id",
];

/// Options of the forward-auth endpoint.
#[derive(Debug, Default, Deserialize)]
struct ForwardAuthQuery {
    /// Answer every refusal with this status instead of 402/403: nginx's
    /// `auth_request` only passes 401 and 403 on (see docs/gateway.md).
    deny_status: Option<u16>,
}

/// The forward-auth endpoint, for nginx `auth_request`, Traefik ForwardAuth,
/// Caddy and Envoy `ext_authz`. Reads the license from `X-Entitle-License`;
/// what is used from `X-Entitle-Feature`, or `X-Entitle-Metric` with
/// `X-Entitle-Amount`, or else the original request's method and URI mapped
/// by the bundle's routes: asked at `/v1/forward-auth/<path>` (Envoy appends
/// the original path and query and keeps the method), this request's own
/// method and that path; else `X-Original-Method`/`X-Original-URI` (nginx)
/// or `X-Forwarded-Method`/`X-Forwarded-Uri` (Traefik, Caddy). 200 allows
/// (in grace with `X-Entitle-Warning`); 402 or 403 refuses, with a JSON body
/// `{"decision", "reason"}`; `X-Entitle-*` headers say why.
async fn forward_auth(
    State(gateway): State<Arc<Gateway>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    // The original request, when the proxy wrote it after the endpoint's
    // path: its query is the client's, never this endpoint's options.
    let original = uri
        .path_and_query()
        .and_then(|target| target.as_str().strip_prefix(FORWARD_AUTH))
        .filter(|rest| rest.starts_with('/'))
        .map(|path| json!({ "method": method.as_str(), "path": path }));
    let deny_status = if original.is_some() {
        None
    } else {
        match Query::<ForwardAuthQuery>::try_from_uri(&uri) {
            Ok(Query(query)) => query.deny_status,
            Err(rejection) => return rejection.into_response(),
        }
    };
    let unreadable = ENTITLE_HEADERS
        .iter()
        .find(|name| headers.get(**name).is_some_and(|v| v.to_str().is_err()));
    if let Some(name) = unreadable {
        let decided = host_error(
            &gateway.generation(),
            "malformed_header",
            &format!("$.headers.{name}"),
            &format!("the `{name}` header is not visible ascii"),
            "send ids and paths as ascii; percent-encode anything else",
        );
        finish(&gateway, "forward_auth", started, &decided);
        return refusal(StatusCode::BAD_REQUEST, decided_headers(&decided), &decided);
    }
    let mut fields = Map::new();
    if let Some(license) = header(&headers, "x-entitle-license") {
        fields.insert(String::from("license"), json!(license));
    }
    if let Some(feature) = header(&headers, "x-entitle-feature") {
        fields.insert(String::from("feature"), json!(feature));
    }
    if let Some(metric) = header(&headers, "x-entitle-metric") {
        fields.insert(String::from("metric"), json!(metric));
        let amount = header(&headers, "x-entitle-amount").map_or(json!(1), |text| {
            // A number when it is one; else the text, which the rules refuse with its path.
            text.parse::<u64>()
                .map_or_else(|_| json!(text), |n| json!(n))
        });
        fields.insert(String::from("amount"), amount);
    }
    if !fields.contains_key("feature") && !fields.contains_key("metric") {
        let method = header(&headers, "x-original-method")
            .or_else(|| header(&headers, "x-forwarded-method"));
        let uri =
            header(&headers, "x-original-uri").or_else(|| header(&headers, "x-forwarded-uri"));
        let route = match (original, method, uri) {
            (Some(route), _, _) => Some(route),
            (None, Some(method), Some(path)) => Some(json!({ "method": method, "path": path })),
            _ => None,
        };
        if let Some(route) = route {
            fields.insert(String::from("route"), route);
        }
    }
    // A seat first: the client must hold one (taken or renewed here)
    // before anything it asks is decided.
    let mut seat_headers = HeaderMap::new();
    if let (Some(license), Some(fingerprint)) = (
        header(&headers, "x-entitle-license"),
        header(&headers, "x-entitle-seat"),
    ) {
        let outcome = gateway
            .seat(&license, &fingerprint, super::decision::SeatAsk::Take)
            .await;
        seat_headers = seats::seat_headers(&outcome);
        let asks = ["feature", "metric", "route"]
            .iter()
            .any(|f| fields.contains_key(*f));
        if outcome.status != 200 || !asks {
            return seats::forward_auth_answer(
                &gateway,
                started,
                &outcome,
                seat_headers,
                deny_status,
            );
        }
    }
    let key = idempotency_key(&headers, true);
    let decided = if fields.contains_key("license") {
        decided(&gateway, "forward_auth", started, fields, key, false).await
    } else {
        let decided = host_error(
            &gateway.generation(),
            "missing_license",
            "$.license",
            "the request names no license",
            "send the license id in `X-Entitle-License`",
        );
        finish(&gateway, "forward_auth", started, &decided);
        decided
    };
    let wanted = decided
        .status
        .or_else(|| decided.http_status())
        .unwrap_or(403);
    let status = match deny_status {
        Some(deny) if wanted != 200 => deny,
        _ => wanted,
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    let mut headers = decided_headers(&decided);
    put(&mut headers, "x-entitle-status", &wanted.to_string());
    for name in ["x-entitle-seat-expires", "x-entitle-seats-remaining"] {
        if let Some(value) = seat_headers.remove(name) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    if status == StatusCode::OK {
        (status, headers).into_response()
    } else {
        refusal(status, headers, &decided)
    }
}

/// A forward-auth refusal: a short JSON body saying why, which the proxy
/// hands to the client (`{"decision":"deny","reason":"quota_exceeded"}`;
/// `"error"` and the error's code when the rules could not decide).
fn refusal(status: StatusCode, headers: HeaderMap, decided: &Decided) -> Response {
    let body = json!({ "decision": decided.outcome(), "reason": decided.reason() });
    let mut response = (status, headers, body.to_string()).into_response();
    json_type(&mut response);
    response
}

/// The CORS layer for `origins`: none (no header is ever added), `*`, or a
/// list; only `GET` is allowed. Fails on an origin that is not a header value.
pub fn cors(origins: &[String]) -> Result<CorsLayer, String> {
    let layer = CorsLayer::new().allow_methods([Method::GET]);
    if origins.iter().any(|origin| origin == "*") {
        return Ok(layer.allow_origin(AllowOrigin::any()));
    }
    let list = origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin.trim_end_matches('/'))
                .map_err(|_| format!("`{origin}` is not an origin"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(layer.allow_origin(AllowOrigin::list(list)))
}

/// The query of `/v1/status/{license}`.
#[derive(Debug, Deserialize)]
struct StatusQuery {
    /// Also hand over the documents the status was decided on.
    #[serde(default)]
    documents: bool,
}

/// `GET /v1/status/{license}`: the license's status with its metered usage,
/// for the portal. 404 for a license that is not loaded. With
/// `?documents=true` the body is `{"status": <the answer>, "documents":
/// {bundle, license, usage, now, signed, cases}}`, so the page can verify
/// and decide again itself.
async fn status(
    State(gateway): State<Arc<Gateway>>,
    Path(license): Path<String>,
    Query(query): Query<StatusQuery>,
) -> Response {
    let started = Instant::now();
    let fresh = gateway.refresh(&license).await;
    let seats_fresh = gateway.refresh_seats(&license).await;
    let fresh = fresh && seats_fresh;
    let (decided, documents) = gateway.status_with_documents(&license, query.documents);
    let status = match decided.error_kind() {
        None if decided.answered() => StatusCode::OK,
        Some(ErrorKind::LicenseNotLoaded) => StatusCode::NOT_FOUND,
        Some(ErrorKind::Reference | ErrorKind::Shape) => StatusCode::BAD_REQUEST,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    gateway
        .telemetry
        .latency
        .get_or_create(&EndpointLabels { endpoint: "status" })
        .observe(started.elapsed().as_secs_f64());
    let body = match documents {
        Some(documents) => documents.body(&decided),
        None => decided.envelope.to_string(),
    };
    let mut response = (status, body).into_response();
    json_type(&mut response);
    // A fleet's store that did not answer: the counts are this gateway's
    // last sight of them, and the client is told.
    if !fresh {
        response.headers_mut().insert(
            HeaderName::from_static("x-entitle-counts"),
            HeaderValue::from_static("last-seen"),
        );
    }
    response
}

/// `GET /healthz`: what is served.
async fn healthz(State(gateway): State<Arc<Gateway>>) -> Response {
    let generation = gateway.generation();
    let body = json!({
        "status": "ok",
        "generation": generation.id,
        "engine": generation.engine_version,
        "module_sha256": generation.module_sha256,
        "bundle": {
            "id": generation.bundle.id,
            "version": generation.bundle.version,
            "hash": generation.bundle.hash,
        },
        "signed_by": generation.signed_by,
        "licenses": generation.licenses.len(),
        "refused_licenses": generation.refused.len(),
        "store": gateway.fleet().map(|fleet| json!({
            "address": fleet.address(),
            "health": fleet.health().seen(),
            "units_owed": fleet.leases().owed_units(),
            "lease_units_unspent": fleet.leases().unspent_units(),
        })),
    });
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    json_type(&mut response);
    response
}

/// `GET /metrics`: Prometheus text.
async fn metrics(State(gateway): State<Arc<Gateway>>) -> Response {
    if let Some(fleet) = gateway.fleet() {
        let telemetry = &gateway.telemetry;
        telemetry.store_up.set(i64::from(fleet.health().up()));
        let units = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        telemetry.units_owed.set(units(fleet.leases().owed_units()));
        telemetry
            .lease_units_unspent
            .set(units(fleet.leases().unspent_units()));
    }
    let mut response = (StatusCode::OK, gateway.telemetry.render()).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

fn finish(gateway: &Gateway, endpoint: &'static str, started: Instant, decided: &Decided) {
    let telemetry = &gateway.telemetry;
    telemetry
        .decisions
        .get_or_create(&DecisionLabels {
            endpoint,
            outcome: decided.outcome(),
            reason: decided.reason(),
        })
        .inc();
    telemetry
        .latency
        .get_or_create(&EndpointLabels { endpoint })
        .observe(started.elapsed().as_secs_f64());
}

/// The `X-Entitle-*` headers of an answer.
fn decided_headers(decided: &Decided) -> HeaderMap {
    let mut headers = HeaderMap::new();
    put(&mut headers, "x-entitle-decision", &decided.outcome());
    put(&mut headers, "x-entitle-reason", &decided.reason());
    if let Some(remaining) = decided.remaining() {
        put(&mut headers, "x-entitle-remaining", &remaining.to_string());
    }
    if let Some(until) = decided.valid_until() {
        put(&mut headers, "x-entitle-valid-until", &until.to_string());
    }
    if decided.decision() == Some(Decision::AllowInGrace) {
        let warning = format!("in grace: {}", decided.reason());
        put(&mut headers, "x-entitle-warning", &warning);
    }
    if let Some(failure) = decided.failure() {
        put(&mut headers, "x-entitle-failure", failure);
    }
    headers
}

pub(super) fn put(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// Where an idempotency key may come from, in order, with its path.
const KEY_HEADERS: [(&str, &str); 2] = [
    ("idempotency-key", "$.headers.idempotency-key"),
    ("x-request-id", "$.headers.x-request-id"),
];

/// The idempotency key a client sent in `Idempotency-Key`, or else (when
/// `request_id` is set, as for forward-auth, where proxies pass the
/// client's request id) in `X-Request-Id`.
fn idempotency_key(headers: &HeaderMap, request_id: bool) -> Option<IdempotencyKey> {
    KEY_HEADERS
        .iter()
        .take(if request_id { 2 } else { 1 })
        .find_map(|(name, path)| header(headers, name).map(|value| IdempotencyKey { value, path }))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// An envelope as a response body, shared with the decision cache rather
/// than copied.
fn shared_body(envelope: &Arc<str>) -> Bytes {
    /// The envelope's bytes, for [`Bytes::from_owner`].
    struct Shared(Arc<str>);
    impl AsRef<[u8]> for Shared {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }
    Bytes::from_owner(Shared(Arc::clone(envelope)))
}

pub(super) fn json_type(response: &mut Response) {
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
}
