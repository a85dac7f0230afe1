//! `steward audit`: the log of applied changes, and its verification.

use std::path::PathBuf;

use clap::Subcommand;

use super::{Context, Exit, Format, output};
use crate::directory::store::Store;

/// List the audit log, or verify its hash chain.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do; without it, list.
    #[command(subcommand)]
    pub action: Option<AuditAction>,
    /// The directory database (`.db`) (default: `directory` in steward.yaml).
    #[arg(long, global = true)]
    pub directory: Option<PathBuf>,
    /// Only entries about this user (as target or actor).
    #[arg(long)]
    pub user: Option<String>,
    /// How to print.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Subcommands of `audit`.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check that no entry was edited, deleted or reordered.
    Verify,
}

/// Exit 0; `verify` exits 1 when the chain is broken.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let Some(db) = ctx.config.directory_or(args.directory.as_deref()) else {
        output::error(errors, &std::io::Error::other("no directory: pass --directory FILE.db"));
        return Exit::Failure;
    };
    if !db.exists() {
        output::error(errors, &std::io::Error::other(format!("`{}` does not exist", db.display())));
        return Exit::Invalid;
    }
    output::note_migration(&db, errors);
    let store = match Store::open_existing(&db) {
        Ok(s) => s,
        Err(e) => return output::directory_error(errors, &e),
    };
    match args.action {
        Some(AuditAction::Verify) => match store.verify_audit() {
            Ok(Ok(n)) => {
                println!(
                    "ok: {}, the chain is intact",
                    if n == 1 { "1 entry".to_owned() } else { format!("{n} entries") }
                );
                Exit::Ok
            }
            Ok(Err(tampering)) => {
                output::error(errors, &tampering);
                Exit::Failure
            }
            Err(e) => output::directory_error(errors, &e),
        },
        None => match store.audit(args.user.as_deref()) {
            Ok(entries) => {
                match args.format {
                    Format::Json => output::json(&entries),
                    Format::Human => {
                        for e in &entries {
                            let c = &e.change;
                            println!(
                                "{:>5} {} {:<14} {:<10} {:<20} {:<10} {:<22} {}",
                                e.seq, c.at, c.actor, c.action, c.target, c.env, c.outcome, c.reason
                            );
                        }
                    }
                }
                Exit::Ok
            }
            Err(e) => output::directory_error(errors, &e),
        },
    }
}
