//! `steward sync`: the nightly name and e-mail synchronisation of guests (G5, G6).

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::{Context, Exit, Format, output};
use crate::directory::audit::Change;
use crate::directory::store::{AccountField, Mutation, Store};
use crate::sync::{SyncReport, sync};

/// Synchronise guests' names and e-mail addresses from their home production environment.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders whose schema the directory is read by (default: `policies` in steward.yaml; without any, the standard schema).
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
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
    if args.apply {
        if let Some(message) = output::not_a_store(&path, "`--apply` changes") {
            output::error(errors, &std::io::Error::other(message));
            return Exit::Invalid;
        }
        return apply(&path, args.format, &args.policies, ctx);
    }
    let schema = match output::configured_schema(ctx, &args.policies) {
        Ok(schema) => schema,
        Err(exit) => return exit,
    };
    let directory = match output::load_directory(&path, errors, &schema) {
        Ok(d) => d,
        Err(exit) => return exit,
    };
    warn_without_source(&schema, errors);
    print(&sync(&directory, &schema), args.format);
    Exit::Ok
}

/// Decides the changes over the database as it is under its write lock and
/// writes them in the same transaction, as `apply` does: a change another
/// process commits meanwhile is seen, never overwritten nor logged as done.
/// A schema with no live environment kind has nothing to sync from: "0
/// changes" would read as "in sync".
fn warn_without_source(schema: &crate::schema::Schema, errors: super::ErrorFormat) {
    if !schema.env_kinds.iter().any(|k| k.live) {
        output::note(
            errors,
            "no environment kind of the schema is `live`: no home environment is a source, so nothing is synchronised",
        );
    }
}

fn apply(path: &Path, format: Format, policies: &[PathBuf], ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let signer = match super::audit::signer(ctx) {
        Ok(signer) => signer,
        Err(exit) => return exit,
    };
    let mut store = match Store::open_existing(path) {
        Ok(store) => store,
        Err(e) => return output::directory_error(errors, &e),
    };
    let schema = match output::configured_schema(ctx, policies) {
        Ok(schema) => schema,
        Err(exit) => return exit,
    };
    warn_without_source(&schema, errors);
    store.set_signer(signer);
    let applied = store.write_locked(BUSY, |directory, _| {
        let report = sync(&directory, &schema);
        let (mutations, audit) = changes(&report, Timestamp::now());
        Ok::<_, crate::directory::Error>((mutations, audit, report))
    });
    match applied {
        Ok((report, head)) => {
            print(&report, format);
            if report.changes.is_empty() {
                return Exit::Ok;
            }
            errln!("applied {} to {}", output::plural(report.changes.len(), "change"), path.display());
            if let Some(head) = &head {
                errln!("audit head: {}", head.to_line());
            }
            super::audit::anchor(ctx, head.as_ref())
        }
        Err(e) => output::directory_error(errors, &e),
    }
}

/// How long `sync --apply` waits for another writer of the database.
const BUSY: std::time::Duration = std::time::Duration::from_secs(30);

/// The mutations and audit entries of a sync's changes.
fn changes(report: &SyncReport, now: Timestamp) -> (Vec<Mutation>, Vec<Change>) {
    let mutations = report
        .changes
        .iter()
        .map(|c| Mutation::SetField {
            user: c.user.clone(),
            env: c.env.clone(),
            field: if c.field == "name" { AccountField::Name } else { AccountField::Email },
            value: c.to.clone(),
        })
        .collect();
    let audit = report
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
    (mutations, audit)
}

/// The changes and conflicts, as a table or JSON.
fn print(report: &SyncReport, format: Format) {
    match format {
        Format::Json => output::json(report),
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
}
