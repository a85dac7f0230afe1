//! `steward impact`: what an action on an account would do.

use clap::ValueEnum;

use super::{Context, Exit, output};
use crate::Engine;
use crate::graph::{ImpactQuery, dot, report};

/// Show what an action on an account would do, before anyone does it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy set and the directory.
    #[command(flatten)]
    pub inputs: output::Inputs,
    /// Who would act: decides the fallback and is the context of follow-ups.
    #[arg(long)]
    pub actor: Option<String>,
    /// The action (default: `delete`, when the schema declares one).
    #[arg(long)]
    pub action: Option<String>,
    /// The user whose account is acted on.
    #[arg(long)]
    pub target: String,
    /// The environment of the account.
    #[arg(long)]
    pub env: String,
    /// Why, confirmed, in bulk, when: the fallback is decided for the request `decide` would get.
    #[command(flatten)]
    pub flags: output::RequestFlags,
    /// How to print the impact.
    #[arg(long, value_enum, default_value_t)]
    pub format: ImpactFormat,
}

/// Output formats of `impact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ImpactFormat {
    /// Text for people, verdict first.
    #[default]
    Human,
    /// JSON, as documented in docs/json.md.
    Json,
    /// Graphviz DOT: `steward impact ... --format dot | dot -Tsvg > impact.svg`.
    Dot,
}

/// Exit 0 with the impact, 3 when the request or inputs are invalid (as
/// `decide` says it).
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    // The request `decide` would get, for the follow-up decisions.
    let context = match args.flags.request(ctx) {
        Ok(request) => request,
        Err(exit) => return exit,
    };
    let (policies, directory) = match output::load_both(ctx, &args.inputs) {
        Ok(both) => both,
        Err(exit) => return exit,
    };
    let action = match args.action.clone() {
        Some(action) => action,
        None if policies.schema().action("delete").is_some() => "delete".to_owned(),
        None => {
            let actions = policies.schema().action_list(|a| a.subject.has_target());
            output::message(
                errors,
                &format!(
                    "give --action: the schema declares no `delete` to default to (its actions on accounts: {actions})"
                ),
            );
            return Exit::Invalid;
        }
    };
    let engine = Engine::new(policies, directory);
    let query =
        ImpactQuery { actor: args.actor.as_deref(), action: &action, user: &args.target, env: &args.env };
    let impact = match engine.impact_in_context(&query, &context) {
        Ok(i) => i,
        Err(e) => return output::request_error(errors, &e, engine.directory()),
    };
    match args.format {
        ImpactFormat::Human => out!("{}", report::render(&impact, engine.policies().schema())),
        ImpactFormat::Json => output::json(&impact),
        ImpactFormat::Dot => out!("{}", dot::render(&impact)),
    }
    Exit::Ok
}
