//! `steward import`: a directory file into a SQLite database.

use std::path::PathBuf;
use std::time::Instant;

use super::{Context, Exit, output};
use crate::directory::store::{ImportOptions, Store};

/// Load a YAML or JSON directory into a SQLite database.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory file (`.yaml`, `.yml`, `.json`).
    pub file: PathBuf,
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
    let directory = match output::load_directory(&args.file, errors, &schema) {
        Ok(d) => d,
        Err(exit) => return exit,
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
