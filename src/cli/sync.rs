//! `steward sync`: the nightly name and e-mail synchronisation of guests (G5, G6).

use std::path::PathBuf;

use jiff::Timestamp;

use super::{Context, Exit, Format, output};
use crate::directory::audit::Change;
use crate::directory::store::{AccountField, Mutation, Store};
use crate::sync::sync;

/// Synchronise guests' names and e-mail addresses from their home production environment.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory (default: `directory` in steward.yaml); `--apply` needs a `.db`.
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// Write the changes (one transaction, audited); without it, only report them.
    #[arg(long)]
    pub apply: bool,
    /// How to print.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Exit 0; 3 when the directory is invalid or `--apply` is given a file that is not a database.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let Some(path) = ctx.config.directory_or(args.directory.as_deref()) else {
        output::error(
            errors,
            &std::io::Error::other("no directory: pass --directory FILE or set it in steward.yaml"),
        );
        return Exit::Failure;
    };
    let directory = match output::load_directory(&path, errors) {
        Ok(d) => d,
        Err(exit) => return exit,
    };
    let report = sync(&directory);
    match args.format {
        Format::Json => output::json(&report),
        Format::Human => {
            for c in &report.changes {
                outln!(
                    "{:<20} {:<12} {:<6} {} -> {}",
                    c.user,
                    c.env,
                    c.field,
                    c.from.as_deref().unwrap_or("-"),
                    c.to.as_deref().unwrap_or("-")
                );
            }
            for c in &report.conflicts {
                outln!(
                    "{:<20} {:<12} conflict: {} is held by {} there (G6); not synchronised until it is cleared",
                    c.user,
                    c.env,
                    c.email,
                    c.held_by
                );
            }
            errln!(
                "{}, {}",
                output::plural(report.changes.len(), "change"),
                output::plural(report.conflicts.len(), "conflict")
            );
        }
    }
    if !args.apply || report.changes.is_empty() {
        return Exit::Ok;
    }
    if !crate::directory::is_store(&path) {
        output::error(
            errors,
            &std::io::Error::other("--apply changes a directory database: give a `.db` file"),
        );
        return Exit::Invalid;
    }
    let now = Timestamp::now();
    let mutations: Vec<Mutation> = report
        .changes
        .iter()
        .map(|c| Mutation::SetField {
            user: c.user.clone(),
            env: c.env.clone(),
            field: if c.field == "name" { AccountField::Name } else { AccountField::Email },
            value: c.to.clone(),
        })
        .collect();
    let audit: Vec<Change> = report
        .changes
        .iter()
        .map(|c| Change {
            at: now,
            actor: "steward sync".into(),
            action: "sync".into(),
            target: c.user.clone(),
            env: c.env.clone(),
            outcome: format!(
                "{}: {} -> {}",
                c.field,
                c.from.as_deref().unwrap_or("-"),
                c.to.as_deref().unwrap_or("-")
            ),
            reason: "nightly synchronisation from the home production environment (G5)".into(),
            plan_digest: String::new(),
        })
        .collect();
    let signer = match super::audit::signer(ctx) {
        Ok(signer) => signer,
        Err(exit) => return exit,
    };
    let applied = Store::open_existing(&path).and_then(|mut store| {
        store.set_signer(signer);
        store.apply(&mutations, &audit)
    });
    match applied {
        Ok(head) => {
            errln!("applied {} to {}", output::plural(mutations.len(), "change"), path.display());
            if let Some(head) = &head {
                errln!("audit head: {}", head.to_line());
            }
            super::audit::anchor(ctx, head.as_ref())
        }
        Err(e) => output::directory_error(errors, &e),
    }
}
