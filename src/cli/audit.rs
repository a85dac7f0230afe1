//! `steward audit`: the log of applied changes, and its verification; the
//! signing key and the anchor that `apply` and `sync --apply` seal with.

use std::path::PathBuf;

use clap::Subcommand;

use super::{Context, Exit, Format, output};
use crate::directory::audit::{Anchor, Head, KeyError, PublicKey, Signer, Verified, VerifyOptions};
use crate::directory::store::Store;

/// List the audit log, or verify it.
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
    /// Check that no entry was edited, deleted, reordered or forged: the chain, the tables and
    /// triggers that guard it, the heads' signatures and the anchor.
    Verify(VerifyArgs),
}

/// What `audit verify` checks the log against besides itself.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The public key that signs the heads, as `steward keygen` prints it (default:
    /// `audit.public_key` in steward.yaml, else the public half of `audit.signing_key`).
    #[arg(long, conflicts_with = "key")]
    pub public_key: Option<PathBuf>,
    /// The signing key itself; only its public half is used.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// The anchor file of signed heads (default: `audit.anchor` in steward.yaml).
    #[arg(long)]
    pub anchor: Option<PathBuf>,
}

/// Exit 0; `verify` exits 1 when it finds tampering, 3 when the database,
/// the key or the anchor cannot be read.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let verifying = args.action.is_some();
    let Some(db) = ctx.config.directory_or(args.directory.as_deref()) else {
        output::message(errors, "no directory: pass --directory FILE.db or set `directory` in steward.yaml");
        // Exit 1 from `verify` means tampering.
        return if verifying { Exit::Invalid } else { Exit::Failure };
    };
    if !db.exists() {
        output::message(errors, &format!("`{}` does not exist", db.display()));
        return Exit::Invalid;
    }
    output::note_migration(&db, errors);
    let store = match Store::open_existing(&db) {
        Ok(s) => s,
        Err(e) => {
            let exit = output::directory_error(errors, &e);
            return if verifying { Exit::Invalid } else { exit };
        }
    };
    match args.action {
        Some(AuditAction::Verify(verify)) => run_verify(&store, &verify, ctx),
        None => match store.audit(args.user.as_deref()) {
            Ok(entries) => {
                match args.format {
                    Format::Json => output::json(&entries),
                    Format::Human => {
                        let columns = ["seq", "at", "actor", "action", "target", "env", "outcome", "reason"];
                        let mut table = super::table::Table::new(&columns).numeric(0);
                        for e in &entries {
                            let c = &e.change;
                            // Whole seconds: one precision for every entry
                            // (the log keeps the full time; JSON shows it).
                            let at = format!("{:.0}", c.at);
                            let cells = [
                                &e.seq.to_string(),
                                &at,
                                &c.actor,
                                &c.action,
                                &c.target,
                                &c.env,
                                &c.outcome,
                                &c.reason,
                            ];
                            table.row(cells.map(|c| c.to_string()).to_vec());
                        }
                        if entries.is_empty() {
                            errln!("the audit log is empty");
                        } else {
                            table.print();
                        }
                    }
                }
                Exit::Ok
            }
            Err(e) => output::directory_error(errors, &e),
        },
    }
}

fn run_verify(store: &Store, args: &VerifyArgs, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let audit = &ctx.config.audit;
    let key_file = args
        .public_key
        .as_ref()
        .or(args.key.as_ref())
        .or(audit.public_key.as_ref())
        .or(audit.signing_key.as_ref());
    let key = match key_file.map(|path| PublicKey::load(path)).transpose() {
        Ok(key) => key,
        Err(e) => return bad_input(ctx, &e),
    };
    let anchor =
        match args.anchor.as_ref().or(audit.anchor.as_ref()).map(|path| Anchor::load(path)).transpose() {
            Ok(anchor) => anchor,
            Err(e) => return bad_input(ctx, &e),
        };
    let options = VerifyOptions { key: key.as_ref(), anchor: anchor.as_ref() };
    let verified = match store.verify_audit(options) {
        Ok(verified) => verified,
        Err(e) => {
            output::directory_error(errors, &e);
            return Exit::Invalid;
        }
    };
    if !verified.findings.is_empty() {
        for finding in &verified.findings {
            output::error(errors, finding);
        }
        return Exit::Failure;
    }
    for line in summary(&verified, key.as_ref(), anchor.as_ref()) {
        outln!("{line}");
    }
    Exit::Ok
}

/// What a clean verification proved, and plainly what it could not.
fn summary(verified: &Verified, key: Option<&PublicKey>, anchor: Option<&Anchor>) -> Vec<String> {
    let entries =
        if verified.entries == 1 { "1 entry".to_owned() } else { format!("{} entries", verified.entries) };
    let heads = output::plural(verified.heads, "head");
    let newest = |seq: Option<i64>| match seq {
        Some(seq) => format!("the newest seals entry {seq}"),
        None => "none seals an entry yet".to_owned(),
    };
    let mut lines = vec![
        format!("ok: {entries}, the chain is intact"),
        "ok: the audit tables and triggers are the ones steward creates".to_owned(),
    ];
    match key {
        Some(key) => lines.push(format!(
            "ok: {heads}, {} signed by the key {}; {}",
            verified.signed,
            key.to_hex(),
            newest(verified.newest_head)
        )),
        None => lines.push(format!("ok: {heads} in the database; {}", newest(verified.newest_head))),
    }
    if let Some(anchor) = anchor {
        let anchored = verified.anchored.unwrap_or_default();
        lines.push(format!(
            "ok: the anchor `{}` ({}) matches the log; {}",
            anchor.path.display(),
            output::plural(anchored.0, "head"),
            newest(anchored.1)
        ));
    }
    match (key, anchor) {
        (None, None) => lines.push(
            "unproven: without a public key or an anchor this shows only that the log agrees with itself: \
             whoever can write the database can rewrite the log and its heads unnoticed \
             (give --public-key FILE and --anchor FILE, or set them under `audit:` in steward.yaml)"
                .to_owned(),
        ),
        (Some(_), None) => lines.push(
            "unproven: without an anchor, entries deleted from the end together with their heads, \
             or the database replaced by an older copy of itself, go unnoticed (give --anchor FILE)"
                .to_owned(),
        ),
        (None, Some(_)) => lines.push(format!(
            "unproven: without a public key the signatures are not checked ({} signed): \
             a forged line in the anchor goes unnoticed (give --public-key FILE)",
            verified.carrying_signatures
        )),
        (Some(_), Some(_)) => {}
    }
    if anchor.is_some_and(|a| a.heads.is_empty()) {
        lines.push("unproven: the anchor holds no head yet: nothing in the log is anchored".to_owned());
    }
    lines
}

fn bad_input(ctx: &Context, e: &KeyError) -> Exit {
    output::error_with_help(ctx.errors, e);
    Exit::Invalid
}

/// The signing key that steward.yaml names, loaded, for a command that
/// applies; `Err` with the exit code after saying why it cannot be used.
pub(super) fn signer(ctx: &Context) -> Result<Option<Signer>, Exit> {
    ctx.config
        .audit
        .signing_key
        .as_ref()
        .map(|path| Signer::load(path))
        .transpose()
        .map_err(|e| bad_input(ctx, &e))
}

/// After an apply has committed: appends its head to the anchor that
/// steward.yaml names. Exit 1 when that fails: the change is applied, and
/// the operator is told to append the line themselves.
pub(super) fn anchor(ctx: &Context, head: Option<&Head>) -> Exit {
    let (Some(head), Some(path)) = (head, ctx.config.audit.anchor.as_ref()) else {
        return Exit::Ok;
    };
    match Anchor::append(path, head) {
        Ok(()) => Exit::Ok,
        Err(e) => {
            output::error(ctx.errors, &e);
            output::message(
                ctx.errors,
                &format!(
                    "the change is applied, but its head is not anchored: append `{}` to `{}` yourself",
                    head.to_line(),
                    path.display()
                ),
            );
            Exit::Failure
        }
    }
}
