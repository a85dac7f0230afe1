//! `steward import`: a directory file, or a SCIM service provider's
//! lists, into a SQLite database.

use std::path::PathBuf;
use std::time::Instant;

use clap::ValueEnum;

use super::{Context, Exit, output};
use crate::directory::scim;
use crate::directory::store::{ImportOptions, Store};

/// What the input files are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// steward's directory format (docs/directory.md).
    #[default]
    Directory,
    /// A SCIM 2.0 ListResponse of Users, and optionally one of Groups (docs/scim.md).
    Scim,
}

/// Which SCIM attribute becomes the user id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ScimId {
    /// `userName`.
    #[default]
    #[value(name = "userName")]
    UserName,
    /// `externalId`.
    #[value(name = "externalId")]
    ExternalId,
    /// `id`.
    #[value(name = "id")]
    Id,
}

/// Load a YAML or JSON directory, or SCIM lists, into a SQLite database.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory file (`.yaml`, `.yml`, `.json`); with `--format scim`, the ListResponse of `GET /Users`.
    pub file: PathBuf,
    /// With `--format scim`: the ListResponse of `GET /Groups`, whose memberships become roles.
    pub groups: Option<PathBuf>,
    /// Policy files or folders whose schema the directory is read by (default: `policies` in steward.yaml; without any, the standard schema).
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
    /// The database to write, `.db`, `.sqlite` or `.sqlite3` (created if absent).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Add to what the database holds instead of replacing it.
    #[arg(long, conflicts_with = "replace")]
    pub append: bool,
    /// Replace the directory an existing database holds; its audit log is kept as it is.
    #[arg(long)]
    pub replace: bool,
    /// With `--format scim`: the environment every user gets an account in.
    #[arg(long)]
    pub env: Option<String>,
    /// With `--format scim`: the environment's license (default: its id).
    #[arg(long)]
    pub license: Option<String>,
    /// With `--format scim`: the environment's kind (default: the schema's first).
    #[arg(long)]
    pub kind: Option<String>,
    /// What the input is.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// With `--format scim`: the attribute that becomes the user id.
    #[arg(long, value_enum, default_value_t)]
    pub scim_id: ScimId,
    /// With `--format scim`: the status of `active: true` (default: the one status that may log in and does not expire).
    #[arg(long)]
    pub active_status: Option<String>,
    /// With `--format scim`: the status of `active: false` (default: the one status that cannot log in nor counts).
    #[arg(long)]
    pub inactive_status: Option<String>,
    /// With `--format scim`: import one page of a paged list (warned about) instead of refusing it.
    #[arg(long)]
    pub partial: bool,
}

/// Exit 0 when imported; 3 when the file is invalid; 1 when the database
/// refuses it, or it exists and neither `--replace` nor `--append` is
/// given (nothing is changed then).
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let output = &args.output;
    if !crate::directory::is_store(output) {
        output::message(
            errors,
            &format!(
                "`{}` is not a database name: the output of an import ends in `.db`, `.sqlite` or `.sqlite3`",
                output.display()
            ),
        );
        return Exit::Failure;
    }
    // An empty file (a fresh temporary one) holds nothing to lose.
    let holds_data = std::fs::metadata(output).is_ok_and(|m| m.len() > 0);
    if holds_data && !args.replace && !args.append {
        output::message(
            errors,
            &format!(
                "`{}` exists: pass --replace to replace its directory (its audit log is kept), or --append to add to it",
                output.display()
            ),
        );
        return Exit::Failure;
    }
    let schema = match output::configured_schema(ctx, &args.policies) {
        Ok(schema) => schema,
        Err(exit) => return exit,
    };
    let directory = match args.format {
        Format::Directory => {
            let scim_only = args.groups.is_some()
                || args.env.is_some()
                || args.license.is_some()
                || args.kind.is_some()
                || args.scim_id != ScimId::UserName
                || args.active_status.is_some()
                || args.inactive_status.is_some()
                || args.partial;
            if scim_only {
                output::message(
                    errors,
                    "a groups file, --env, --license, --kind, --scim-id, --active-status, --inactive-status and --partial are for `--format scim`",
                );
                return Exit::Failure;
            }
            match output::load_directory(&args.file, errors, &schema) {
                Ok(d) => d,
                Err(exit) => return exit,
            }
        }
        Format::Scim => {
            let Some(env) = args.env.clone() else {
                output::message(
                    errors,
                    "`--format scim` needs --env: the environment the users get an account in",
                );
                return Exit::Failure;
            };
            let options = scim::Options {
                env,
                license: args.license.clone(),
                kind: args.kind.clone(),
                id: match args.scim_id {
                    ScimId::UserName => scim::IdSource::UserName,
                    ScimId::ExternalId => scim::IdSource::ExternalId,
                    ScimId::Id => scim::IdSource::Id,
                },
                active_status: args.active_status.clone(),
                inactive_status: args.inactive_status.clone(),
                partial: args.partial,
            };
            match scim::load(&args.file, args.groups.as_deref(), &schema, &options) {
                Ok(import) => {
                    if !import.warnings.is_empty() {
                        output::diagnostics(errors, &import.sources, &import.warnings);
                    }
                    import.directory
                }
                Err(e) => return output::directory_error(errors, &e),
            }
        }
    };
    let started = Instant::now();
    let result = Store::open(&args.output).and_then(|mut store| {
        store.import(
            &directory,
            &args.file.display().to_string(),
            ImportOptions { append: args.append, model: Some(schema.digest()) },
        )
    });
    match result {
        Ok(()) => {
            errln!(
                "imported {}, {}, {}, {}, {} into {} in {:.2?}",
                output::plural(directory.environments().len(), "environment"),
                output::plural(directory.users().len(), "user"),
                output::plural(directory.accounts().len(), "account"),
                output::plural(directory.assets().len(), "asset"),
                output::plural(directory.references().len(), "reference"),
                args.output.display(),
                started.elapsed()
            );
            Exit::Ok
        }
        Err(e) => output::directory_error(errors, &e),
    }
}
