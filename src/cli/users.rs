//! `steward users`: find accounts by text (Q5) or by a policy expression.

use std::path::PathBuf;

use serde::Serialize;

use super::{Context, Exit, Format, output};
use crate::directory::model::Account;
use crate::policy::{PolicySet, Request};

/// List accounts: by name, user id, IdP subject or e-mail, or with a selector.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders whose schema the directory is read by (default: `policies` in steward.yaml; without any, the standard schema).
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
    /// The directory, `.yaml`, `.json` or `.db` (default: `directory` in steward.yaml).
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// Text found in the name, user id, IdP subject or e-mail (case-insensitive).
    #[arg(long)]
    pub search: Option<String>,
    /// A policy expression over each account as `target`, for example
    /// `target.status == "blocked" and environment.kind == "test"`.
    #[arg(long = "where")]
    pub selector: Option<String>,
    /// Only accounts of this environment.
    #[arg(long)]
    pub env: Option<String>,
    /// The clock for `request.now` in the selector (default: now): RFC 3339, or a date, its
    /// midnight in the configured time zone.
    #[arg(long)]
    pub now: Option<output::Now>,
    /// How to print.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Serialize)]
struct Row<'a> {
    user: &'a str,
    env: &'a str,
    status: &'a str,
    kind: &'a str,
    name: &'a str,
    email: Option<&'a str>,
    idp_subject: Option<&'a str>,
    roles: &'a [String],
}

/// Exit 0 with the list (possibly empty), 3 when the selector is invalid.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let paths = ctx.config.policies_or(&args.policies);
    let set = if paths.is_empty() {
        None
    } else {
        match output::load_policies(&paths, errors) {
            Ok(set) => Some(set),
            Err(exit) => return exit,
        }
    };
    let schema = set.as_ref().map_or_else(crate::policy::declare::standard, |s| s.schema().clone());
    let compile = |text: &str| match &set {
        Some(set) => set.compile_selector(text),
        None => PolicySet::standard_selector(text),
    };
    let selector = match args.selector.as_deref().map(compile).transpose() {
        Ok(s) => s,
        Err(e) => return output::policy_error(errors, &e),
    };
    let directory = match output::configured_directory(ctx, args.directory.as_deref(), &schema) {
        Ok(d) => d,
        Err(exit) => return exit,
    };
    let needle = args.search.as_deref().map(str::to_lowercase);
    let now = match output::now(ctx, args.now) {
        Ok(now) => now,
        Err(exit) => return exit,
    };
    let request = Request { now: Some(now), ..Request::default() };
    let mut rows = Vec::new();
    let mut failures = 0usize;
    for account in directory.accounts() {
        if args.env.as_deref().is_some_and(|e| e != account.env) {
            continue;
        }
        let user = directory.user(&account.user);
        // The standard schema's subject at the identity provider (Q5): a
        // user is found by it, as by name, id and address.
        let subject = user.and_then(|u| match u.attrs.get("idp_subject") {
            Some(crate::directory::model::AttrValue::Str(s)) => Some(s.as_str()),
            _ => None,
        });
        if let Some(needle) = &needle
            && !matches_text(account, subject, needle)
        {
            continue;
        }
        if let Some(selector) = &selector {
            match selector.matches(account, &request, &directory) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => {
                    failures += 1;
                    continue;
                }
            }
        }
        rows.push(Row {
            user: &account.user,
            env: &account.env,
            status: account.status.as_str(),
            kind: account.kind.as_str(),
            name: &account.name,
            email: account.email.as_deref(),
            idp_subject: subject,
            roles: &account.roles,
        });
    }
    if failures > 0 {
        errln!(
            "warning: the selector could not be evaluated on {failures} accounts (left out); test optional attributes with `has`"
        );
    }
    match args.format {
        Format::Json => output::json(&rows),
        Format::Human => {
            let mut table = super::table::Table::new(&["user", "env", "status", "kind", "name", "email"]);
            for r in &rows {
                let cells = [r.user, r.env, r.status, r.kind, r.name, r.email.unwrap_or("-")];
                table.row(cells.map(str::to_owned).to_vec());
            }
            if !rows.is_empty() {
                table.print();
            }
            errln!("{}", output::plural(rows.len(), "account"));
        }
    }
    Exit::Ok
}

fn matches_text(account: &Account, subject: Option<&str>, needle: &str) -> bool {
    let hit = |s: &str| s.to_lowercase().contains(needle);
    hit(&account.user)
        || hit(&account.name)
        || account.email.as_deref().is_some_and(hit)
        || subject.is_some_and(hit)
}
