//! A write, carried out: decided under the store's write lock, forwarded
//! to the service provider while the lock is held, and written to steward's
//! directory and audit log in the same transaction once the service
//! provider answered success. A refusal forwards nothing; a failure or a
//! timeout of the service provider writes nothing here. No other writer
//! (`apply`, `sync --apply`, a second gateway) can change the directory
//! between the decision and the write.
//!
//! The directory stays in memory between writes; the store's generation
//! tells whether another writer came between, and then it is read again
//! inside the transaction, as every writer decides over what it read
//! under the lock.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use jiff::{SignedDuration, Timestamp};

use super::Actions;
use super::error::ScimError;
use super::mapping::{Change, NewUser, PATCH_OP};
use super::upstream::{Answer, Upstream};
use crate::Engine;
use crate::directory::audit::{Change as AuditChange, Head};
use crate::directory::model::{Account, Attrs, User};
use crate::directory::mutation::Mutation;
use crate::directory::store::Store;
use crate::plan::{DENIED, PlanItem, Staged, Walked, Walking};
use crate::policy::Request;
use crate::schema::{ActionDecl, Effect, ValueKind};

/// What the writes share: the store, and the engine over the directory
/// as it stood after the last write (`generation`: the store's then;
/// `None`: read it again).
pub(crate) struct State {
    pub store: Store,
    pub engine: Engine,
    pub generation: Option<i64>,
}

/// How a write is asked: by whom, where, at what time.
pub(crate) struct Context<'a> {
    pub actor: &'a str,
    pub env: &'a str,
    pub actions: &'a Actions,
    pub upstream: &'a Upstream,
    pub validity: SignedDuration,
    pub busy: Duration,
    pub now: Timestamp,
    /// Part of a `/Bulk` of this many operations.
    pub bulk: Option<i64>,
    /// What the audit entries record as their reason and plan digest.
    pub reason: String,
    pub digest: String,
    /// When the call is answered `timeout`: no operation is forwarded that
    /// the service provider might not answer before it.
    pub deadline: std::time::Instant,
}

/// One SCIM write: what it asks of steward, and the call that carries it
/// to the service provider.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub method: Method,
    /// Below the base URL, with the query: `/Users/2819c223`.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// What it asks, user by user: `None` for the user a creation before
    /// it in the same operation made.
    pub steps: Vec<(Option<String>, Change)>,
    /// A `/Bulk` operation's `bulkId`: later operations name what it
    /// creates as `bulkId:ID`, replaced by the service provider's id.
    pub bulk_id: Option<String>,
}

/// What one operation came to.
#[derive(Debug, Clone)]
pub(crate) struct Done {
    /// The service provider's answer.
    pub answer: Answer,
    /// The action carried out instead of the one asked (a deletion that
    /// falls back to a deactivation, P3).
    pub fallback: Option<String>,
}

/// One decision, for the decision log.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Decided {
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub rules: Vec<String>,
}

/// What a write came to: per operation, in order, its answer or why it
/// stopped there (the rest were not attempted); the decisions; the audit
/// log's head when something was written.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub results: Vec<Result<Done, ScimError>>,
    pub decided: Vec<Decided>,
    pub head: Option<Head>,
    /// The service provider's own refusal of an operation (its status and
    /// body are answered as they are).
    pub upstream_refused: Option<(usize, Answer)>,
    /// The operation steward refused, before anything was forwarded.
    pub refused: Option<(usize, ScimError)>,
}

/// An audit entry to write: the action, the target, the outcome.
type Note = (String, String, String);

/// An operation decided: what to write, what to forward.
struct Planned {
    mutations: Vec<Mutation>,
    notes: Vec<Note>,
    forward: Forward,
    fallback: Option<String>,
}

/// What is sent to the service provider.
enum Forward {
    /// The identity provider's call, unchanged.
    AsIs,
    /// A deletion carried out as a deactivation (P3): `PATCH active=false`.
    Deactivate,
}

/// Why nothing is written: a refusal before anything was forwarded, or the
/// service provider's failure of the first operation.
enum Stop {
    Refused(usize, ScimError, Vec<Decided>),
    Failed(Box<Failed>),
    Store(crate::directory::Error),
}

/// The first operation failed at the service provider.
struct Failed {
    results: Vec<Result<Done, ScimError>>,
    upstream_refused: Option<(usize, Answer)>,
    decided: Vec<Decided>,
}

impl From<crate::directory::Error> for Stop {
    fn from(e: crate::directory::Error) -> Self {
        Stop::Store(e)
    }
}

/// What writes are forwarded with: a client of their own on a runtime of
/// their own, driven by the thread that carries the write out (under the
/// state lock, so by one thread at a time). The write's call to the
/// service provider then runs on that thread: no hand-off of its I/O to the
/// runtime's workers and back, which on a busy machine cost more than the
/// decision (docs/benchmarks.md, "SCIM gateway"). A client of its own
/// that keeps no idle connection ([`Upstream::unpooled`]): a connection is
/// driven only while this runtime runs a call, and one the service
/// provider closed in between would swallow the next write.
pub(crate) struct Forwarder {
    runtime: Option<tokio::runtime::Runtime>,
    /// The service provider, as writes reach it.
    pub(crate) upstream: Upstream,
}

impl Forwarder {
    /// A forwarder to `upstream`.
    pub(crate) fn new(upstream: Upstream) -> std::io::Result<Forwarder> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Forwarder { runtime: Some(runtime), upstream })
    }

    /// Runs `call` to its end on this thread.
    fn run<F: std::future::Future>(&self, call: F) -> Option<F::Output> {
        self.runtime.as_ref().map(|runtime| runtime.block_on(call))
    }
}

impl Drop for Forwarder {
    // Dropped where blocking is not allowed (the gateway's last handler on
    // a worker): the runtime is let go without waiting for it.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Carries out `ops` in order: all decided first (one refused refuses the
/// whole write: nothing is forwarded), then forwarded one by one; the first
/// the service provider fails stops the rest. What the service provider
/// did is written here, in one transaction.
pub(crate) fn carry_out(
    state: &mut State,
    snapshot: &Mutex<Engine>,
    ctx: &Context<'_>,
    ops: &[Op],
    forwarder: &Forwarder,
) -> Result<Outcome, ScimError> {
    let State { store, engine, generation } = state;
    let mut stale = false;
    let written = store.write_locked_since(ctx.busy, *generation, |fresh, locked| {
        if let Some(directory) = fresh {
            // Held to the schema, as every load of a database is.
            let directory = crate::directory::conform::directory(engine.policies().schema(), directory)
                .map_err(|problems| {
                    Stop::Refused(
                        0,
                        ScimError::Internal(format!(
                            "steward's directory no longer fits the policy set's schema: {}",
                            problems.join("; ")
                        )),
                        Vec::new(),
                    )
                })?;
            *engine = Engine::new(engine.policies().clone(), directory);
            *generation = Some(locked.generation()?);
        }
        // Each operation decided over the directory the ones before leave;
        // what the last one leaves is never built (see `advance`).
        let mut at = Staged::new(engine.shared());
        let mut planned = Vec::with_capacity(ops.len());
        let mut decided = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            match plan(&mut at, ctx, op, &mut decided) {
                Ok(p) => planned.push(p),
                Err(e) => return Err(Stop::Refused(index, e, decided)),
            }
        }
        drop(at);
        let mut results = Vec::with_capacity(ops.len());
        let mut mutations = Vec::new();
        let mut audit = Vec::new();
        let mut refused = None;
        let mut bulk_ids: Vec<(String, String)> = Vec::new();
        for (index, (op, p)) in ops.iter().zip(planned).enumerate() {
            if std::time::Instant::now() + ctx.upstream.timeout() >= ctx.deadline {
                results.push(Err(ScimError::Busy(0)));
                break;
            }
            let (method, body) = match p.forward {
                Forward::AsIs => (op.method.clone(), with_ids(&op.body, &bulk_ids)),
                Forward::Deactivate => (Method::PATCH, deactivation()),
            };
            let path = path_with_ids(&op.path, &bulk_ids);
            let mut headers = op.headers.clone();
            if matches!(p.forward, Forward::Deactivate) {
                headers.insert(
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderValue::from_static(super::error::MEDIA_TYPE),
                );
            }
            let sent = forwarder
                .run(forwarder.upstream.send(method, &path, &headers, body))
                .unwrap_or_else(|| Err(ScimError::Internal("the gateway is stopping".into())));
            match sent {
                Ok(answer) if answer.succeeded() => {
                    if let (Some(bulk_id), Some(id)) =
                        (&op.bulk_id, answer.json().as_ref().and_then(resource_id))
                    {
                        bulk_ids.push((format!("bulkId:{bulk_id}"), id));
                    }
                    mutations.extend(p.mutations);
                    audit.extend(p.notes.into_iter().map(|(action, target, outcome)| AuditChange {
                        at: ctx.now,
                        actor: ctx.actor.to_owned(),
                        action,
                        target,
                        env: ctx.env.to_owned(),
                        outcome,
                        reason: ctx.reason.clone(),
                        plan_digest: ctx.digest.clone(),
                    }));
                    results.push(Ok(Done { answer, fallback: p.fallback }));
                }
                Ok(answer) => {
                    refused = Some((index, answer));
                    break;
                }
                Err(e) => {
                    results.push(Err(e));
                    break;
                }
            }
        }
        if !results.iter().any(Result::is_ok) {
            return Err(Stop::Failed(Box::new(Failed { results, upstream_refused: refused, decided })));
        }
        // Stopped half-way, what was written is not all that was planned
        // over: the directory is read again next time.
        stale = refused.is_some() || results.len() < ops.len() || results.iter().any(Result::is_err);
        let written = mutations.clone();
        Ok((mutations, audit, (results, refused, decided, written)))
    });
    let outcome = match written {
        Ok(((results, upstream_refused, decided, written), head, after)) => {
            // Should the change in memory be cut short, the directory is
            // read again by the next write rather than trusted.
            *generation = None;
            advance(engine, snapshot, &written);
            *generation = (!stale).then_some(after);
            Ok(Outcome { results, decided, head, upstream_refused, refused: None })
        }
        Err(Stop::Refused(index, e, decided)) => Ok(Outcome {
            results: Vec::new(),
            decided,
            head: None,
            upstream_refused: None,
            refused: Some((index, e)),
        }),
        Err(Stop::Failed(failed)) => {
            let Failed { results, upstream_refused, decided } = *failed;
            Ok(Outcome { results, decided, head: None, upstream_refused, refused: None })
        }
        Err(Stop::Store(e)) => {
            // The transaction was rolled back, after the directory may have
            // been read into `engine`: read it again next time.
            *generation = None;
            Err(ScimError::Internal(crate::server::error::chain(&e)))
        }
    };
    // The writes to come look users up in the directory held now (read
    // again inside the transaction when another writer came between).
    if let Ok(mut held) = snapshot.lock() {
        *held = engine.shared();
    }
    outcome
}

/// Applies what a write committed to the engine the writes share, where
/// it lies. The snapshot the writes read users from lets go of it
/// meanwhile (they wait on its lock), so that nothing else shares the
/// directory and it is not copied whole for every write (docs/benchmarks.md,
/// "SCIM gateway").
fn advance(engine: &mut Engine, snapshot: &Mutex<Engine>, mutations: &[Mutation]) {
    if mutations.is_empty() {
        return;
    }
    match snapshot.lock() {
        Ok(mut held) => {
            *held = engine.with_directory(crate::directory::Directory::default());
            engine.mutate(mutations);
            *held = engine.shared();
        }
        Err(_) => engine.mutate(mutations),
    }
}

/// The `id` of a resource the service provider answered with.
pub(crate) fn resource_id(resource: &serde_json::Value) -> Option<String> {
    resource.get("id").and_then(serde_json::Value::as_str).map(str::to_owned)
}

/// `path` with a `bulkId:X` of an operation before replaced by the id the
/// service provider gave what it created (RFC 7644 §3.7.2), where it is the
/// whole last segment (`/Users/bulkId:X`, the only form a bulk takes).
fn path_with_ids(path: &str, ids: &[(String, String)]) -> String {
    for (reference, id) in ids {
        if let Some(resource) = path.strip_suffix(reference.as_str()).and_then(|r| r.strip_suffix('/'))
            && (resource == "/Users" || resource == "/Groups")
        {
            return format!("{resource}/{id}");
        }
    }
    path.to_owned()
}

/// `body` with each `value` that is a `bulkId:X` reference (a member, a
/// manager) replaced by the id it stands for; nothing else is touched.
fn with_ids(body: &Bytes, ids: &[(String, String)]) -> Bytes {
    fn walk(value: &mut serde_json::Value, ids: &[(String, String)]) {
        match value {
            serde_json::Value::Object(map) => {
                // A PATCH operation's own `value` is the attribute's new
                // value (a name that reads `bulkId:x`), not a reference.
                let operation = map.keys().any(|k| k.eq_ignore_ascii_case("op"));
                for (key, inner) in map.iter_mut() {
                    if !operation
                        && key.eq_ignore_ascii_case("value")
                        && let serde_json::Value::String(text) = inner
                        && let Some((_, id)) = ids.iter().find(|(reference, _)| reference == text)
                    {
                        *text = id.clone();
                    } else {
                        walk(inner, ids);
                    }
                }
            }
            serde_json::Value::Array(list) => list.iter_mut().for_each(|v| walk(v, ids)),
            _ => {}
        }
    }
    if ids.is_empty() {
        return body.clone();
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else { return body.clone() };
    walk(&mut value, ids);
    serde_json::to_vec(&value).map(Bytes::from).unwrap_or_else(|_| body.clone())
}

/// The PATCH body of a deactivation.
fn deactivation() -> Bytes {
    let body = serde_json::json!({
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "active", "value": false}],
    });
    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

/// Decides every change of `op` in order, each over the directory the ones
/// before leave.
fn plan(
    at: &mut Staged,
    ctx: &Context<'_>,
    op: &Op,
    decided: &mut Vec<Decided>,
) -> Result<Planned, ScimError> {
    let mut out =
        Planned { mutations: Vec::new(), notes: Vec::new(), forward: Forward::AsIs, fallback: None };
    let mut created = None;
    for (user, change) in &op.steps {
        let current = at.engine().shared();
        if let Change::Create(new) = change {
            let (mutations, note) = create(&current, ctx, new, decided)?;
            at.stage(&mutations);
            out.mutations.extend(mutations);
            out.notes.push(note);
            created = Some(new.id.clone());
            if !new.active {
                drop(current);
                let current = at.engine().shared();
                let walked = walk(&current, ctx, &ctx.actions.deactivate, &new.id, None, decided)?;
                take(at, &mut out, walked);
            }
            continue;
        }
        let who = user
            .clone()
            .or_else(|| created.clone())
            .ok_or_else(|| ScimError::Internal("a change without a user".into()))?;
        let directory = current.directory();
        let account = directory.account(&who, ctx.env).ok_or_else(|| {
            ScimError::NotFound(format!(
                "`{who}` has no account in `{}` in steward's directory; import the service provider's users first (steward import --format scim)",
                ctx.env
            ))
        })?;
        let schema = current.policies().schema();
        let (action, value, roles) = match change {
            Change::Create(_) => continue,
            Change::Delete => (&ctx.actions.delete, None, None),
            Change::Active(active) => {
                if schema.login(&account.status) == *active {
                    continue;
                }
                let action = if *active { &ctx.actions.activate } else { &ctx.actions.deactivate };
                (action, None, None)
            }
            Change::Email(email) if account.email.as_deref() == Some(email) => continue,
            Change::Email(email) => (&ctx.actions.email, Some(email.clone()), None),
            Change::Name(name) if account.name == *name => continue,
            Change::Name(name) => (&ctx.actions.name, Some(name.clone()), None),
            Change::AddRole(role) | Change::RemoveRole(role) => {
                let adding = matches!(change, Change::AddRole(_));
                if account.has_role(role) == adding {
                    continue;
                }
                let Some(action) = (if adding { &ctx.actions.add_role } else { &ctx.actions.remove_role })
                else {
                    return Err(ScimError::NotMapped(format!(
                        "no action is configured for {} a Group (gateway.actions.{} in steward.yaml)",
                        if adding { "joining" } else { "leaving" },
                        if adding { "add_role" } else { "remove_role" },
                    )));
                };
                let mut roles = account.roles.clone();
                if adding {
                    roles.push(role.clone());
                } else {
                    roles.retain(|r| r != role);
                }
                (action, Some(role.clone()), Some(roles))
            }
        };
        let walked = walk(&current, ctx, action, &who, value, decided)?;
        let outcome = walked.items.last().map(|i| i.outcome.clone()).unwrap_or_default();
        if matches!(change, Change::Delete) && outcome != *action {
            if outcome != ctx.actions.deactivate {
                return Err(ScimError::NotMapped(format!(
                    "deleting `{who}` falls back to `{outcome}`, which has no SCIM form; do it with steward plan and apply"
                )));
            }
            out.forward = Forward::Deactivate;
            out.fallback = Some(outcome);
        }
        take(at, &mut out, walked);
        if let Some(roles) = roles {
            let set = Mutation::SetRoles { user: who.clone(), env: ctx.env.to_owned(), roles };
            at.stage(std::slice::from_ref(&set));
            out.mutations.push(set);
        }
    }
    Ok(out)
}

/// Adds what a walk decided to `out`, its changes staged on `at`.
fn take(at: &mut Staged, out: &mut Planned, walked: Walked) {
    at.stage(&walked.mutations);
    out.mutations.extend(walked.mutations);
    out.notes.extend(walked.notes.into_iter().map(|n| (n.action, n.target, n.outcome)));
}

/// Decides `action` on `user` as a plan of one item decides it (the
/// fallback, the new owners of what they own), asked as the identity
/// provider asked it.
fn walk(
    engine: &Engine,
    ctx: &Context<'_>,
    action: &str,
    user: &str,
    value: Option<String>,
    decided: &mut Vec<Decided>,
) -> Result<Walked, ScimError> {
    let schema = engine.policies().schema();
    let spec =
        schema.action(action).ok_or_else(|| ScimError::Internal(format!("`{action}` is not an action")))?;
    let value = value.filter(|_| spec.value != ValueKind::None);
    let reassign = BTreeMap::new();
    let how = Walking {
        actor: ctx.actor,
        spec,
        reason: &ctx.reason,
        now: ctx.now,
        written: ctx.now,
        validity: ctx.validity,
        reassign: &reassign,
        deadline: None,
        bulk: ctx.bulk.is_some(),
        confirm: false,
        batch: ctx.bulk,
    };
    let item = crate::plan::Item { user: user.to_owned(), env: ctx.env.to_owned(), value, error: None };
    let walked = engine.walk(&how, vec![item]).map_err(|e| ScimError::InvalidValue(e.to_string()))?;
    let Some(item) = walked.items.last() else {
        return Err(ScimError::Internal(format!("`{action}` of `{user}` was not decided")));
    };
    decided.push(Decided {
        action: action.to_owned(),
        target: user.to_owned(),
        outcome: item.outcome.clone(),
        rules: item.rules.clone(),
    });
    if item.outcome == DENIED {
        return Err(ScimError::Denied(refusal(action, user, ctx.env, item)));
    }
    if !walked.unowned.is_empty() {
        return Err(ScimError::NeedsOwner(format!(
            "`{action}` of `{user}` leaves {} without an owner and the policy names no default one; reassign {} first (steward plan --reassign, then apply)",
            walked.unowned.join(", "),
            if walked.unowned.len() == 1 { "it" } else { "them" },
        )));
    }
    Ok(walked)
}

/// A refusal in words: the action, the rules, their reasons.
fn refusal(action: &str, user: &str, env: &str, item: &PlanItem) -> String {
    let rules = item.rules.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ");
    let mut text = format!("`{action}` of `{user}` in `{env}` is denied by {rules}");
    if !item.reasons.is_empty() {
        text.push_str(": ");
        text.push_str(&item.reasons.join("; "));
    }
    text
}

/// Decides the creation of `new` (the configured `create` action, asked for
/// its address) and what it writes: the user when steward does not know
/// them, and their account.
fn create(
    engine: &Engine,
    ctx: &Context<'_>,
    new: &NewUser,
    decided: &mut Vec<Decided>,
) -> Result<(Vec<Mutation>, Note), ScimError> {
    let Some(action) = &ctx.actions.create else {
        return Err(ScimError::NotMapped(
            "no action creates users through the gateway: name one in gateway.actions.create of steward.yaml (an action `on addresses` that `creates` a status)".into(),
        ));
    };
    let schema = engine.policies().schema();
    let spec: &ActionDecl =
        schema.action(action).ok_or_else(|| ScimError::Internal(format!("`{action}` is not an action")))?;
    let Some(Effect::Create(status)) = &spec.effect else {
        return Err(ScimError::Internal(format!("`{action}` creates nothing")));
    };
    let directory = engine.directory();
    if directory.account(&new.id, ctx.env).is_some() {
        return Err(ScimError::Uniqueness(format!("`{}` has an account in `{}` already", new.id, ctx.env)));
    }
    // The action is decided for the new account's address; a User without
    // one (SCIM does not require it) is decided for its user id instead,
    // so that a rule on addresses fails closed rather than being skipped.
    let address = new.email.clone().unwrap_or_else(|| new.id.clone());
    let request = Request {
        actor: ctx.actor.to_owned(),
        action: action.clone(),
        emails: vec![address],
        env: ctx.env.to_owned(),
        reason: Some(ctx.reason.clone()),
        bulk: ctx.bulk.is_some(),
        batch_size: ctx.bulk,
        now: Some(ctx.now),
        ..Request::default()
    };
    let verdict =
        engine.decide(&request).map_err(|e| ScimError::Denied(format!("`{action}` of `{}`: {e}", new.id)))?;
    let rules: Vec<String> = verdict.report.rules.iter().map(|r| r.id.clone()).collect();
    let outcome = if verdict.allowed() { action.clone() } else { DENIED.to_owned() };
    decided.push(Decided {
        action: action.clone(),
        target: new.id.clone(),
        outcome: outcome.clone(),
        rules: rules.clone(),
    });
    if !verdict.allowed() {
        let item = PlanItem {
            target: new.id.clone(),
            env: ctx.env.to_owned(),
            value: None,
            outcome,
            rules,
            reasons: verdict.report.reasons,
            impact: None,
        };
        return Err(ScimError::Denied(refusal(action, &new.id, ctx.env, &item)));
    }
    let mut mutations = Vec::with_capacity(2);
    if directory.user(&new.id).is_none() {
        mutations.push(Mutation::CreateUser(User {
            id: new.id.as_str().into(),
            home: ctx.env.into(),
            attrs: Attrs::default(),
        }));
    }
    mutations.push(Mutation::CreateAccount(Account {
        user: new.id.as_str().into(),
        env: ctx.env.into(),
        status: status.as_str().into(),
        kind: schema.default_account_kind().into(),
        name: new.name.clone(),
        email: new.email.clone(),
        roles: Vec::new(),
        invited_until: schema.expires(status).then(|| ctx.now.checked_add(ctx.validity).unwrap_or(ctx.now)),
        attrs: Attrs::default(),
    }));
    Ok((mutations, (action.clone(), new.id.clone(), action.clone())))
}
