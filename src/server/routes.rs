//! The endpoints. Bodies are the JSON of docs/json.md; every failure is an
//! [`ApiError`]. A handler reads the snapshot serving when it starts and
//! keeps it to the end, so that a reload never mixes two policy sets in one
//! answer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, FromRequest, Request as HttpRequest, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tokio::sync::OwnedSemaphorePermit;

use super::Shared;
use super::error::{self, ApiError};
use crate::graph::ImpactQuery;
use crate::plan::PlanBody;
use crate::policy::Request;

/// Every route, with the token check and the limit of calls in flight on
/// all but health, the body limit, the timeout, and panics caught as JSON
/// 500s.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    // The last layer added runs first: a call without the token takes no
    // slot of the limit.
    let guarded = Router::new()
        .route("/v1/decide", post(decide))
        .route("/v1/decide/batch", post(decide_batch))
        .route("/v1/impact", post(impact))
        .route("/v1/plan", post(plan))
        .route("/v1/who", post(who))
        .route("/v1/policies", get(policies))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), limit_in_flight))
        .route_layer(axum::middleware::from_fn_with_state(shared.clone(), require_token));
    // Nothing in the service panics on purpose: a route that does, for the
    // test of the JSON 500.
    #[cfg(test)]
    let guarded = guarded.route("/v1/test/panic", get(tests::panics));
    Router::new()
        .route("/v1/health", get(health))
        .merge(guarded)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(shared.limits.body_bytes))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), time_limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            ApiError::Internal("the request could not be answered".into()).into_response()
        }))
        .with_state(shared)
}

/// A batch of requests, decided in order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch<'a> {
    #[serde(borrow)]
    requests: Vec<&'a serde_json::value::RawValue>,
}

/// The body of `/v1/impact`: the flags of `steward impact`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImpactBody {
    target: String,
    env: String,
    #[serde(default = "delete")]
    action: String,
    #[serde(default)]
    actor: Option<String>,
}

fn delete() -> String {
    "delete".to_owned()
}

/// `ok`, or `degraded` with the reason while the policy files hold a set
/// that was refused: the set serving is then older than the files.
async fn health(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(match shared.reloader.refused() {
        None => serde_json::json!({ "status": "ok" }),
        Some(reason) => serde_json::json!({ "status": "degraded", "reason": *reason }),
    })
}

async fn policies(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let snapshot = shared.current.load();
    let set = snapshot.engine.policies();
    let files: Vec<&str> = set.sources().iter().map(|(_, f)| f.name.as_str()).collect();
    let rules: Vec<_> = set
        .rules()
        .iter()
        .map(|r| {
            let effect = match r.effect {
                crate::policy::ast::Effect::Permit => "permit",
                crate::policy::ast::Effect::Forbid => "forbid",
            };
            serde_json::json!({ "id": r.name, "effect": effect, "actions": r.actions, "source": r.source })
        })
        .collect();
    Json(serde_json::json!({
        "digest": set.digest(),
        "files": files,
        "rules": rules,
        "triggers": set.triggers().iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        "loaded_at": snapshot.loaded_at,
    }))
}

async fn decide(State(shared): State<Arc<Shared>>, body: JsonBody) -> Result<Response, ApiError> {
    let mut request: Request = body.parse()?;
    if request.now.is_none() {
        request.now = Some(jiff::Timestamp::now());
    }
    let snapshot = shared.current.load();
    let verdict = snapshot.engine.decide(&request)?;
    shared.log(std::iter::once((&request, &verdict)), snapshot.engine.policies().digest());
    Ok(json(&verdict))
}

async fn decide_batch(State(shared): State<Arc<Shared>>, body: JsonBody) -> Result<Response, ApiError> {
    let deadline = std::time::Instant::now() + shared.limits.timeout;
    let snapshot = shared.current.load();
    // Decided here, on the request thread: handing a batch to the blocking
    // pool halved the throughput (663k -> 380k decisions/s). The time limit
    // holds all the same: the batch stops deciding at the deadline.
    answer_batch(&shared, &snapshot.engine, &body, deadline)
}

/// The answers of a batch, each written as soon as it is decided into one
/// buffer (no list of verdicts); a request that does not parse or cannot be
/// decided fails alone, with its reason in its place.
fn answer_batch(
    shared: &Shared,
    engine: &crate::Engine,
    body: &JsonBody,
    deadline: std::time::Instant,
) -> Result<Response, ApiError> {
    let batch: Batch<'_> = body.parse()?;
    let limit = shared.limits.batch;
    if batch.requests.len() > limit {
        return Err(ApiError::BatchTooLarge { given: batch.requests.len(), limit });
    }
    let now = jiff::Timestamp::now();
    let digest = engine.policies().digest();
    // About 512 bytes per verdict (one with its impact is ~370), but never
    // more than four times the body: entries may be empty objects, and a
    // buffer that has to grow mid-batch costs a third of the throughput.
    let mut out =
        Vec::with_capacity((16 + batch.requests.len() * 512).min(64 + body.0.len().saturating_mul(4)));
    let mut log_lines = Vec::new();
    out.extend_from_slice(b"{\"results\":[");
    for (n, raw) in batch.requests.iter().enumerate() {
        if n % 64 == 0 && std::time::Instant::now() > deadline {
            return Err(ApiError::Timeout(shared.limits.timeout.as_millis()));
        }
        if n > 0 {
            out.push(b',');
        }
        let parsed = serde_json::from_str::<Request>(raw.get()).map(|mut request| {
            request.now.get_or_insert(now);
            request
        });
        let written = match parsed {
            Ok(request) => match engine.decide(&request) {
                Ok(verdict) => {
                    if shared.decision_log.is_some()
                        && let Err(e) = super::log::line(&mut log_lines, now, &request, &verdict, digest)
                    {
                        (shared.notify)(&super::Notice::LogFailed(e.to_string()));
                    }
                    serde_json::to_writer(&mut out, &verdict)
                }
                Err(e) => serde_json::to_writer(&mut out, &ApiError::from(e).body()),
            },
            Err(e) => serde_json::to_writer(&mut out, &ApiError::MalformedBody(e.to_string()).body()),
        };
        written.map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    out.extend_from_slice(b"]}");
    if let Some(log) = &shared.decision_log
        && let Err(e) = log.write(&log_lines)
    {
        (shared.notify)(&super::Notice::LogFailed(e.to_string()));
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}

async fn impact(
    State(shared): State<Arc<Shared>>,
    Extension(slot): Extension<Slot>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let asked: ImpactBody = body.parse()?;
    let snapshot = shared.current.load_full();
    // Off the request threads, as a plan: a user who owns many assets makes
    // a large impact.
    off_thread(slot, move || {
        let query = ImpactQuery {
            actor: asked.actor.as_deref(),
            action: &asked.action,
            user: &asked.target,
            env: &asked.env,
        };
        snapshot.engine.impact(&query).map(|impact| json(&impact))
    })
    .await?
    .map_err(ApiError::from)
}

async fn plan(
    State(shared): State<Arc<Shared>>,
    Extension(slot): Extension<Slot>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let asked: PlanBody = body.parse()?;
    let request = asked.into_request(jiff::Timestamp::now()).map_err(ApiError::MalformedBody)?;
    // A plan decides every target: off the request threads, so that a large
    // one does not hold up the decisions of others.
    let snapshot = shared.current.load_full();
    // Given up at the call's deadline: the thread and the call's slot are
    // freed when the answer (503 `timeout`) goes out, not when a plan
    // nobody waits for ends.
    let deadline = std::time::Instant::now() + shared.limits.timeout;
    let planned = off_thread(slot, move || snapshot.engine.plan_until(&request, deadline)).await?;
    match planned {
        Ok(plan) => Ok(json(&plan)),
        Err(crate::plan::PlanError::Request(e)) => Err(e.into()),
        Err(crate::plan::PlanError::Selector(e)) => Err(ApiError::Plan(error::policy_line(&e))),
        Err(crate::plan::PlanError::Timeout { .. }) => {
            Err(ApiError::Timeout(shared.limits.timeout.as_millis()))
        }
        Err(e) => Err(ApiError::Plan(e.to_string())),
    }
}

/// A reverse query, a page of it: off the request threads, as a plan (it
/// decides every account of an environment).
async fn who(
    State(shared): State<Arc<Shared>>,
    Extension(slot): Extension<Slot>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let mut query: crate::analysis::WhoQuery = body.parse()?;
    query.now.get_or_insert_with(jiff::Timestamp::now);
    let snapshot = shared.current.load_full();
    // Given up at the call's deadline, as a plan is.
    let deadline = std::time::Instant::now() + shared.limits.timeout;
    let answered =
        off_thread(slot, move || crate::analysis::who_until(&snapshot.engine, &query, Some(deadline)))
            .await?;
    match answered {
        Ok(page) => Ok(json(&page)),
        Err(crate::analysis::WhoError::Request(e)) => Err(e.into()),
        Err(crate::analysis::WhoError::Timeout { .. }) => {
            Err(ApiError::Timeout(shared.limits.timeout.as_millis()))
        }
        Err(e) => Err(ApiError::Query(e.to_string())),
    }
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound { method: method.to_string(), path: uri.path().to_owned() }
}

async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed { path: uri.path().to_owned() }
}

/// Refuses calls without the configured bearer token.
async fn require_token(State(shared): State<Arc<Shared>>, request: HttpRequest, next: Next) -> Response {
    if let Some(expected) = &shared.token
        && !same_secret(bearer(request.headers()), expected)
    {
        return ApiError::Unauthorized.into_response();
    }
    next.run(request).await
}

/// The bearer token a call's `Authorization` header gives; empty when it
/// gives none. The scheme's name is case-insensitive (RFC 9110).
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .and_then(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()))
        .unwrap_or("")
}

/// Compares in time independent of where the strings differ (and of their
/// lengths: both are hashed to 32 bytes first).
pub(crate) fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A call's place among the calls in flight, held until its work is done.
#[derive(Clone)]
struct Slot(#[expect(dead_code, reason = "held for its drop")] Arc<OwnedSemaphorePermit>);

/// Refuses a call at once with 503 `overloaded` when the limit of calls in
/// flight is reached, rather than queueing it without bound.
async fn limit_in_flight(
    State(shared): State<Arc<Shared>>,
    mut request: HttpRequest,
    next: Next,
) -> Response {
    let Ok(permit) = shared.in_flight.clone().try_acquire_owned() else {
        return ApiError::Overloaded(shared.limits.in_flight).into_response();
    };
    let slot = Slot(Arc::new(permit));
    // Held here to the end of the call (the request and its extensions are
    // gone once the body is read), and by work moved off the thread.
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    drop(slot);
    response
}

/// Runs `work` on the blocking pool with the call's slot: a call answered
/// 503 `timeout` while its work goes on still counts toward the limit until
/// the work ends, so timed-out work cannot pile up past it.
async fn off_thread<T: Send + 'static>(
    slot: Slot,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Answers 503 `timeout` when a call (reading its body included) takes
/// longer than the limit.
async fn time_limit(State(shared): State<Arc<Shared>>, request: HttpRequest, next: Next) -> Response {
    let limit = shared.limits.timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(limit.as_millis()).into_response(),
    }
}

/// A call's body, read within the size limit; every endpoint parses it
/// with [`JsonBody::parse`], so that a body fails alike everywhere.
struct JsonBody(Bytes);

impl FromRequest<Arc<Shared>> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: HttpRequest, shared: &Arc<Shared>) -> Result<Self, ApiError> {
        // Refused on its announced length, before a byte of it is read:
        // a client that sent `Expect: 100-continue` gets the 413 instead
        // of `100 Continue`.
        let announced = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > shared.limits.body_bytes as u64) {
            return Err(ApiError::BodyTooLarge { limit: shared.limits.body_bytes });
        }
        Bytes::from_request(request, shared).await.map(JsonBody).map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge { limit: shared.limits.body_bytes }
            } else {
                ApiError::Body(e.body_text())
            }
        })
    }
}

impl JsonBody {
    /// The body as `T`, which may borrow from it (a batch's raw entries).
    fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.0).map_err(|e| ApiError::MalformedBody(e.to_string()))
    }
}

/// Compact JSON with its content type; serialising our own types cannot
/// fail, but if it did the client would get a 500, not a panic.
fn json(value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};

    use super::*;
    use crate::server::{Options, ReloadOn, Server};

    pub(super) async fn panics() -> &'static str {
        panic!("a bug in a handler")
    }

    /// The CRM pack served on a free port by a runtime of its own, until
    /// the sender is dropped.
    fn serve() -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut options = Options::new(vec![root.join("policies/crm")], root.join("examples/crm.yaml"));
        options.reload = ReloadOn { sighup: false, file_change: false };
        let engine = crate::Engine::load_paths(&options.policies, &options.directory).unwrap();
        let (ready, bound) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let server = Server::bind("127.0.0.1:0", engine, options).await.unwrap();
                ready.send(server.local_addr()).unwrap();
                let _ = server.run(async { drop(stopped.await) }).await;
            });
        });
        (bound.recv().unwrap(), stop)
    }

    /// The status line and the body of a GET.
    fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n").unwrap();
        let mut raw = String::new();
        let _ = stream.read_to_string(&mut raw);
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        (head.lines().next().unwrap().to_owned(), body.to_owned())
    }

    #[test]
    fn a_panic_is_a_json_500_and_the_service_keeps_serving() {
        let (addr, _stop) = serve();
        let (status, body) = get(addr, "/v1/test/panic");
        assert_eq!(status, "HTTP/1.1 500 Internal Server Error");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["message"], "internal error: the request could not be answered");
        assert_eq!(get(addr, "/v1/health").0, "HTTP/1.1 200 OK");
        assert_eq!(get(addr, "/v1/test/panic").0, "HTTP/1.1 500 Internal Server Error");
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cre", "s3cret"));
        assert!(!same_secret("", "s3cret"));
        assert!(!same_secret("s3cret ", "s3cret"));
    }
}
