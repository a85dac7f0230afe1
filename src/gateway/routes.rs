//! The gateway's endpoints: every call under `/scim/v2` is read here into
//! the operations `write.rs` carries out, or passed through when it is a
//! read. One dispatcher for single calls and for each operation of a
//! `/Bulk`, so that a write is read alike whichever way it comes.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request as HttpRequest, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::Shared;
use super::error::{ScimError, scim_json};
use super::mapping::{self, Change, get};
use super::upstream::Answer;
use super::write::{self, Context, Op, Outcome};
use crate::directory::scim::IdSource;
use crate::server::{bearer, same_secret};

/// Where the endpoints sit.
const BASE: &str = "/scim/v2";
/// The schema URIs of a bulk request and its answer (RFC 7644 §3.7).
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// What a path segment escapes (RFC 3986 §3.3: anything but pchar).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'&')
    .add(b'=')
    .add(b'+');

/// `id` as one path segment.
fn segment(id: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(id, SEGMENT)
}

/// The header that says a deletion was carried out as a deactivation.
pub const FALLBACK_HEADER: &str = "steward-fallback";

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .fallback(dispatch)
        .layer(middleware::from_fn_with_state(shared.clone(), authenticate))
        .layer(middleware::from_fn_with_state(shared.clone(), limit_in_flight))
        .layer(middleware::from_fn_with_state(shared.clone(), time_limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            ScimError::Internal("a bug in the gateway; nothing was forwarded".into()).into_response()
        }))
        .with_state(shared)
}

/// The client a call comes from, found by its bearer token.
#[derive(Clone)]
struct Actor(String);

async fn authenticate(State(shared): State<Arc<Shared>>, mut request: HttpRequest, next: Next) -> Response {
    let given = bearer(request.headers());
    // Every token compared, in time independent of which matches.
    let mut found = None;
    for client in &shared.clients {
        if same_secret(given, &client.token) {
            found = Some(client.actor.clone());
        }
    }
    let Some(actor) = found else {
        return ScimError::Unauthorized.into_response();
    };
    request.extensions_mut().insert(Actor(actor));
    next.run(request).await
}

async fn limit_in_flight(State(shared): State<Arc<Shared>>, request: HttpRequest, next: Next) -> Response {
    let Ok(_permit) = shared.in_flight.clone().try_acquire_owned() else {
        return ScimError::Overloaded(shared.limits.in_flight).into_response();
    };
    next.run(request).await
}

/// When a call arrived, as its time limit counts: a write's deadline is
/// counted from here, not from when it is decided (the body read and the
/// SCIM ids asked of the service provider count too).
#[derive(Clone, Copy)]
struct Arrived(std::time::Instant);

async fn time_limit(State(shared): State<Arc<Shared>>, mut request: HttpRequest, next: Next) -> Response {
    let limit = shared.limits.timeout;
    request.extensions_mut().insert(Arrived(std::time::Instant::now()));
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ScimError::Timeout(limit.as_millis()).into_response(),
    }
}

/// Every call: a read passes through, a write is carried out.
async fn dispatch(State(shared): State<Arc<Shared>>, request: HttpRequest) -> Response {
    match answer(&shared, request).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn answer(shared: &Arc<Shared>, request: HttpRequest) -> Result<Response, ScimError> {
    let actor = request.extensions().get::<Actor>().map(|a| a.0.clone()).ok_or(ScimError::Unauthorized)?;
    let arrived = request.extensions().get::<Arrived>().map_or_else(std::time::Instant::now, |a| a.0);
    let (parts, body) = request.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let Some(below) = path_and_query.strip_prefix(BASE).filter(|r| r.is_empty() || r.starts_with(['/', '?']))
    else {
        return Err(ScimError::NotFound(format!("`{}` is not below {BASE}", parts.uri.path())));
    };
    let below = below.to_owned();
    let body = read_body(shared, body).await?;
    if parts.method == Method::GET || parts.method == Method::HEAD {
        let answer = shared.upstream.send(parts.method.clone(), &below, &parts.headers, body).await?;
        return Ok(relay(answer));
    }
    let path = below.split('?').next().unwrap_or_default().trim_end_matches('/').to_owned();
    if parts.method == Method::POST && path == "/Bulk" {
        return bulk(shared, &actor, arrived, &parts.headers, &body).await;
    }
    if parts.method == Method::POST && (path == "/.search" || path.ends_with("/.search")) {
        // A query sent as a POST (RFC 7644 §3.4.3) reads, never writes.
        let answer = shared.upstream.send(parts.method.clone(), &below, &parts.headers, body).await?;
        return Ok(relay(answer));
    }
    // The discovery endpoints are read-only (RFC 7644 §4): a write to one
    // is answered here, never forwarded.
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    if ["ServiceProviderConfig", "ResourceTypes", "Schemas"].contains(&first) {
        return Err(ScimError::MethodNotAllowed(format!("`/{first}` is read-only: only GET (RFC 7644 §4)")));
    }
    let op = match read_op(shared, parts.method.clone(), &below, &parts.headers, body, None).await? {
        Ok(op) => op,
        Err(answer) => return Ok(relay(answer)),
    };
    let reason = format!("SCIM {} {}", parts.method, path);
    let outcome = carry_out(shared, &actor, arrived, vec![op], None, reason).await?;
    single(outcome)
}

/// The body, within the limit.
async fn read_body(shared: &Shared, body: Body) -> Result<Bytes, ScimError> {
    let limit = shared.limits.body_bytes;
    axum::body::to_bytes(body, limit).await.map_err(|_| ScimError::TooLarge { limit })
}

/// The service provider's answer, as it gave it.
fn relay(answer: Answer) -> Response {
    let mut response = (answer.status, answer.body).into_response();
    if answer.headers.contains_key(header::CONTENT_TYPE) {
        response.headers_mut().remove(header::CONTENT_TYPE);
    }
    for (name, value) in &answer.headers {
        response.headers_mut().append(name.clone(), value.clone());
    }
    response
}

fn json_body(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body).map_err(|e| ScimError::InvalidSyntax(format!("the body is not JSON: {e}")))
}

/// A write read into the operation steward carries out, or the service
/// provider's answer when it could not tell whom the write is about (an
/// unknown id: its 404).
async fn read_op(
    shared: &Arc<Shared>,
    method: Method,
    below: &str,
    headers: &HeaderMap,
    body: Bytes,
    bulk_id: Option<String>,
) -> Result<Result<Op, Answer>, ScimError> {
    let path = below.split('?').next().unwrap_or_default().trim_end_matches('/');
    // Each segment as the service provider reads it: percent-decoded. One
    // it might read otherwise than this gateway (`/Users/../Groups`,
    // `//Users`, an encoded slash, not UTF-8) is refused, not guessed at.
    let decoded: Option<Vec<String>> = path
        .strip_prefix('/')
        .unwrap_or("")
        .split('/')
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8().ok().map(|d| d.into_owned()))
        .collect();
    let decoded = decoded
        .filter(|segments| {
            path.starts_with('/')
                && segments.iter().all(|s| {
                    !s.is_empty()
                        && s != "."
                        && s != ".."
                        && !s.contains(['/', '\\'])
                        && !s.chars().any(char::is_control)
                })
        })
        .ok_or_else(|| {
            ScimError::InvalidPath(format!("`{path}` is not a path the gateway reads: /Users/ID, /Groups/ID"))
        })?;
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let source = shared.user_id;
    let mut steps = Vec::new();
    let mut unmapped = Vec::new();
    match (segments.as_slice(), &method) {
        (["Users"], &Method::POST) => {
            let new = mapping::new_user(&json_body(&body)?, source)?;
            steps.push((None, Change::Create(new)));
        }
        (["Users", id], m) if *m == Method::DELETE || *m == Method::PATCH || *m == Method::PUT => {
            let user = match user_of(shared, id).await? {
                Ok(user) => user,
                Err(answer) => return Ok(Err(answer)),
            };
            if *m == Method::DELETE {
                steps.push((Some(user), Change::Delete));
            } else {
                let asked = if *m == Method::PATCH {
                    mapping::patched(&json_body(&body)?, &user, source)?
                } else {
                    let account = account_of(shared, &user)?;
                    mapping::replaced(&json_body(&body)?, &user, &account, source)?
                };
                unmapped = asked.unmapped;
                steps.extend(asked.changes.into_iter().map(|c| (Some(user.clone()), c)));
            }
        }
        (["Groups"], &Method::POST) => {
            let group = json_body(&body)?;
            let role = group_name(&group)?;
            unique_role(shared, &role).await?;
            for member in members(&group)? {
                match user_of(shared, &member).await? {
                    Ok(user) => steps.push((Some(user), Change::AddRole(role.clone()))),
                    Err(answer) => return Ok(Err(answer)),
                }
            }
        }
        (["Groups", id], m) if *m == Method::DELETE || *m == Method::PATCH || *m == Method::PUT => {
            // The Group as the service provider holds it: its name is the
            // role, its members are who holds it through this Group.
            let (role, holders) = match group_of(shared, id).await? {
                Ok(group) => group,
                Err(answer) => return Ok(Err(answer)),
            };
            if *m == Method::DELETE {
                steps.extend(holders.into_iter().map(|u| (Some(u), Change::RemoveRole(role.clone()))));
            } else if *m == Method::PUT {
                let group = json_body(&body)?;
                let renamed = group_name(&group)?;
                if renamed != role {
                    unique_role(shared, &renamed).await?;
                }
                let mut wanted = Vec::new();
                for member in members(&group)? {
                    match user_of(shared, &member).await? {
                        Ok(user) => wanted.push(user),
                        Err(answer) => return Ok(Err(answer)),
                    }
                }
                steps.extend(regroup(&role, &renamed, &holders, &wanted));
            } else {
                match group_patch(shared, &role, &holders, &json_body(&body)?).await? {
                    Ok(more) => steps.extend(more),
                    Err(answer) => return Ok(Err(answer)),
                }
            }
        }
        _ => {
            return Err(ScimError::NotMapped(format!(
                "`{method} {path}` is not a write the gateway decides, so it is not forwarded (docs/scim.md)"
            )));
        }
    }
    if shared.unmapped == super::Unmapped::Refuse && !unmapped.is_empty() {
        return Err(ScimError::NotMapped(format!(
            "the write also changes {}, which steward does not decide on, and the gateway is told to refuse such writes (gateway.unmapped: refuse)",
            unmapped.join(", ")
        )));
    }
    Ok(Ok(Op { method, path: below.to_owned(), headers: headers.clone(), body, steps, bulk_id }))
}

/// The steward user a SCIM User id names: remembered, or asked of the
/// service provider once.
async fn user_of(shared: &Arc<Shared>, id: &str) -> Result<Result<String, Answer>, ScimError> {
    if shared.user_id == IdSource::Id {
        return Ok(Ok(id.to_owned()));
    }
    if let Some(user) = shared.users.lock().ok().and_then(|m| m.get(id).cloned()) {
        return Ok(Ok(user));
    }
    let answer = shared
        .upstream
        .send(Method::GET, &format!("/Users/{}", segment(id)), &HeaderMap::new(), Bytes::new())
        .await?;
    if !answer.succeeded() {
        return Ok(Err(answer));
    }
    let user = answer.json().and_then(|r| mapping::user_id(&r, shared.user_id)).ok_or_else(|| {
        ScimError::NotFound(format!(
            "the service provider's User `{id}` has no `{}`",
            shared.user_id.attribute()
        ))
    })?;
    if let Ok(mut users) = shared.users.lock() {
        users.insert(id.to_owned(), user.clone());
    }
    Ok(Ok(user))
}

/// A Group of the service provider: its `displayName` (the role) and the
/// steward users of its members, asked each time (a Group renamed or
/// emptied elsewhere is read as it is).
async fn group_of(
    shared: &Arc<Shared>,
    id: &str,
) -> Result<Result<(String, Vec<String>), Answer>, ScimError> {
    let path = format!("/Groups/{}?attributes=displayName,members", segment(id));
    let answer = shared.upstream.send(Method::GET, &path, &HeaderMap::new(), Bytes::new()).await?;
    if !answer.succeeded() {
        return Ok(Err(answer));
    }
    let group = answer.json().unwrap_or_default();
    let role = group_name(&group)?;
    let mut users = Vec::new();
    for member in members(&group)? {
        match user_of(shared, &member).await? {
            Ok(user) => users.push(user),
            Err(answer) => return Ok(Err(answer)),
        }
    }
    Ok(Ok((role, users)))
}

/// Refuses a Group name another Group has: the role would be two Groups'
/// at once, and leaving one would take it away from the other's members.
async fn unique_role(shared: &Arc<Shared>, role: &str) -> Result<(), ScimError> {
    let filter = format!("displayName eq \"{}\"", role.replace('\\', "\\\\").replace('"', "\\\""));
    let path = format!("/Groups?filter={}&attributes=displayName", segment(&filter));
    let answer = shared.upstream.send(Method::GET, &path, &HeaderMap::new(), Bytes::new()).await?;
    let found = answer.json().and_then(|a| a.get("totalResults").and_then(Value::as_u64));
    match (answer.succeeded(), found) {
        (true, Some(0)) => Ok(()),
        (true, Some(_)) => Err(ScimError::Uniqueness(format!(
            "a Group named `{role}` exists already: its name is the role steward gives its members, so it names one Group"
        ))),
        _ => Err(ScimError::Unreachable(format!(
            "the service provider did not say whether a Group named `{role}` exists ({})",
            answer.status
        ))),
    }
}

/// steward's account of `user`, as the last write left it (a snapshot: the
/// write itself tells no change apart from a change under the lock).
fn account_of(shared: &Shared, user: &str) -> Result<crate::directory::model::Account, ScimError> {
    let snapshot =
        shared.snapshot.lock().map_err(|_| ScimError::Internal("the gateway's state is poisoned".into()))?;
    snapshot.directory().account(user, &shared.env).cloned().ok_or_else(|| {
        ScimError::NotFound(format!("`{user}` has no account in `{}` in steward's directory", shared.env))
    })
}

fn group_name(group: &Value) -> Result<String, ScimError> {
    group
        .as_object()
        .and_then(|g| get(g, "displayName"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ScimError::InvalidValue("the Group has no `displayName`, which is the role".into()))
}

/// The `value` of each member of a Group resource (or of a `members` value).
fn members(group: &Value) -> Result<Vec<String>, ScimError> {
    let list = match group {
        Value::Array(_) => Some(group),
        Value::Object(g) => get(g, "members"),
        _ => None,
    };
    let Some(list) = list else { return Ok(Vec::new()) };
    let list = list.as_array().ok_or_else(|| ScimError::InvalidValue("`members` is a list".into()))?;
    list.iter()
        .map(|m| {
            m.as_object()
                .and_then(|m| get(m, "value"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ScimError::InvalidValue("a member has no `value`".into()))
        })
        .collect()
}

/// What replacing a Group's members (and name) changes: who leaves, who
/// joins; a new name moves every member from the old role to the new.
fn regroup(
    role: &str,
    renamed: &str,
    holders: &[String],
    wanted: &[String],
) -> Vec<(Option<String>, Change)> {
    let mut steps = Vec::new();
    for user in holders {
        if renamed != role || !wanted.contains(user) {
            steps.push((Some(user.clone()), Change::RemoveRole(role.to_owned())));
        }
    }
    for user in wanted {
        steps.push((Some(user.clone()), Change::AddRole(renamed.to_owned())));
    }
    steps
}

/// What a PATCH of a Group changes, operation by operation: members
/// added, removed (`members[value eq "ID"]`, or all), replaced; a new
/// `displayName` moves every member to the new role (and the members after
/// it join that one). Attributes may come wrapped in the core Group
/// schema's URI; any other attribute changes no role and passes.
async fn group_patch(
    shared: &Arc<Shared>,
    role: &str,
    holders: &[String],
    body: &Value,
) -> Result<Result<Vec<(Option<String>, Change)>, Answer>, ScimError> {
    const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:group";
    // Each operation as (op, attribute in lower case, as given, value).
    let mut flat: Vec<(String, String, String, Option<Value>)> = Vec::new();
    for (op, path, value) in mapping::operations(body)? {
        match path {
            Some(path) => {
                let lower = path.to_ascii_lowercase();
                let given = match lower.strip_prefix(CORE_GROUP).and_then(|r| r.strip_prefix(':')) {
                    Some(rest) => path.get(path.len() - rest.len()..).unwrap_or(&path).to_owned(),
                    None => path.clone(),
                };
                flat.push((op, given.to_ascii_lowercase(), given, value.cloned()));
            }
            None => {
                let Some(Value::Object(values)) = value else {
                    return Err(ScimError::InvalidValue(format!("an `{op}` without a path takes an object")));
                };
                for (key, value) in values {
                    let lower = key.to_ascii_lowercase();
                    match value {
                        Value::Object(inner) if lower == CORE_GROUP => {
                            for (key, value) in inner {
                                flat.push((
                                    op.clone(),
                                    key.to_ascii_lowercase(),
                                    key.clone(),
                                    Some(value.clone()),
                                ));
                            }
                        }
                        _ => flat.push((op.clone(), lower, key.clone(), Some(value.clone()))),
                    }
                }
            }
        }
    }
    let mut current = role.to_owned();
    let mut holding: Vec<String> = holders.to_vec();
    let mut steps = Vec::new();
    for (op, attribute, given, value) in flat {
        match (op.as_str(), attribute.as_str()) {
            ("replace", "displayname") => {
                let name = value.as_ref().and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty());
                let name =
                    name.ok_or_else(|| ScimError::InvalidValue("`displayName` takes a text".into()))?;
                if name != current {
                    unique_role(shared, name).await?;
                    steps.extend(regroup(&current, name, &holding, &holding));
                    current = name.to_owned();
                }
            }
            ("add" | "replace", "members") => {
                let ids = members(value.as_ref().unwrap_or(&Value::Null))?;
                let mut users = Vec::with_capacity(ids.len());
                for id in ids {
                    match user_of(shared, &id).await? {
                        Ok(user) => users.push(user),
                        Err(answer) => return Ok(Err(answer)),
                    }
                }
                if op == "replace" {
                    steps.extend(regroup(&current, &current, &holding, &users));
                    holding = users;
                } else {
                    steps.extend(users.iter().map(|u| (Some(u.clone()), Change::AddRole(current.clone()))));
                    holding.extend(users);
                }
            }
            ("remove", "members") => {
                let leaving = match &value {
                    Some(v) => {
                        let mut users = Vec::new();
                        for id in members(v)? {
                            match user_of(shared, &id).await? {
                                Ok(user) => users.push(user),
                                Err(answer) => return Ok(Err(answer)),
                            }
                        }
                        users
                    }
                    None => holding.clone(),
                };
                steps.extend(leaving.iter().map(|u| (Some(u.clone()), Change::RemoveRole(current.clone()))));
                holding.retain(|h| !leaving.contains(h));
            }
            ("remove", filtered) if filtered.starts_with("members[") => {
                let id = member_filter(&given)?;
                match user_of(shared, &id).await? {
                    Ok(user) => {
                        steps.push((Some(user.clone()), Change::RemoveRole(current.clone())));
                        holding.retain(|h| *h != user);
                    }
                    Err(answer) => return Ok(Err(answer)),
                }
            }
            (_, other) if other.starts_with("members") || other == "displayname" => {
                return Err(ScimError::InvalidPath(format!(
                    "`{op}` of `{attribute}`: the gateway reads `members`, `members[value eq \"ID\"]` and a replaced `displayName`"
                )));
            }
            _ => {}
        }
    }
    Ok(Ok(steps))
}

/// The id of `members[value eq "ID"]`.
fn member_filter(path: &str) -> Result<String, ScimError> {
    let refuse = || ScimError::InvalidPath(format!("`{path}`: the gateway reads `members[value eq \"ID\"]`"));
    let inner = path.split_once('[').and_then(|(_, r)| r.strip_suffix(']')).ok_or_else(refuse)?;
    let words: Vec<&str> = inner.splitn(3, ' ').collect();
    match words.as_slice() {
        [attr, op, value] if attr.eq_ignore_ascii_case("value") && op.eq_ignore_ascii_case("eq") => {
            Ok(value.trim().trim_matches('"').to_owned())
        }
        _ => Err(refuse()),
    }
}

/// Carries the operations out, one write at a time, off the runtime
/// ([`blocking`]: the store and the service provider's calls), then logs
/// the decisions and anchors the audit log's new head.
async fn carry_out(
    shared: &Arc<Shared>,
    actor: &str,
    arrived: std::time::Instant,
    ops: Vec<Op>,
    bulk: Option<i64>,
    reason: String,
) -> Result<Outcome, ScimError> {
    let shared_for_work = shared.clone();
    let actor = actor.to_owned();
    let now = jiff::Timestamp::now();
    // Writes wait for each other here, on the runtime: a call that times
    // out while it waits is dropped before it began.
    let mut state = shared.state.clone().lock_owned().await;
    let outcome = blocking(move || {
        let shared = shared_for_work;
        let digest = crate::digest::sha256_hex_of(
            ops.iter()
                .flat_map(|op| [op.method.as_str().as_bytes(), op.path.as_bytes(), &op.body[..], &[0]])
                .chain([now.to_string().as_bytes()]),
        );
        let ctx = Context {
            actor: &actor,
            env: &shared.env,
            actions: &shared.actions,
            upstream: &shared.forwarder.upstream,
            validity: shared.validity,
            busy: shared.busy,
            now,
            bulk,
            reason,
            digest: format!("scim:{digest}"),
            deadline: arrived + shared.limits.timeout,
        };
        // A write that waited so long that its call would be answered 503
        // `timeout` before the service provider could answer it is not
        // begun: the identity provider is never told "failed" about a
        // write that then happens.
        let waited = arrived.elapsed();
        let left = shared.limits.timeout.saturating_sub(waited);
        if left <= shared.upstream.timeout() {
            return Err(ScimError::Busy(waited.as_millis()));
        }
        let ctx = Context { busy: ctx.busy.min(left.saturating_sub(shared.upstream.timeout())), ..ctx };
        let outcome = write::carry_out(&mut state, &shared.snapshot, &ctx, &ops, &shared.forwarder);
        drop(state);
        let outcome = outcome?;
        remember(&shared, &ops, &outcome);
        log(&shared, &actor, now, &outcome);
        Ok::<_, ScimError>(outcome)
    })
    .await??;
    Ok(outcome)
}

/// Runs `work`, which blocks (SQLite, the service provider's call),
/// without stalling the gateway's other calls. On a multi-thread runtime
/// (`steward gateway`'s) in place: the other tasks of this worker move to
/// another thread, and the write is not handed to a thread of the blocking
/// pool and back, two wake-ups that on a busy machine cost more than the
/// decision (docs/benchmarks.md, "SCIM gateway"). On a current-thread
/// runtime, where blocking in place would stall every call, on the
/// blocking pool.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ScimError> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        Ok(tokio::task::block_in_place(work))
    } else {
        tokio::task::spawn_blocking(work).await.map_err(|e| ScimError::Internal(e.to_string()))
    }
}

/// Keeps the ids of Users created and forgets those deleted.
fn remember(shared: &Shared, ops: &[Op], outcome: &Outcome) {
    let Ok(mut users) = shared.users.lock() else { return };
    for (op, result) in ops.iter().zip(&outcome.results) {
        let Ok(done) = result else { continue };
        for (_, change) in &op.steps {
            // The id is remembered for the new user only when the answer is
            // that user, and the id names nobody else already.
            let answer = done.answer.json();
            let answered_for = answer.as_ref().and_then(|a| mapping::user_id(a, shared.user_id));
            if let (Change::Create(new), Some(id)) = (change, answer.as_ref().and_then(write::resource_id))
                && answered_for.as_deref() == Some(new.id.as_str())
                && users.get(&id).is_none_or(|known| *known == new.id)
            {
                users.insert(id, new.id.clone());
            }
        }
        if op.method == Method::DELETE && done.fallback.is_none() {
            for (user, change) in &op.steps {
                if let (Some(user), Change::Delete) = (user, change) {
                    users.retain(|_, known| known != user);
                }
            }
        }
    }
}

/// One line per decision in the decision log, and the audit log's head in
/// the anchor file.
fn log(shared: &Shared, actor: &str, now: jiff::Timestamp, outcome: &Outcome) {
    if let (Some(anchor), Some(head)) = (&shared.anchor, &outcome.head)
        && let Err(e) = crate::directory::audit::Anchor::append(anchor, head)
    {
        (shared.notify)(&crate::server::Notice::LogFailed(format!("the audit anchor: {e}")));
    }
    let Some(log) = &shared.decision_log else { return };
    let mut lines = Vec::new();
    for decided in &outcome.decided {
        let line = serde_json::json!({
            "time": now,
            "actor": actor,
            "env": shared.env,
            "action": decided.action,
            "target": decided.target,
            "decision": if decided.outcome == crate::plan::DENIED { "deny" } else { "allow" },
            "outcome": decided.outcome,
            "rules": decided.rules,
            "forwarded": outcome.head.is_some(),
            "policy_digest": shared.policy_digest,
        });
        if serde_json::to_writer(&mut lines, &line).is_ok() {
            lines.push(b'\n');
        }
    }
    if let Err(e) = log.write(&lines) {
        (shared.notify)(&crate::server::Notice::LogFailed(e.to_string()));
    }
}

/// The answer to a single write.
fn single(outcome: Outcome) -> Result<Response, ScimError> {
    if let Some((_, e)) = outcome.refused {
        return Err(e);
    }
    if let Some((_, answer)) = outcome.upstream_refused {
        return Ok(relay(answer));
    }
    match outcome.results.into_iter().last() {
        Some(Ok(done)) => {
            let fallback = done.fallback.clone();
            let mut response = relay(done.answer);
            if let Some(fallback) = fallback
                && let Ok(value) = HeaderValue::from_str(&fallback)
            {
                response.headers_mut().insert(FALLBACK_HEADER, value);
            }
            Ok(response)
        }
        Some(Err(e)) => Err(e),
        None => Err(ScimError::Internal("nothing was carried out".into())),
    }
}

/// `POST /Bulk`: every operation decided in order as one plan (one refused
/// refuses them all, nothing forwarded), then forwarded one by one; the
/// first the service provider fails ends the bulk (RFC 7644 §3.7.3, as
/// with `failOnErrors: 1`).
async fn bulk(
    shared: &Arc<Shared>,
    actor: &str,
    arrived: std::time::Instant,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, ScimError> {
    let request = json_body(body)?;
    let message =
        request.as_object().ok_or_else(|| ScimError::InvalidSyntax("the body is not an object".into()))?;
    let named = get(message, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST))));
    if !named {
        return Err(ScimError::InvalidSyntax(format!("a bulk request's `schemas` lists `{BULK_REQUEST}`")));
    }
    let Some(Value::Array(list)) = get(message, "Operations") else {
        return Err(ScimError::InvalidSyntax("a bulk request has a list of `Operations`".into()));
    };
    if list.len() > shared.limits.batch {
        return Err(ScimError::TooLarge { limit: shared.limits.batch });
    }
    let mut ops = Vec::with_capacity(list.len());
    let mut created: Vec<(String, String)> = Vec::new();
    for (index, item) in list.iter().enumerate() {
        let item = item
            .as_object()
            .ok_or_else(|| ScimError::InvalidSyntax(format!("operation {index} is not an object")))?;
        let method = get(item, "method")
            .and_then(Value::as_str)
            .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
            .filter(|m| [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(m))
            .ok_or_else(|| {
                ScimError::InvalidSyntax(format!("operation {index}: `method` is POST, PUT, PATCH or DELETE"))
            })?;
        let path = get(item, "path")
            .and_then(Value::as_str)
            .ok_or_else(|| ScimError::InvalidSyntax(format!("operation {index} has no `path`")))?;
        if path.contains('?') {
            return Err(ScimError::InvalidPath(format!(
                "operation {index}: a bulk operation's path has no query"
            )));
        }
        let bulk_id = get(item, "bulkId").and_then(Value::as_str).map(str::to_owned);
        if method == Method::POST && bulk_id.is_none() {
            return Err(ScimError::InvalidSyntax(format!(
                "operation {index}: a POST has a `bulkId` (RFC 7644 §3.7)"
            )));
        }
        let data = get(item, "data")
            .map(|d| Bytes::from(serde_json::to_vec(d).unwrap_or_default()))
            .unwrap_or_default();
        let mut headers = headers.clone();
        headers.remove(header::CONTENT_LENGTH);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(super::error::MEDIA_TYPE));
        if let Some(version) = get(item, "version").and_then(Value::as_str)
            && let Ok(value) = HeaderValue::from_str(version)
        {
            headers.insert(header::IF_MATCH, value);
        }
        // A user this bulk creates is named by its bulkId until the
        // service provider gives it an id.
        let resolved = created.iter().find(|(reference, _)| path == format!("/Users/{reference}"));
        if resolved.is_none() && path.contains("bulkId:") {
            return Err(ScimError::InvalidPath(format!(
                "operation {index}: `{path}` names no User an operation before it creates (`/Users/bulkId:ID`)"
            )));
        }
        let op = match resolved {
            Some((_, user)) => {
                let mut op =
                    read_op_for(shared, method.clone(), path, &headers, data.clone(), bulk_id.clone(), user)
                        .await?;
                op.bulk_id = bulk_id.clone();
                Ok(op)
            }
            None => read_op(shared, method.clone(), path, &headers, data, bulk_id.clone()).await?,
        };
        let op = match op {
            Ok(op) => op,
            Err(answer) => return Ok(relay(answer)),
        };
        if let (Some(id), Some((_, Change::Create(new)))) = (&bulk_id, op.steps.first()) {
            created.push((format!("bulkId:{id}"), new.id.clone()));
        }
        ops.push(op);
    }
    let size = i64::try_from(ops.len()).unwrap_or(i64::MAX);
    let outcome =
        carry_out(shared, actor, arrived, ops.clone(), Some(size), format!("SCIM bulk of {size}")).await?;
    // One refusal refuses the whole bulk, answered as its error.
    if let Some((_, e)) = outcome.refused {
        return Err(e);
    }
    let mut answers = Vec::new();
    for (op, result) in ops.iter().zip(outcome.results) {
        match result {
            Ok(done) => answers.push(bulk_answer(
                op,
                done.answer.status,
                done.answer.json(),
                done.fallback.as_deref(),
            )),
            Err(e) => answers.push(bulk_answer(op, e.status(), Some(e.body()), None)),
        }
    }
    if let Some((index, answer)) = outcome.upstream_refused
        && let Some(op) = ops.get(index)
    {
        answers.push(bulk_answer(op, answer.status, answer.json(), None));
    }
    let body = serde_json::json!({"schemas": [BULK_RESPONSE], "Operations": answers});
    Ok((StatusCode::OK, scim_json(&body)).into_response())
}

/// A bulk operation on a user the same bulk creates: read as any write,
/// the user known by name.
async fn read_op_for(
    shared: &Arc<Shared>,
    method: Method,
    path: &str,
    headers: &HeaderMap,
    body: Bytes,
    bulk_id: Option<String>,
    user: &str,
) -> Result<Op, ScimError> {
    let source = shared.user_id;
    let asked = match method {
        Method::DELETE => mapping::Asked { changes: vec![Change::Delete], unmapped: Vec::new() },
        Method::PATCH => mapping::patched(&json_body(&body)?, user, source)?,
        _ => {
            return Err(ScimError::NotMapped(format!(
                "`{method} {path}`: a user this bulk creates is changed by PATCH or DELETE"
            )));
        }
    };
    let steps = asked.changes.into_iter().map(|c| (Some(user.to_owned()), c)).collect();
    Ok(Op { method, path: path.to_owned(), headers: headers.clone(), body, steps, bulk_id })
}

/// One operation of a bulk answer.
fn bulk_answer(op: &Op, status: StatusCode, response: Option<Value>, fallback: Option<&str>) -> Value {
    let mut answer = serde_json::json!({"method": op.method.as_str(), "status": status.as_u16().to_string()});
    if let Some(map) = answer.as_object_mut() {
        if let Some(id) = &op.bulk_id {
            map.insert("bulkId".into(), id.clone().into());
        }
        if let Some(location) = response.as_ref().and_then(|r| r.pointer("/meta/location")).cloned() {
            map.insert("location".into(), location);
        }
        if let Some(version) = response.as_ref().and_then(|r| r.pointer("/meta/version")).cloned() {
            map.insert("version".into(), version);
        }
        if !status.is_success()
            && let Some(response) = response
        {
            map.insert("response".into(), response);
        }
        if let Some(fallback) = fallback {
            map.insert(FALLBACK_HEADER.into(), fallback.into());
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::blocking;

    /// Blocking in place is what a multi-thread runtime allows; on a
    /// current-thread one it would panic, so the work goes to the pool.
    #[test]
    fn blocking_work_runs_on_either_runtime_flavor() {
        let current = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert_eq!(current.block_on(blocking(|| 1 + 1)).unwrap(), 2);
        let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let on_a_worker =
            multi.block_on(async { tokio::spawn(blocking(|| std::thread::current().id())).await });
        assert!(on_a_worker.unwrap().is_ok());
    }
}
