//! The local HTTP decision service behind `steward serve`: other tools ask
//! "may this happen, and what would it break?" over HTTP, like an OPA
//! sidecar. See docs/http.md for the endpoints.
//!
//! Safe by default: it listens on loopback unless told otherwise, asks for a
//! bearer token when one is configured, limits bodies, batches, time and
//! connections, cuts slow and idle connections, and answers every failure
//! with a JSON error. It never applies anything.
//!
//! ```no_run
//! # async fn run() -> Result<(), steward::server::ServeError> {
//! use steward::server::{Options, Server};
//! let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
//! let options = Options::new(vec![root.join("policies/crm")], root.join("examples/crm.yaml"));
//! let engine = steward::Engine::load_paths(&options.policies, &options.directory).unwrap();
//! let server = Server::bind("127.0.0.1:0", engine, options).await?;
//! println!("listening on {}", server.local_addr());
//! server.run(steward::server::shutdown_signal()).await
//! # }
//! ```

pub(crate) mod connection;
pub mod error;
pub mod log;
pub mod reload;
mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

pub use connection::{MAX_HEAD_BYTES, MAX_HEADERS};
pub use error::{ApiError, ServeError};
pub use log::{DecisionLog, Notice, Notify};
pub use reload::{Reloader, Scope, Snapshot};
pub(crate) use routes::{bearer, same_secret};

use crate::Engine;
use crate::policy::Request;

/// How the service runs.
#[derive(Clone)]
pub struct Options {
    /// The policy files or folders, re-read on reload.
    pub policies: Vec<PathBuf>,
    /// The directory file, re-read on `SIGHUP`.
    pub directory: PathBuf,
    /// The bearer token every endpoint but health asks for; none: no check.
    pub token: Option<String>,
    /// Size, batch and time limits.
    pub limits: Limits,
    /// Where to append one JSON line per decision.
    pub decision_log: Option<PathBuf>,
    /// How changes to the policy files are noticed.
    pub reload: ReloadOn,
    /// Where notices go.
    pub notify: Notify,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("policies", &self.policies)
            .field("directory", &self.directory)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("limits", &self.limits)
            .field("decision_log", &self.decision_log)
            .field("reload", &self.reload)
            .finish()
    }
}

impl Options {
    /// Defaults: no token, default limits, no decision log, reload on
    /// `SIGHUP` and on file changes, notices dropped.
    pub fn new(policies: Vec<PathBuf>, directory: PathBuf) -> Self {
        Options {
            policies,
            directory,
            token: None,
            limits: Limits::default(),
            decision_log: None,
            reload: ReloadOn { sighup: true, file_change: true },
            notify: Arc::new(|_| {}),
        }
    }
}

/// What makes the service reload its policy set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadOn {
    /// `SIGHUP` reloads the policies and the directory.
    pub sighup: bool,
    /// A change to a policy file reloads the policies.
    pub file_change: bool,
}

/// The service's limits; the defaults are documented in docs/http.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest body accepted, in bytes (default 8 MiB).
    pub body_bytes: usize,
    /// The most requests in one batch (default 10,000).
    pub batch: usize,
    /// How long a call may take, reading its body included (default 30 s).
    pub timeout: Duration,
    /// The most calls answered at once (health aside); the next one is
    /// refused at once with 503 `overloaded` (default [`Limits::IN_FLIGHT_PER_CORE`]
    /// per core).
    pub in_flight: usize,
    /// How long a request's head may take to arrive, from its first byte
    /// (from the accept on a new connection); a slower one has its
    /// connection closed (default 10 s).
    pub header_timeout: Duration,
    /// How long a connection may stay without a byte moving while no call
    /// is answered on it (waiting for a next request, or for its answer to
    /// be read) before it is closed (default 30 s).
    pub idle_timeout: Duration,
    /// The most connections open at once; the next callers wait in the
    /// listen backlog until one closes (default 512).
    pub connections: usize,
}

impl Limits {
    /// The default limit of calls in flight, per core. A decision takes
    /// about 35 µs of a core over HTTP (docs/benchmarks.md): 128 waiting
    /// calls are worked off in about 4.5 ms, within the 5 ms p99 the
    /// service is held to. A longer queue would only make every caller in
    /// it wait longer than that; the next caller is better told to retry.
    pub const IN_FLIGHT_PER_CORE: usize = 128;

    /// [`Limits::IN_FLIGHT_PER_CORE`] times the cores of this machine.
    pub fn default_in_flight() -> usize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        cores.saturating_mul(Self::IN_FLIGHT_PER_CORE)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 8 * 1024 * 1024,
            batch: 10_000,
            timeout: Duration::from_secs(30),
            in_flight: Limits::default_in_flight(),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            connections: 512,
        }
    }
}

/// What every handler shares.
struct Shared {
    current: Arc<ArcSwap<Snapshot>>,
    /// Health asks it whether the last reload was refused.
    reloader: Reloader,
    token: Option<String>,
    limits: Limits,
    /// One permit per call in flight, `limits.in_flight` in all.
    in_flight: Arc<tokio::sync::Semaphore>,
    decision_log: Option<DecisionLog>,
    notify: Notify,
}

impl Shared {
    /// Records decisions in the decision log, when there is one; a failed
    /// write is reported and the answer still goes out.
    fn log<'a>(&self, decided: impl IntoIterator<Item = (&'a Request, &'a crate::Verdict)>, digest: &str) {
        if let Some(log) = &self.decision_log
            && let Err(e) = log.record(decided, digest)
        {
            (self.notify)(&Notice::LogFailed(e.to_string()));
        }
    }
}

/// A bound, loaded service, ready to run.
pub struct Server {
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    reloader: Reloader,
    reload: ReloadOn,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("listener", &self.listener).finish()
    }
}

impl Server {
    /// Binds `addr` (port 0: any free port) to serve `engine`, which was
    /// loaded from `options.policies` and `options.directory`.
    pub async fn bind(addr: &str, engine: Engine, options: Options) -> Result<Server, ServeError> {
        let addr: SocketAddr = addr.parse().map_err(|_| ServeError::Address(addr.to_owned()))?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr: addr.to_string(), source })?;
        let decision_log = options.decision_log.as_deref().map(DecisionLog::open).transpose()?;
        let current = Arc::new(ArcSwap::from_pointee(Snapshot { engine, loaded_at: jiff::Timestamp::now() }));
        let reloader =
            Reloader::new(current.clone(), &options.policies, &options.directory, options.notify.clone());
        let shared = Arc::new(Shared {
            current,
            reloader: reloader.clone(),
            token: options.token.filter(|t| !t.is_empty()),
            limits: options.limits,
            in_flight: Arc::new(tokio::sync::Semaphore::new(
                options.limits.in_flight.min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
            decision_log,
            notify: options.notify,
        });
        Ok(Server { listener, shared, reloader, reload: options.reload })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// A handle that reloads the policy set (as `SIGHUP` does).
    pub fn reloader(&self) -> Reloader {
        self.reloader.clone()
    }

    /// Serves until `shutdown` completes, then stops accepting connections
    /// and lets the requests in flight finish.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
        let _watch = if self.reload.file_change { Some(self.reloader.watch()?) } else { None };
        if self.reload.sighup {
            on_sighup(self.shared.clone(), self.reloader.clone()).map_err(ServeError::Io)?;
        }
        let notify = self.shared.notify.clone();
        notify(&Notice::Listening(self.local_addr()));
        if self.shared.token.is_none() {
            notify(&Notice::NoToken(self.local_addr()));
        }
        let limits = self.shared.limits;
        let app = routes::router(self.shared);
        connection::serve(self.listener, app, limits, notify, shutdown).await;
        Ok(())
    }
}

/// On `SIGHUP`, until the process ends: reopens the decision log (log
/// rotation), then reloads the policies and the directory.
fn on_sighup(shared: Arc<Shared>, reloader: Reloader) -> std::io::Result<()> {
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            // First, and whatever the reload gives: a rotated log is
            // reopened even when the new policy set is refused.
            if let Some(log) = &shared.decision_log
                && let Err(e) = log.reopen()
            {
                (shared.notify)(&Notice::LogNotReopened(error::chain(&e)));
            }
            let _ = reloader.reload(Scope::Everything, "SIGHUP").await;
        }
    });
    Ok(())
}

/// Completes on Ctrl-C or `SIGTERM`. The `SIGTERM` handler is set when
/// this is called, not when the future is first polled: a service that
/// already answers (its health included) is never killed by a `SIGTERM`
/// that came before its accept loop polled the future. Call it inside the
/// runtime, before serving.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let terminate = async {
            match terminate {
                Ok(mut s) => {
                    s.recv().await;
                }
                // Without a SIGTERM handler, Ctrl-C still stops the service.
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = terminate => {},
        }
    }
}
