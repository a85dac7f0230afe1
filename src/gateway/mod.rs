//! The SCIM gateway behind `steward gateway`: the identity provider
//! provisions through it, and it forwards to the real service provider
//! only what the policy allows (docs/scim.md).
//!
//! A process of its own, not a part of `steward serve`: serve only
//! decides and never writes, while the gateway is a writer, like `apply`:
//! every write it forwards is decided under the store's write lock and
//! written to steward's directory and audit log in the same transaction,
//! after the service provider answered success. Keeping the two apart
//! keeps serve's promise (it cannot change anything) checkable.
//!
//! The endpoints are those of RFC 7644 under `/scim/v2`: `Users`, `Groups`
//! and `Bulk` are decided; every `GET` passes through; any other write is
//! refused, never forwarded unseen.

pub mod error;
pub mod mapping;
mod routes;
mod upstream;
mod write;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::SignedDuration;

pub use error::ScimError;

use crate::Engine;
use crate::diagnostic::did_you_mean;
use crate::directory::scim::IdSource;
use crate::directory::store::Store;
use crate::schema::{ActionDecl, Effect, Schema, Setting, Subject};
use crate::server::{DecisionLog, Limits, Notice, Notify, ServeError};

/// A provisioning client: its bearer token and the steward user it acts
/// as (an account of the gateway's environment), so that packs say what
/// the identity provider may do.
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    /// The bearer token it sends.
    pub token: String,
    /// The steward user it acts as.
    pub actor: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("token", &"…").field("actor", &self.actor).finish()
    }
}

/// The actions steward.yaml names for each kind of SCIM write; `None`:
/// chosen from the schema's declarations ([`Actions::resolve`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActionNames {
    /// `POST /Users`.
    pub create: Option<String>,
    /// `DELETE /Users/{id}`.
    pub delete: Option<String>,
    /// `active` set to false.
    pub deactivate: Option<String>,
    /// `active` set to true.
    pub activate: Option<String>,
    /// The primary e-mail address changed.
    pub email: Option<String>,
    /// The display name changed.
    pub name: Option<String>,
    /// Added to a Group.
    pub add_role: Option<String>,
    /// Removed from a Group.
    pub remove_role: Option<String>,
}

/// The actions each kind of SCIM write is decided as, checked against the
/// schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actions {
    /// `POST /Users`; none: creation is refused.
    pub create: Option<String>,
    /// `DELETE`.
    pub delete: String,
    /// `active: false`.
    pub deactivate: String,
    /// `active: true`.
    pub activate: String,
    /// A new primary e-mail address.
    pub email: String,
    /// A new display name.
    pub name: String,
    /// Joining a Group; none: membership changes are refused.
    pub add_role: Option<String>,
    /// Leaving a Group.
    pub remove_role: Option<String>,
}

impl Actions {
    /// The actions `names` gives, each checked (declared, on an account,
    /// and carried out by apply where steward's directory must follow),
    /// the others chosen from the schema by what they do: the one action
    /// that removes an account from any status; the one that moves an
    /// account that may log in to a status that cannot (and back, from a
    /// status that is no invitation); the ones that set the e-mail address
    /// and the name; for creation, the one `on addresses` that creates a
    /// status that may log in and does not expire. Group membership has no
    /// declared effect, so its actions are named or left out.
    pub fn resolve(schema: &Schema, names: &ActionNames) -> Result<Actions, String> {
        let login = |s: &str| schema.login(s);
        let pick = |key: &str,
                    given: &Option<String>,
                    subject: Subject,
                    fits: &dyn Fn(&ActionDecl) -> bool| {
            let candidates = schema.actions.iter().filter(|a| a.subject == subject);
            match given {
                Some(name) => {
                    let Some(action) = schema.action(name) else {
                        let hint = did_you_mean(name, schema.actions.iter().map(|a| a.name.as_str()))
                            .map(|m| format!(" (did you mean `{m}`?)"))
                            .unwrap_or_default();
                        return Err(format!(
                            "gateway.actions.{key}: `{name}` is not an action of the schema{hint}"
                        ));
                    };
                    if action.subject != subject {
                        return Err(format!(
                            "gateway.actions.{key}: `{name}` acts on {}, and {key} takes an action on {}",
                            action.subject.as_str(),
                            subject.as_str()
                        ));
                    }
                    if !fits(action) {
                        return Err(format!(
                            "gateway.actions.{key}: `{name}` does not do what {key} means (docs/scim.md)"
                        ));
                    }
                    Ok(Some(name.clone()))
                }
                None => {
                    let fitting: Vec<&str> =
                        candidates.filter(|a| fits(a)).map(|a| a.name.as_str()).collect();
                    match fitting.as_slice() {
                        [one] => Ok(Some((*one).to_owned())),
                        [] => Ok(None),
                        many => Err(format!(
                            "gateway.actions.{key}: more than one action of the schema fits ({}); name one",
                            many.join(", ")
                        )),
                    }
                }
            }
        };
        let required = |key: &str, found: Option<String>| {
            found.ok_or_else(|| format!("gateway.actions.{key}: no action of the schema fits; name one"))
        };
        let sets =
            |a: &ActionDecl, what: &Setting| matches!(&a.effect, Some(Effect::Set(s)) if s.contains(what));
        let moves = |a: &ActionDecl, to_login: bool| match &a.effect {
            Some(Effect::Move(to)) => {
                login(to) == to_login
                    && !schema.expires(to)
                    && a.from.iter().any(|from| login(from) != to_login && !schema.expires(from))
            }
            _ => false,
        };
        let any = |_: &ActionDecl| true;
        Ok(Actions {
            create: pick(
                "create",
                &names.create,
                Subject::Addresses,
                &|a| matches!(&a.effect, Some(Effect::Create(s)) if login(s) && (names.create.is_some() || !schema.expires(s))),
            )?,
            delete: required(
                "delete",
                pick("delete", &names.delete, Subject::Account, &|a| {
                    matches!(a.effect, Some(Effect::Remove)) && (names.delete.is_some() || a.from.is_empty())
                })?,
            )?,
            deactivate: required(
                "deactivate",
                pick("deactivate", &names.deactivate, Subject::Account, &|a| moves(a, false))?,
            )?,
            activate: required(
                "activate",
                pick("activate", &names.activate, Subject::Account, &|a| moves(a, true))?,
            )?,
            email: required(
                "email",
                pick("email", &names.email, Subject::Account, &|a| sets(a, &Setting::Email))?,
            )?,
            name: required(
                "name",
                pick("name", &names.name, Subject::Account, &|a| sets(a, &Setting::Name))?,
            )?,
            add_role: match &names.add_role {
                Some(_) => pick("add_role", &names.add_role, Subject::Account, &any)?,
                None => None,
            },
            remove_role: match &names.remove_role {
                Some(_) => pick("remove_role", &names.remove_role, Subject::Account, &any)?,
                None => None,
            },
        })
    }
}

/// Whether attributes steward does not decide on pass through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unmapped {
    /// Forwarded with the write (a title, a phone number).
    #[default]
    Forward,
    /// The write is refused.
    Refuse,
}

/// How the gateway runs.
#[derive(Clone)]
pub struct Options {
    /// The service provider's base URL (`http://127.0.0.1:8000/scim/v2`).
    pub upstream: String,
    /// The bearer token sent to the service provider.
    pub upstream_token: Option<String>,
    /// How long the service provider may take to answer.
    pub upstream_timeout: Duration,
    /// The environment of steward's directory the service provider is.
    pub env: String,
    /// Which SCIM attribute is the steward user id (as the import read it).
    pub user_id: IdSource,
    /// The provisioning clients.
    pub clients: Vec<Client>,
    /// The actions each write is decided as.
    pub actions: ActionNames,
    /// Whether attributes outside the mapping pass through.
    pub unmapped: Unmapped,
    /// Size, time and connection limits (those of `steward serve`).
    pub limits: Limits,
    /// Where to append one JSON line per decision.
    pub decision_log: Option<PathBuf>,
    /// The audit anchor each signed head is appended to.
    pub anchor: Option<PathBuf>,
    /// How long an invitation a creation sends is valid (Q3).
    pub invitation_validity: SignedDuration,
    /// How long to wait for another writer of the database.
    pub busy_timeout: Duration,
    /// Where notices go.
    pub notify: Notify,
}

impl Options {
    /// Defaults for the service provider at `upstream`, standing for `env`.
    pub fn new(upstream: impl Into<String>, env: impl Into<String>) -> Self {
        Options {
            upstream: upstream.into(),
            upstream_token: None,
            upstream_timeout: Duration::from_secs(10),
            env: env.into(),
            user_id: IdSource::UserName,
            clients: Vec::new(),
            actions: ActionNames::default(),
            unmapped: Unmapped::Forward,
            limits: Limits::default(),
            decision_log: None,
            anchor: None,
            invitation_validity: crate::operation::DEFAULT_INVITATION_VALIDITY,
            busy_timeout: Duration::from_secs(30),
            notify: Arc::new(|_| {}),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("upstream", &self.upstream)
            .field("upstream_token", &self.upstream_token.as_ref().map(|_| "…"))
            .field("env", &self.env)
            .field("clients", &self.clients)
            .field("actions", &self.actions)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Why the gateway does not start.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum GatewayError {
    /// The address, the log or the socket.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The configuration does not fit the policy set or the directory.
    #[error("{0}")]
    Config(String),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] crate::directory::Error),
}

/// What every handler shares.
struct Shared {
    /// The store and the engine, one write at a time. An async lock: a
    /// write that waits for another holds no thread meanwhile (only the
    /// one that holds it blocks its worker, see `routes::blocking`).
    state: Arc<tokio::sync::Mutex<write::State>>,
    /// Reads, and what writes ask before they are decided.
    upstream: upstream::Upstream,
    /// The writes themselves.
    forwarder: write::Forwarder,
    env: String,
    user_id: IdSource,
    clients: Vec<Client>,
    actions: Actions,
    unmapped: Unmapped,
    limits: Limits,
    in_flight: Arc<tokio::sync::Semaphore>,
    decision_log: Option<DecisionLog>,
    anchor: Option<PathBuf>,
    validity: SignedDuration,
    busy: Duration,
    notify: Notify,
    policy_digest: String,
    /// SCIM ids of Users, as the service provider gave them: the steward
    /// user id of each.
    users: Mutex<HashMap<String, String>>,
    /// The engine after the last write, for what a call is read against
    /// before its turn (a PUT's account); locked only to copy it, never
    /// while a write waits on the service provider.
    snapshot: Mutex<Engine>,
}

/// A bound gateway, ready to run.
pub struct Gateway {
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("listener", &self.listener).finish()
    }
}

impl Gateway {
    /// Binds `addr` to stand in front of `options.upstream` for `store`,
    /// whose directory `engine` decides over (read with
    /// [`Store::load_at`], at `generation`).
    pub async fn bind(
        addr: &str,
        store: Store,
        engine: Engine,
        generation: i64,
        options: Options,
    ) -> Result<Gateway, GatewayError> {
        let actions =
            Actions::resolve(engine.policies().schema(), &options.actions).map_err(GatewayError::Config)?;
        check_clients(&engine, &options)?;
        if options.upstream_timeout >= options.limits.timeout {
            return Err(GatewayError::Config(format!(
                "the service provider's timeout ({} ms) must be shorter than a call's ({} ms): a write could never finish in time",
                options.upstream_timeout.as_millis(),
                options.limits.timeout.as_millis()
            )));
        }
        let upstream = upstream::Upstream::new(
            &options.upstream,
            options.upstream_token.as_deref(),
            options.upstream_timeout,
        )
        .map_err(GatewayError::Config)?;
        let forwarder = write::Forwarder::new(upstream.unpooled())
            .map_err(|e| GatewayError::Config(format!("the runtime writes are forwarded on: {e}")))?;
        let addr_parsed: SocketAddr = addr.parse().map_err(|_| ServeError::Address(addr.to_owned()))?;
        let listener = tokio::net::TcpListener::bind(addr_parsed)
            .await
            .map_err(|source| ServeError::Bind { addr: addr.to_owned(), source })?;
        let decision_log = options.decision_log.as_deref().map(DecisionLog::open).transpose()?;
        let policy_digest = engine.policies().digest().to_owned();
        let snapshot = Mutex::new(engine.shared());
        let state = write::State { store, engine, generation: Some(generation) };
        let shared = Arc::new(Shared {
            state: Arc::new(tokio::sync::Mutex::new(state)),
            upstream,
            forwarder,
            env: options.env,
            user_id: options.user_id,
            clients: options.clients,
            actions,
            unmapped: options.unmapped,
            limits: options.limits,
            in_flight: Arc::new(tokio::sync::Semaphore::new(
                options.limits.in_flight.min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
            decision_log,
            anchor: options.anchor,
            validity: options.invitation_validity,
            busy: options.busy_timeout,
            notify: options.notify,
            policy_digest,
            users: Mutex::new(HashMap::new()),
            snapshot,
        });
        Ok(Gateway { listener, shared })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The actions each kind of write is decided as.
    pub fn actions(&self) -> &Actions {
        &self.shared.actions
    }

    /// Serves until `shutdown` completes, then lets the calls in flight finish.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), GatewayError> {
        let notify = self.shared.notify.clone();
        notify(&Notice::Listening(self.local_addr()));
        let limits = self.shared.limits;
        let app = routes::router(self.shared);
        crate::server::connection::serve(self.listener, app, limits, notify, shutdown).await;
        Ok(())
    }
}

/// Every client has a token of its own and acts through an account of the
/// environment; the environment is steward's.
fn check_clients(engine: &Engine, options: &Options) -> Result<(), GatewayError> {
    let directory = engine.directory();
    let refuse = |text: String| Err(GatewayError::Config(text));
    if directory.environment(&options.env).is_none() {
        let hint = did_you_mean(&options.env, directory.environments().iter().map(|e| e.id.as_str()))
            .map(|m| format!(" (did you mean `{m}`?)"))
            .unwrap_or_default();
        return refuse(format!("`{}` is not an environment of the directory{hint}", options.env));
    }
    if options.clients.is_empty() {
        return refuse(
            "no provisioning client: give gateway.clients in steward.yaml, or --actor with a token (--token or STEWARD_TOKEN)"
                .into(),
        );
    }
    for (i, client) in options.clients.iter().enumerate() {
        if client.token.trim().is_empty() {
            return refuse(format!("the client acting as `{}` has an empty token", client.actor));
        }
        if options.clients.iter().skip(i + 1).any(|c| c.token == client.token) {
            return refuse(format!("two clients share the token of `{}`: give each its own", client.actor));
        }
        if directory.account(&client.actor, &options.env).is_none() {
            let hint =
                did_you_mean(&client.actor, directory.accounts_in(&options.env).map(|a| a.user.as_str()))
                    .map(|m| format!(" (did you mean `{m}`?)"))
                    .unwrap_or_default();
            return refuse(format!(
                "the client actor `{}` has no account in `{}`{hint}: the identity provider acts through one",
                client.actor, options.env
            ));
        }
    }
    Ok(())
}
