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
    /// The database to write (created if absent).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Add to what the database holds instead of replacing it.
    #[arg(long)]
    pub append: bool,
}

/// Exit 0 when imported; 3 when the file is invalid; 1 when the database
/// refuses it (nothing is changed then).
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let directory = match output::load_directory(&args.file, errors) {
        Ok(d) => d,
        Err(exit) => return exit,
    };
    let started = Instant::now();
    let result = Store::open(&args.output).and_then(|mut store| {
        store.import(&directory, &args.file.display().to_string(), ImportOptions { append: args.append })
    });
    match result {
        Ok(()) => {
            eprintln!(
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
