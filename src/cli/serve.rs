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
    #[arg(long)]
    pub listen: Option<String>,
    /// The bearer token every endpoint but health asks for (default: `token` in steward.yaml).
    #[arg(long, env = "STEWARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The largest request body, in bytes.
    #[arg(long, default_value_t = Limits::default().body_bytes)]
    pub max_body: usize,
    /// The most requests in one call to /v1/decide/batch.
    #[arg(long, default_value_t = Limits::default().batch)]
    pub max_batch: usize,
    /// How long a call may take, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// The most calls answered at once; more are refused with 503 at once
    /// (default: `max_in_flight` in steward.yaml, else 128 per core).
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_in_flight: Option<usize>,
    /// Append one JSON line per decision to this file.
    #[arg(long)]
    pub decision_log: Option<PathBuf>,
    /// Do not reload when a policy file changes (SIGHUP still reloads).
    #[arg(long)]
    pub no_watch: bool,
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
    options.limits = Limits {
        body_bytes: args.max_body,
        batch: args.max_batch,
        timeout: Duration::from_millis(args.timeout_ms),
        in_flight: args.max_in_flight.or(ctx.config.max_in_flight).unwrap_or_else(Limits::default_in_flight),
    };
    options.decision_log = args.decision_log;
    options.reload = ReloadOn { sighup: true, file_change: !args.no_watch };
    options.notify = Arc::new(|notice: &Notice| eprintln!("steward serve: {notice}"));
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
