//! `steward who`: every account that may do an action to a target, or every
//! account an actor may do it to; complete, in pages.

use super::{Context, Exit, Format, output};
use crate::analysis::{WhoError, WhoPage, WhoQuery, who};

/// Who may do an action to a target, or whom an actor may do it to.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy set and the directory.
    #[command(flatten)]
    pub inputs: output::Inputs,
    /// Whom may this user do it to? (give this or --target)
    #[arg(long, conflicts_with = "target", required_unless_present = "target")]
    pub actor: Option<String>,
    /// The action.
    #[arg(long)]
    pub action: String,
    /// Who may do it to this user? (give this or --actor)
    #[arg(long)]
    pub target: Option<String>,
    /// The environment.
    #[arg(long)]
    pub env: String,
    /// The new value, for an action that takes one.
    #[arg(long)]
    pub value: Option<String>,
    /// List those who may not too, with the rules and reasons.
    #[arg(long)]
    pub why: bool,
    /// At most this many accounts listed (1 to 10,000); the output says where the next page starts.
    #[arg(long, default_value_t = crate::analysis::who::DEFAULT_LIMIT)]
    pub limit: usize,
    /// Start after this user id: the `--after` the page before gave.
    #[arg(long)]
    pub after: Option<String>,
    /// Why, confirmed, in bulk, when: every request is decided with these.
    #[command(flatten)]
    pub flags: output::RequestFlags,
    /// How to print the answer.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Exit 0 with the answer (maybe nobody), 3 when the query or the inputs
/// are invalid.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let base = match args.flags.request(ctx) {
        Ok(request) => request,
        Err(exit) => return exit,
    };
    let (policies, directory) = match output::load_both(ctx, &args.inputs) {
        Ok(both) => both,
        Err(exit) => return exit,
    };
    let query = WhoQuery {
        action: args.action,
        env: args.env,
        actor: args.actor,
        target: args.target,
        why: args.why,
        limit: args.limit,
        after: args.after,
        reason: base.reason,
        confirm: base.confirm,
        bulk: base.bulk,
        value: args.value,
        now: base.now,
    };
    let engine = crate::Engine::new(policies, directory);
    match who(&engine, &query) {
        Ok(page) => {
            match args.format {
                Format::Json => output::json(&page),
                Format::Human => out!("{}", human(&page)),
            }
            Exit::Ok
        }
        Err(WhoError::Request(e)) => output::request_error(errors, &e, engine.directory()),
        Err(e) => {
            output::message(errors, &e.to_string());
            Exit::Invalid
        }
    }
}

fn human(page: &WhoPage) -> String {
    let plural = output::plural;
    let mut out = match page.asked {
        "actors" => format!("who may {} `{}` in {}:\n", page.action, page.given, page.env),
        _ => format!("whom `{}` may {} in {}:\n", page.given, page.action, page.env),
    };
    if page.allowed.is_empty() {
        out.push_str("  nobody\n");
    }
    for entry in &page.allowed {
        out.push_str(&format!("  {:<24} {}\n", entry.user, entry.rules.join(", ")));
    }
    if let Some(denied) = &page.denied {
        out.push_str(&format!("\nmay not ({}):\n", denied.len()));
        for entry in denied {
            let why =
                if entry.reasons.is_empty() { entry.rules.join(", ") } else { entry.reasons.join("; ") };
            out.push_str(&format!("  {:<24} {why}\n", entry.user));
        }
    }
    out.push_str(&format!(
        "\n{} decided of the {} in {}",
        plural(page.examined, "account"),
        plural(page.accounts, "account"),
        page.env
    ));
    match &page.next {
        Some(next) => out.push_str(&format!("; more: --after {next}\n")),
        None => out.push_str("; that is all\n"),
    }
    out
}
