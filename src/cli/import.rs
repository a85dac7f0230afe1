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
                "imported {} environments, {} users, {} accounts, {} assets, {} references into {} in {:.2?}",
                directory.environments().len(),
                directory.users().len(),
                directory.accounts().len(),
                directory.assets().len(),
                directory.references().len(),
                args.output.display(),
                started.elapsed()
            );
            Exit::Ok
        }
        Err(e) => output::directory_error(errors, &e),
    }
}
