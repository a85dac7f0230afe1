//! `steward show`: a user's accounts, assets and references.

use std::path::PathBuf;

use serde::Serialize;

use super::{Context, Exit, Format, output};
use crate::directory::Directory;
use crate::directory::model::{Account, Asset, Reference, User};

/// Show a user's accounts, assets and references (or a summary of the directory).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders whose schema the directory is read by (default: `policies` in steward.yaml; without any, the standard schema).
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
    /// The directory, `.yaml`, `.json` or `.db` (default: `directory` in steward.yaml).
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// The user to show; without it, a summary.
    pub user: Option<String>,
    /// How to print.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Serialize)]
struct Shown<'a> {
    user: &'a User,
    accounts: Vec<&'a Account>,
    assets: Vec<&'a Asset>,
    references: Vec<&'a Reference>,
}

/// How the user `id` left a database, from its audit log: the entry that
/// removed them (D4) or deleted their last account. `None` for a file, or
/// a user the log does not know.
fn deleted(path: &std::path::Path, id: &str) -> Option<String> {
    if !crate::directory::is_store(path) {
        return None;
    }
    let entries = crate::directory::store::Store::open_existing(path).ok()?.audit(Some(id)).ok()?;
    let last =
        entries.iter().rev().find(|e| e.change.action == "delete_user" || e.change.action == "delete")?;
    let c = &last.change;
    Some(format!(
        "`{id}` is no longer in the directory: deleted by `{}` at {} (audit entry {}, `{}` in `{}`: {})",
        c.actor, c.at, last.seq, c.action, c.env, c.reason
    ))
}

/// Exit 0, or 3 when the user does not exist.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let schema = match output::configured_schema(ctx, &args.policies) {
        Ok(schema) => schema,
        Err(exit) => return exit,
    };
    let directory = match output::configured_directory(ctx, args.directory.as_deref(), &schema) {
        Ok(d) => d,
        Err(exit) => return exit,
    };
    let Some(id) = args.user else {
        summary(&directory, args.format);
        return Exit::Ok;
    };
    let Some(user) = directory.user(&id) else {
        let path = ctx.config.directory_or(args.directory.as_deref());
        let hint = crate::diagnostic::did_you_mean(&id, directory.users().iter().map(|u| u.id.as_str()));
        let message = match (path.as_deref().and_then(|p| deleted(p, &id)), hint) {
            (Some(deleted), _) => deleted,
            (None, Some(s)) => format!("unknown user `{id}`; did you mean `{s}`?"),
            (None, None) => format!("unknown user `{id}`"),
        };
        output::error(errors, &std::io::Error::other(message));
        return Exit::Invalid;
    };
    let shown = Shown {
        user,
        accounts: directory.accounts_of(&id).collect(),
        assets: directory.assets().iter().filter(|a| a.owner.as_deref() == Some(id.as_str())).collect(),
        references: directory.references().iter().filter(|r| r.user == id).collect(),
    };
    match args.format {
        Format::Json => output::json(&shown),
        Format::Human => out!("{}", human(&shown, &schema)),
    }
    Exit::Ok
}

fn human(shown: &Shown<'_>, schema: &crate::schema::Schema) -> String {
    use crate::directory::model::AttrValue;
    let u = shown.user;
    let mut out = format!("{}  home {}", u.id, u.home);
    // The user's declared attributes that are not their default, in the
    // schema's order: a flag by its name (`guest license`), a value after it.
    for decl in schema.attributes_of(crate::schema::Entity::User) {
        let Some(value) = u.attrs.get(&decl.name) else { continue };
        if decl.default.as_ref().map(AttrValue::from).as_ref() == Some(value) {
            continue;
        }
        let name = decl.name.replace('_', " ");
        match value {
            AttrValue::Bool(true) => out.push_str(&format!("  {name}")),
            AttrValue::Bool(false) => out.push_str(&format!("  no {name}")),
            AttrValue::Int(i) => out.push_str(&format!("  {name} {i}")),
            AttrValue::Str(text) => out.push_str(&format!("  {name} {text}")),
            AttrValue::Date(d) => out.push_str(&format!("  {name} {d}")),
            AttrValue::DateTime(t) => out.push_str(&format!("  {name} {t}")),
            AttrValue::List(items) => out.push_str(&format!("  {name} ({} values)", items.len())),
        }
    }
    out.push_str("\n\naccounts:\n");
    for a in &shown.accounts {
        let roles = if a.roles.is_empty() { String::new() } else { format!("  [{}]", a.roles.join(", ")) };
        out.push_str(&format!(
            "  {:<12} {:<8} {:<9} {}{}{}\n",
            a.env,
            a.status.as_str(),
            a.kind.as_str(),
            a.email.as_deref().unwrap_or("-"),
            roles,
            a.invited_until.map(|t| format!("  invited until {t}")).unwrap_or_default()
        ));
    }
    if !shown.assets.is_empty() {
        out.push_str("\nowns:\n");
        for a in &shown.assets {
            out.push_str(&format!("  {:<12} {:<16} {}\n", a.env, a.kind.as_str(), a.id));
        }
    }
    if !shown.references.is_empty() {
        out.push_str("\nreferred to by:\n");
        for r in &shown.references {
            out.push_str(&format!("  {:<12} {} rows in {}\n", r.env, r.rows, r.table));
        }
    }
    out
}

fn summary(directory: &Directory, format: Format) {
    let counts = serde_json::json!({
        "environments": directory.environments().len(),
        "users": directory.users().len(),
        "accounts": directory.accounts().len(),
        "assets": directory.assets().len(),
        "references": directory.references().len(),
    });
    match format {
        Format::Json => output::json(&counts),
        Format::Human => {
            for e in directory.environments() {
                let accounts = directory.accounts_in(&e.id).count();
                outln!(
                    "{:<12} license {:<8} {:<10} {}",
                    e.id,
                    e.license,
                    e.kind.as_str(),
                    output::plural(accounts, "account")
                );
            }
            outln!(
                "\n{}, {}, {}, {}",
                output::plural(directory.users().len(), "user"),
                output::plural(directory.accounts().len(), "account"),
                output::plural(directory.assets().len(), "asset"),
                output::plural(directory.references().len(), "reference")
            );
        }
    }
}
