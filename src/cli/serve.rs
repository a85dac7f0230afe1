//! `steward serve`: the local HTTP decision service.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{Context, Exit, output};
use crate::Engine;
use crate::server::{Limits, Notice, Options, ReloadOn, Server};

/// Serve decisions, impacts and plans over HTTP (dry runs only; nothing is applied).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy set and the directory.
    #[command(flatten)]
    pub inputs: output::Inputs,
    /// The address and port (default: `listen` in steward.yaml, else 127.0.0.1:8181).
    ///
    /// Port 0 picks a free one; the address is printed in the first notice.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// The bearer token every endpoint but health asks for (default: `token` in steward.yaml).
    ///
    /// None anywhere: no check. An empty token counts as none given, so it never switches off
    /// the one of steward.yaml.
    #[arg(long, env = "STEWARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The largest request body, in bytes.
    ///
    /// A larger one is refused with 413 `body_too_large`.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().body_bytes)]
    pub max_body: usize,
    /// The most requests in one call to /v1/decide/batch.
    ///
    /// A larger batch is refused with 413 `batch_too_large`, never cut.
    #[arg(long, value_name = "N", default_value_t = Limits::default().batch)]
    pub max_batch: usize,
    /// How long a call may take, in milliseconds.
    ///
    /// Reading its body included; a longer one is answered 503 `timeout`.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// The most calls answered at once (default: `max_in_flight` in steward.yaml, else 128 per
    /// core).
    ///
    /// Health aside. The next call is refused at once with 503 `overloaded` and Retry-After, not
    /// queued.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub max_in_flight: Option<usize>,
    /// How long a request's head may take, in milliseconds (default: `header_timeout_ms` in
    /// steward.yaml, else 10000).
    ///
    /// From its first byte (from the accept on a new connection) to its last header; a slower
    /// client has its connection closed without an answer.
    #[arg(long, value_name = "MS", value_parser = at_least_one_ms)]
    pub header_timeout_ms: Option<u64>,
    /// How long a connection may stay idle, in milliseconds (default: `idle_timeout_ms` in
    /// steward.yaml, else 30000).
    ///
    /// Idle: no call being answered on it and no byte moving, neither a next request nor the
    /// reading of an answer. It is closed then.
    #[arg(long, value_name = "MS", value_parser = at_least_one_ms)]
    pub idle_timeout_ms: Option<u64>,
    /// The most connections open at once (default: `max_connections` in steward.yaml, else
    /// 512).
    ///
    /// The next callers wait, not yet accepted, in the listen backlog, and are answered as
    /// connections close.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub max_connections: Option<usize>,
    /// Append one JSON line per decision to this file.
    ///
    /// Reopened on SIGHUP, for log rotation.
    #[arg(long, value_name = "FILE")]
    pub decision_log: Option<PathBuf>,
    /// Do not reload when a policy file changes (SIGHUP still reloads).
    #[arg(long)]
    pub no_watch: bool,
}

/// A limit of calls or connections: 0 would refuse every call.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("0 would refuse every call; give at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A timeout of a connection: 0 would close every one at once.
fn at_least_one_ms(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("0 would close every connection at once; give at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// Exit 0 after a graceful shutdown, 3 when the inputs are invalid, 1 otherwise.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let (policies, directory) = match output::load_both(ctx, &args.inputs) {
        Ok(both) => both,
        Err(exit) => return exit,
    };
    // load_both succeeded, so both paths are known.
    let policy_paths = ctx.config.policies_or(&args.inputs.policies);
    let Some(directory_path) = ctx.config.directory_or(args.inputs.directory.as_deref()) else {
        return Exit::Failure;
    };
    let listen = args.listen.unwrap_or_else(|| ctx.config.listen.clone());
    let mut options = Options::new(policy_paths, directory_path);
    // An empty token (`STEWARD_TOKEN=` in a template) is no token given:
    // it never switches off the one steward.yaml sets.
    options.token = args.token.filter(|t| !t.is_empty()).or_else(|| ctx.config.token.clone());
    let defaults = Limits::default();
    let config = &ctx.config;
    let millis = |flag: Option<u64>, key: Option<u64>, default: Duration| {
        flag.or(key).map_or(default, Duration::from_millis)
    };
    options.limits = Limits {
        body_bytes: args.max_body,
        batch: args.max_batch,
        timeout: Duration::from_millis(args.timeout_ms),
        in_flight: args.max_in_flight.or(config.max_in_flight).unwrap_or_else(Limits::default_in_flight),
        header_timeout: millis(args.header_timeout_ms, config.header_timeout_ms, defaults.header_timeout),
        idle_timeout: millis(args.idle_timeout_ms, config.idle_timeout_ms, defaults.idle_timeout),
        connections: args.max_connections.or(config.max_connections).unwrap_or(defaults.connections),
    };
    options.decision_log = args.decision_log;
    options.reload = ReloadOn { sighup: true, file_change: !args.no_watch };
    options.notify = Arc::new(|notice: &Notice| errln!("steward serve: {notice}"));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            output::error(errors, &e);
            return Exit::Failure;
        }
    };
    let engine = Engine::new(policies, directory);
    // Built now, not by the first request that needs it.
    let _ = engine.graph();
    let served = runtime.block_on(async move {
        let server = Server::bind(&listen, engine, options).await?;
        server.run(crate::server::shutdown_signal()).await
    });
    match served {
        Ok(()) => Exit::Ok,
        Err(e @ crate::server::ServeError::Address(_)) => {
            output::error(errors, &e);
            Exit::Invalid
        }
        Err(e) => {
            output::error(errors, &e);
            Exit::Failure
        }
    }
}
