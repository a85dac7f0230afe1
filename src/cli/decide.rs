//! `steward decide`: one request, from flags or as JSON.

use std::io::Read as _;
use std::path::PathBuf;

use super::{Context, Exit, Format, output};
use crate::Engine;
use crate::policy::Request;
use crate::policy::request::split_emails;

/// Decide one request: allowed or denied, by which rules, and what it would do.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy set and the directory.
    #[command(flatten)]
    pub inputs: output::Inputs,
    /// The request as JSON, from a file or `-` for stdin (instead of the flags below).
    #[arg(long, conflicts_with_all = ["actor", "action"])]
    pub request: Option<PathBuf>,
    /// The acting user; they act through their account in `--env`.
    #[arg(long, required_unless_present = "request")]
    pub actor: Option<String>,
    /// The action, for example `delete`.
    #[arg(long, required_unless_present = "request")]
    pub action: Option<String>,
    /// The user acted on.
    #[arg(long, conflicts_with = "asset")]
    pub target: Option<String>,
    /// The asset acted on (`reassign`).
    #[arg(long)]
    pub asset: Option<String>,
    /// The environment.
    #[arg(long, required_unless_present = "request")]
    pub env: Option<String>,
    /// Why, confirmed, in bulk, when.
    #[command(flatten)]
    pub flags: output::RequestFlags,
    /// The new value of an edit (`edit_email`, `edit_name`).
    #[arg(long)]
    pub value: Option<String>,
    /// The new owner of a `reassign`.
    #[arg(long)]
    pub to: Option<String>,
    /// The addresses of an `invite`, separated by commas or spaces.
    #[arg(long)]
    pub emails: Option<String>,
    /// The login method of a `login` (`password` or `sso`).
    #[arg(long)]
    pub method: Option<String>,
    /// How to print the verdict.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Exit 0 allowed, 2 denied, 3 invalid policy, directory or request, 1 otherwise.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let flagged = match args.flags.request(ctx) {
        Ok(request) => request,
        Err(exit) => return exit,
    };
    let request = match request(&args, flagged) {
        Ok(r) => r,
        Err(message) => {
            output::message(errors, &message);
            return Exit::Invalid;
        }
    };
    let (policies, directory) = match output::load_both(ctx, &args.inputs) {
        Ok(both) => both,
        Err(exit) => return exit,
    };
    let engine = Engine::new(policies, directory);
    let verdict = match engine.decide(&request) {
        Ok(v) => v,
        Err(e) => return output::request_error(errors, &e, engine.directory()),
    };
    match args.format {
        Format::Json => output::json(&verdict),
        Format::Human => out!("{}", human(&verdict, engine.policies().schema())),
    }
    if verdict.allowed() { Exit::Ok } else { Exit::Deny }
}

fn request(args: &Args, flagged: Request) -> Result<Request, String> {
    let now = flagged.now;
    let mut request = match &args.request {
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read stdin: {e}"))?;
                text
            } else {
                std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?
            };
            serde_json::from_str::<Request>(&text).map_err(|e| format!("invalid request JSON: {e}"))?
        }
        None => Request {
            actor: args.actor.clone().unwrap_or_default(),
            action: args.action.clone().unwrap_or_default(),
            target: args.target.clone(),
            asset: args.asset.clone(),
            env: args.env.clone().unwrap_or_default(),
            value: args.value.clone(),
            to: args.to.clone(),
            emails: args.emails.as_deref().map(split_emails).unwrap_or_default(),
            method: args.method.clone(),
            ..flagged
        },
    };
    if request.now.is_none() {
        request.now = now;
    }
    Ok(request)
}

fn human(verdict: &crate::Verdict, schema: &crate::schema::Schema) -> String {
    let mut out = format!("{}\n", verdict.report.decision);
    for rule in &verdict.report.rules {
        out.push_str(&format!("  {} {} ({})\n", rule.effect, rule.id, rule.source));
    }
    for reason in &verdict.report.reasons {
        out.push_str(&format!("  because {reason}\n"));
    }
    for error in &verdict.report.errors {
        out.push_str(&format!("  error: {error}\n"));
    }
    if let Some(fallback) = &verdict.fallback {
        out.push_str(&format!(
            "  fallback: {} ({})\n",
            fallback.action,
            if fallback.decision == "allow" { "allowed" } else { "denied" }
        ));
    }
    if let Some(impact) = &verdict.impact {
        // A denied request changes nothing: its impact is what it would do;
        // one that falls back (P3) has the fallback's impact, labelled so.
        out.push_str(match &verdict.fallback {
            Some(f) if f.decision == "allow" => "\nwhat the fallback does:\n",
            Some(_) => "\nwhat the fallback would do if allowed:\n",
            None if verdict.allowed() => "\nwhat it does:\n",
            None => "\nwhat it would do if allowed:\n",
        });
        out.push_str(&crate::graph::report::render(impact, schema));
    }
    out
}
