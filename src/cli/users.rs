//! `steward users`: find accounts by text (Q5) or by a policy expression.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::{Context, Exit, Format, output};
use crate::directory::model::Account;
use crate::policy::{PolicySet, Request};

/// List accounts: by name, user id, e-mail or a text attribute of the user (the IdP subject), or with a selector.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders whose schema the directory is read by (default: `policies` in steward.yaml; without any, the standard schema).
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
    /// The directory, `.yaml`, `.json` or `.db` (default: `directory` in steward.yaml).
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// Text found in the name, user id, e-mail or a text attribute of the user, such as the IdP subject (case-insensitive).
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
    roles: &'a [String],
    /// The user's text attributes (the standard schema's subject at the
    /// identity provider among them, Q5): what `--search` also reads.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    attrs: BTreeMap<&'a str, &'a str>,
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
    // A misspelt environment is an error with the closest one, not an
    // empty list that reads as "nobody".
    if let Some(env) = args.env.as_deref()
        && directory.environment(env).is_none()
    {
        return output::request_error(
            errors,
            &crate::RequestError::UnknownEnvironment(env.to_owned()),
            &directory,
        );
    }
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
        // A user is found by their text attributes too, as by name, id and
        // address: the standard schema's subject at the identity provider
        // tells namesakes apart (Q5), a pack's own may be an employee number.
        let attrs: BTreeMap<&str, &str> = user
            .map(|u| {
                u.attrs
                    .iter()
                    .filter_map(|(k, v)| match v {
                        crate::directory::model::AttrValue::Str(s) => Some((k.as_str(), s.as_str())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        if let Some(needle) = &needle
            && !matches_text(account, &attrs, needle)
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
            roles: &account.roles,
            attrs,
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

fn matches_text(account: &Account, attrs: &BTreeMap<&str, &str>, needle: &str) -> bool {
    let hit = |s: &str| s.to_lowercase().contains(needle);
    hit(&account.user)
        || hit(&account.name)
        || account.email.as_deref().is_some_and(hit)
        || attrs.values().any(|v| hit(v))
}
