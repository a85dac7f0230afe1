//! `steward gateway`: the policy-enforcing SCIM gateway (docs/scim.md).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{Context, Exit, output};
use crate::Engine;
use crate::directory::scim::IdSource;
use crate::directory::store::Store;
use crate::gateway::{Client, Gateway, GatewayError, Options};
use crate::server::{Limits, Notice};

/// Stand between an identity provider and a SCIM service provider: forward only the writes the
/// policy allows, and record them in the directory and the audit log.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders (default: `policies` in steward.yaml).
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
    /// The directory database (`.db`) the gateway decides over and writes (default: `directory`
    /// in steward.yaml).
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// A provisioning client acting as this user, with the token of --token (besides
    /// `gateway.clients`).
    #[arg(long, value_name = "USER", requires = "token")]
    pub actor: Option<String>,
    /// The bearer token of the client --actor names.
    #[arg(long, env = "STEWARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The service provider's SCIM base URL, http:// (default: `gateway.upstream` in
    /// steward.yaml).
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// The environment of the directory the service provider is (default: `gateway.env`).
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// The address and port (default: `gateway.listen`, else 127.0.0.1:8282).
    ///
    /// Port 0 picks a free one; the address is printed in the first notice.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// The bearer token sent to the service provider (default: `gateway.upstream_token`).
    #[arg(long, env = "STEWARD_UPSTREAM_TOKEN", hide_env_values = true)]
    pub upstream_token: Option<String>,
    /// How long the service provider may take to answer, in milliseconds (default:
    /// `gateway.upstream_timeout_ms`, else 10000).
    ///
    /// Longer, and the identity provider is answered 504 and nothing is written.
    #[arg(long, value_name = "MS")]
    pub upstream_timeout_ms: Option<u64>,
    /// The SCIM attribute that is the steward user id: userName, externalId or id (default:
    /// `gateway.user_id`, else userName), as the import read it.
    #[arg(long, value_name = "ATTRIBUTE")]
    pub user_id: Option<String>,
    /// The largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().body_bytes)]
    pub max_body: usize,
    /// The most operations in one /Bulk.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_bulk: usize,
    /// How long a call may take, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Append one JSON line per decision to this file.
    #[arg(long, value_name = "FILE")]
    pub decision_log: Option<PathBuf>,
}

/// Exit 0 after a graceful shutdown, 3 when the inputs or the
/// configuration are invalid, 1 otherwise.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let config = &ctx.config.gateway;
    let fail = |message: &str, exit: Exit| {
        output::message(errors, message);
        exit
    };
    let Some(db) = ctx.config.directory_or(args.directory.as_deref()) else {
        return fail(
            "no directory: pass --directory FILE.db or set `directory` in steward.yaml",
            Exit::Invalid,
        );
    };
    if let Some(message) = output::not_a_store(&db, "the gateway writes what it forwards to") {
        return fail(&message, Exit::Invalid);
    }
    let Some(upstream) = args.upstream.or_else(|| config.upstream.clone()) else {
        return fail(
            "no service provider: pass --upstream URL or set `gateway.upstream` in steward.yaml",
            Exit::Invalid,
        );
    };
    let Some(env) = args.env.or_else(|| config.env.clone()) else {
        return fail("no environment: pass --env ENV or set `gateway.env` in steward.yaml", Exit::Invalid);
    };
    let user_id = match args.user_id.as_deref().or(config.user_id.as_deref()) {
        None => IdSource::UserName,
        Some(name) => match IdSource::parse(name) {
            Some(source) => source,
            None => return fail(&format!("`{name}` is not userName, externalId or id"), Exit::Invalid),
        },
    };
    let paths = match output::configured_policies(ctx, &args.policies, "--policy PATH") {
        Ok(paths) => paths,
        Err(exit) => return exit,
    };
    let policies = match output::load_policies(&paths, errors) {
        Ok(p) => p,
        Err(exit) => return exit,
    };
    let signer = match super::audit::signer(ctx) {
        Ok(signer) => signer,
        Err(exit) => return exit,
    };
    output::note_migration(&db, errors);
    let mut store = match Store::open_existing(&db) {
        Ok(s) => s,
        Err(e) => return output::directory_error(errors, &e),
    };
    store.set_signer(signer);
    let (directory, generation) = match store.load_at() {
        Ok(loaded) => loaded,
        Err(e) => return output::directory_error(errors, &e),
    };
    let directory = match crate::directory::conform::directory(policies.schema(), directory) {
        Ok(d) => d,
        Err(problems) => {
            return fail(
                &format!("`{}` does not fit the policy set's schema: {}", db.display(), problems.join("; ")),
                Exit::Invalid,
            );
        }
    };
    let mut clients: Vec<Client> =
        config.clients.iter().map(|c| Client { token: c.token.clone(), actor: c.actor.clone() }).collect();
    if let (Some(actor), Some(token)) = (args.actor, args.token.filter(|t| !t.is_empty())) {
        clients.push(Client { token, actor });
    }
    let mut options = Options::new(upstream, env);
    options.upstream_token =
        args.upstream_token.filter(|t| !t.is_empty()).or_else(|| config.upstream_token.clone());
    options.upstream_timeout = Duration::from_millis(
        args.upstream_timeout_ms.or(config.upstream_timeout_ms).unwrap_or(10_000).max(1),
    );
    options.user_id = user_id;
    options.clients = clients;
    options.actions = config.actions.clone();
    options.unmapped = config.unmapped;
    let defaults = Limits::default();
    let millis = |key: Option<u64>, default: Duration| key.map_or(default, Duration::from_millis);
    options.limits = Limits {
        body_bytes: args.max_body,
        batch: args.max_bulk,
        timeout: Duration::from_millis(args.timeout_ms),
        in_flight: ctx.config.max_in_flight.unwrap_or_else(Limits::default_in_flight),
        header_timeout: millis(ctx.config.header_timeout_ms, defaults.header_timeout),
        idle_timeout: millis(ctx.config.idle_timeout_ms, defaults.idle_timeout),
        connections: ctx.config.max_connections.unwrap_or(defaults.connections),
    };
    options.decision_log = args.decision_log;
    options.anchor = ctx.config.audit.anchor.clone();
    if let Some(validity) = ctx.config.invitation_validity() {
        options.invitation_validity = validity;
    }
    options.notify = Arc::new(|notice: &Notice| errln!("steward gateway: {notice}"));
    let listen = args.listen.unwrap_or_else(|| config.listen.clone());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            output::error(errors, &e);
            return Exit::Failure;
        }
    };
    let engine = Engine::new(policies, directory);
    let _ = engine.graph();
    let served = runtime.block_on(async move {
        let gateway = Gateway::bind(&listen, store, engine, generation, options).await?;
        let a = gateway.actions();
        errln!(
            "steward gateway: DELETE as `{}` (falling back as the policy says), active as `{}`/`{}`, e-mail as `{}`, name as `{}`, POST as {}, Group membership as {}",
            a.delete,
            a.deactivate,
            a.activate,
            a.email,
            a.name,
            a.create.as_deref().map_or("refused (no gateway.actions.create)".to_owned(), |c| format!("`{c}`")),
            match (&a.add_role, &a.remove_role) {
                (Some(add), Some(remove)) => format!("`{add}`/`{remove}`"),
                _ => "refused (no gateway.actions.add_role/remove_role)".to_owned(),
            },
        );
        gateway.run(crate::server::shutdown_signal()).await
    });
    match served {
        Ok(()) => Exit::Ok,
        Err(e @ (GatewayError::Config(_) | GatewayError::Serve(crate::server::ServeError::Address(_)))) => {
            output::error(errors, &e);
            Exit::Invalid
        }
        Err(e) => {
            output::error(errors, &e);
            Exit::Failure
        }
    }
}
