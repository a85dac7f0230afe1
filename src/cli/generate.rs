//! `steward gen`: a large, realistic directory for benchmarks.

use std::path::PathBuf;
use std::time::Instant;

use super::{Context, Exit, output};
use crate::directory::export::{FileFormat, to_text};
use crate::directory::generate::{GenerateOptions, generate};
use crate::directory::store::{ImportOptions, Store};

/// Generate a large, realistic directory (deterministic for a seed).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many accounts.
    #[arg(long, default_value_t = 10_000)]
    pub accounts: usize,
    /// The seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write: a `.db` database, a `.json` file, or a `.yaml` file.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Exit 0 when written, 1 otherwise (also when a database is in the way).
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let started = Instant::now();
    let directory = generate(GenerateOptions { accounts: args.accounts, seed: args.seed });
    let generated = started.elapsed();
    let is_db = crate::directory::is_store(&args.output);
    let written = Instant::now();
    let result = if is_db {
        // A database may hold an audit log: gen never replaces one (#14.7).
        if args.output.exists() {
            errln!(
                "error: `{}` exists: `gen` writes a new database only\n  help: remove it first, or give another name",
                args.output.display()
            );
            return Exit::Failure;
        }
        Store::open(&args.output)
            .and_then(|mut store| store.import(&directory, "steward gen", ImportOptions::default()))
            .map_err(|e| e.to_string())
    } else {
        to_text(&directory, &crate::policy::declare::standard(), FileFormat::of(&args.output))
            .and_then(|yaml| output::write_atomically(&args.output, &yaml).map_err(|e| e.to_string()))
    };
    if let Err(message) = result {
        output::error(errors, &std::io::Error::other(message));
        return Exit::Failure;
    }
    let edges = directory.accounts().len() + directory.assets().len() * 2 + directory.references().len();
    errln!(
        "generated {} accounts, {} assets, {} references (~{edges} graph edges) in {generated:.2?}; wrote {} in {:.2?}",
        directory.accounts().len(),
        directory.assets().len(),
        directory.references().len(),
        args.output.display(),
        written.elapsed()
    );
    Exit::Ok
}
