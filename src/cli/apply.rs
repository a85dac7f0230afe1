//! `steward apply`: execute a reviewed plan, all of it or nothing.

use std::collections::BTreeMap;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;

use super::{Context, ErrorFormat, Exit, output};
use crate::apply::{ApplyError, ApplyOptions, apply};
use crate::directory::store::Store;
use crate::plan::{DENIED, ERROR, Plan};

/// Apply a plan made by `steward plan -o`, in one transaction, with an audit entry per change.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The plan (JSON).
    pub plan: PathBuf,
    /// Policy files or folders: the set the plan was made with (default: steward.yaml).
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
    /// The directory database (`.db`) to change (default: `directory` in steward.yaml).
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// Confirm the change (C2); without it, apply asks on a terminal and refuses otherwise.
    #[arg(long)]
    pub confirm: bool,
    /// The new owner of an asset that needs one: `ASSET=USER` (repeat for each); each is
    /// checked against the plan (an asset it reassigns, a user who may own it).
    #[arg(long, value_parser = parse_reassign)]
    pub reassign: Vec<(String, String)>,
    /// Apply a plan with `error` items (accounts its selector could not be evaluated on),
    /// leaving them out.
    #[arg(long)]
    pub skip_errors: bool,
}

/// Reads a plan saved by `steward plan -o`.
pub(super) fn read_plan(path: &std::path::Path) -> Result<Plan, String> {
    std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("not a plan: {e}")))
        .map_err(|message| format!("cannot read `{}`: {message}", path.display()))
}

/// `ASSET=USER`, as `--reassign` takes it (apply and plan).
pub(super) fn parse_reassign(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((asset, user)) if !asset.is_empty() && !user.is_empty() => {
            Ok((asset.to_owned(), user.to_owned()))
        }
        _ => Err(format!("`{text}` is not ASSET=USER")),
    }
}

/// Exit 0 when applied, 1 when not confirmed or the store failed, 3 when the
/// plan is invalid, stale or incomplete (nothing is changed then).
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let plan = match read_plan(&args.plan) {
        Ok(plan) => plan,
        Err(message) => return fail(errors, &message, Exit::Invalid),
    };
    let Some(db) = ctx.config.directory_or(args.directory.as_deref()) else {
        return fail(
            errors,
            "no directory: pass --directory FILE.db or set `directory` in steward.yaml",
            Exit::Failure,
        );
    };
    if let Some(message) = output::not_a_store(&db, "apply changes") {
        return fail(errors, &message, Exit::Invalid);
    }
    let paths = match output::configured_policies(ctx, &args.policies, "--policy PATH") {
        Ok(paths) => paths,
        Err(exit) => return exit,
    };
    let policies = match output::load_policies(&paths, errors) {
        Ok(p) => p,
        Err(exit) => return exit,
    };
    let to_apply = plan.items.iter().filter(|i| i.outcome != DENIED && i.outcome != ERROR).count();
    if !args.confirm && !confirmed(&plan, to_apply, &args.plan, &db) {
        return fail(errors, "not applied: confirm with --confirm (C2)", Exit::Failure);
    }
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
    let options = ApplyOptions {
        reassign: args.reassign.into_iter().collect::<BTreeMap<_, _>>(),
        now: None,
        invitation_validity: ctx.config.invitation_validity(),
        skip_errors: args.skip_errors,
        busy_timeout: None,
    };
    match apply(&mut store, policies, &plan, &options) {
        Ok(applied) => {
            errln!(
                "applied {} of {} ({}, each in the audit log) to {}",
                applied.items,
                output::plural(plan.items.len(), "item"),
                output::plural(applied.changes, "change"),
                db.display()
            );
            // The new head, for the operator to keep (docs/operations.md).
            if let Some(head) = &applied.head {
                outln!("{}", head.to_line());
            }
            super::audit::anchor(ctx, applied.head.as_ref())
        }
        Err(ApplyError::Store(e)) => output::directory_error(errors, &e),
        Err(e) => {
            output::error_with_help(errors, &e);
            Exit::Invalid
        }
    }
}

/// Asks on a terminal, after the plan's summary; anything but yes refuses.
fn confirmed(plan: &Plan, items: usize, file: &std::path::Path, db: &std::path::Path) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    let mut summary: Vec<String> =
        plan.summary.outcomes.iter().map(|(outcome, n)| format!("{outcome}: {n}")).collect();
    summary.extend(
        plan.summary.licenses.iter().map(|l| format!("license {}: {} → {}", l.license, l.before, l.after)),
    );
    errln!("plan `{}` by {} — {}", plan.action, plan.actor, plan.reason);
    errln!("  {}", summary.join(", "));
    errln!("  every item: steward plan show {}", file.display());
    let items = output::plural(items, "item");
    err!("apply `{}` ({items}) to {} ({})? [y/N] ", plan.action, db.display(), plan.reason);
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok() && matches!(answer.trim(), "y" | "Y" | "yes")
}

fn fail(errors: ErrorFormat, message: &str, exit: Exit) -> Exit {
    output::error(errors, &std::io::Error::other(message.to_owned()));
    exit
}
