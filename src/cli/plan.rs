//! `steward plan`: the dry run of a bulk change (C3, P4, P5).

use std::io::IsTerminal as _;
use std::path::PathBuf;

use super::output::plural;
use super::{Context, ErrorFormat, Exit, Format, output};
use crate::Engine;
use crate::plan::{DENIED, ERROR, Plan, PlanError, PlanItem, PlanRequest, Targets};
use crate::schema::Schema;

/// Preview a bulk change: who is affected, how, and why; nothing is changed.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    /// The policy set and the directory.
    #[command(flatten)]
    pub inputs: output::Inputs,
    /// The acting user.
    #[arg(long, required = true)]
    pub actor: Option<String>,
    /// The action (default with --trigger: the trigger's).
    #[arg(long)]
    pub action: Option<String>,
    /// The targets: one user id per line, or a CSV with a `user` column and optional `env` and `value` columns.
    #[arg(long, group = "select")]
    pub targets: Option<PathBuf>,
    /// The targets of `invite`: e-mail addresses separated by commas or spaces (Q3).
    #[arg(long, group = "select")]
    pub emails: Option<String>,
    /// The targets: accounts for which this policy expression holds (each is `target`).
    #[arg(long = "where", group = "select")]
    pub selector: Option<String>,
    /// The targets: accounts a trigger of the policy set selects (P5).
    #[arg(long, group = "select")]
    pub trigger: Option<String>,
    /// Only accounts of this environment; the environment of listed users without one.
    #[arg(long)]
    pub env: Option<String>,
    /// The value of items without their own: the new e-mail (`edit_email`), the new name
    /// (`edit_name`), `system` or `normal` (`add_guest`).
    #[arg(long)]
    pub value: Option<String>,
    /// Why (C2); recorded with the plan.
    #[arg(long, required = true)]
    pub reason: Option<String>,
    /// The clock (default: now): RFC 3339, or a date, its midnight in the configured time zone.
    #[arg(long)]
    pub now: Option<output::Now>,
    /// How to print the plan.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Also save the plan, with its digests, as JSON.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The new owner of an asset the plan leaves without one: `ASSET=USER` (repeat for
    /// each); the others go to the default owner their lifecycle block names.
    #[arg(long, value_parser = super::apply::parse_reassign)]
    pub reassign: Vec<(String, String)>,
    /// `show PLAN.json`: print a saved plan.
    #[command(subcommand)]
    pub show: Option<Show>,
}

/// What `plan` does besides planning.
#[derive(Debug, clap::Subcommand)]
pub enum Show {
    /// Print a saved plan as `plan` printed it.
    Show {
        /// The plan (JSON), as `steward plan -o` saved it.
        plan: PathBuf,
        /// How to print it.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Exit 0 when every item can be done, 2 when some are denied, 3 when the
/// inputs are invalid, 1 otherwise.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    if let Some(Show::Show { plan, format }) = &args.show {
        return show(plan, *format, ctx);
    }
    let (Some(actor), Some(reason)) = (args.actor.clone(), args.reason.clone()) else {
        return invalid(errors, "a plan needs --actor USER and --reason TEXT");
    };
    let mut targets = match (&args.targets, &args.emails, &args.selector, &args.trigger) {
        // Read once the directory is loaded: every row is checked against it.
        (Some(_), ..) => Targets::List(Vec::new()),
        (_, Some(emails), ..) => Targets::Emails(crate::policy::request::split_emails(emails)),
        (_, _, Some(expr), _) => Targets::Where(expr.clone()),
        (_, _, _, Some(name)) => Targets::Trigger(name.clone()),
        _ => {
            return invalid(
                errors,
                "give the targets: --targets FILE, --emails LIST, --where EXPR or --trigger NAME",
            );
        }
    };
    let now = match output::now(ctx, args.now) {
        Ok(now) => now,
        Err(exit) => return exit,
    };
    let (policies, directory) = match output::load_both(ctx, &args.inputs) {
        Ok(both) => both,
        Err(exit) => return exit,
    };
    if let Some(path) = &args.targets {
        match super::targets::read(path, &directory, args.env.as_deref()) {
            Ok(list) => targets = Targets::List(list),
            Err(e) => {
                output::error_with_help(errors, &e);
                return Exit::Invalid;
            }
        }
    }
    let schema = policies.schema().clone();
    let engine = Engine::new(policies, directory);
    let request = PlanRequest {
        actor,
        action: args.action,
        targets,
        env: args.env,
        value: args.value,
        reason,
        now,
        reassign: args.reassign.into_iter().collect(),
    };
    let spinner = progress();
    let planned = engine.plan(&request);
    spinner.finish_and_clear();
    let plan = match planned {
        Ok(plan) => plan,
        Err(PlanError::Selector(e)) => return output::policy_error(errors, &e),
        Err(e) => {
            output::error_with_help(errors, &e);
            return Exit::Invalid;
        }
    };
    if let Some(path) = &args.output {
        let text = serde_json::to_string_pretty(&plan).unwrap_or_default();
        if let Err(e) = output::write_atomically(path, &text) {
            output::error(errors, &crate::Error::io(path, e));
            return Exit::Failure;
        }
    }
    let exit = print_plan(&plan, args.format, &schema);
    if let Some(path) = &args.output {
        errln!(
            "saved to {0}: review it with `steward plan show {0}`, apply it with `steward apply {0}`",
            path.display()
        );
    }
    exit
}

/// Prints `plan`; exit 3 when a selector could not be evaluated on some
/// accounts, 2 when some items are denied, 0 otherwise.
fn print_plan(plan: &Plan, format: Format, schema: &Schema) -> Exit {
    match format {
        Format::Json => output::json(plan),
        Format::Human => out!("{}", human(plan, schema)),
    }
    if plan.items.iter().any(|i| i.outcome == ERROR) {
        Exit::Invalid
    } else if plan.items.iter().any(|i| i.outcome == DENIED) {
        Exit::Deny
    } else {
        Exit::Ok
    }
}

/// `steward plan show PLAN.json`: in the words of the configured policy
/// set's schema (steward.yaml), or of the standard one.
fn show(path: &std::path::Path, format: Format, ctx: &Context) -> Exit {
    let plan = match super::apply::read_plan(path) {
        Ok(plan) => plan,
        Err(message) => return invalid(ctx.errors, &message),
    };
    let configured = Some(ctx.config.policies.clone()).filter(|p| !p.is_empty());
    let schema = configured
        .and_then(|paths| crate::policy::PolicySet::load(&paths).ok())
        .map_or_else(crate::policy::declare::standard, |loaded| loaded.set.schema().clone());
    print_plan(&plan, format, &schema)
}

fn invalid(errors: ErrorFormat, message: &str) -> Exit {
    output::message(errors, message);
    Exit::Invalid
}

/// A spinner on a terminal while the plan is computed; nothing otherwise.
fn progress() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner().with_message("deciding and computing impacts");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn human(plan: &Plan, schema: &Schema) -> String {
    let mut out = format!("plan: {} by {} — {}\n\n", plan.action, plan.actor, plan.reason);
    if plan.items.is_empty() {
        out.push_str("no account is selected: the plan has no items\n");
        out.push_str("\nnothing was changed, and there is nothing to apply\n");
        return out;
    }
    let spec = schema.action(&plan.action);
    // What needs attention first: accounts a selector failed on, then
    // denied items, then what apply would do, each in plan order; `#` is
    // the item's place in the plan, the order it is decided and applied in
    // (each over what the items before it leave).
    let rank = |(_, i): &(usize, &PlanItem)| match i.outcome.as_str() {
        ERROR => 0,
        DENIED => 1,
        _ => 2,
    };
    let mut denied_first: Vec<(usize, &PlanItem)> =
        plan.items.iter().enumerate().map(|(n, i)| (n + 1, i)).collect();
    denied_first.sort_by_key(rank);
    let w_place = plan.items.len().to_string().len().max(1);
    // The value as the action reads it: `→ new@example.com`, `as a normal user`.
    let target = |item: &PlanItem| match spec.and_then(|s| s.value_text(item.value.as_deref())) {
        Some(value) => format!("{} {value}", item.target),
        None => item.target.clone(),
    };
    let width = |cells: &mut dyn Iterator<Item = usize>, least: usize| cells.max().unwrap_or(0).max(least);
    let w_outcome = width(&mut plan.items.iter().map(|i| i.outcome.chars().count()), 8);
    let w_target = width(&mut plan.items.iter().map(|i| target(i).chars().count()), 22);
    let w_env = width(&mut plan.items.iter().map(|i| i.env.chars().count()), 12);
    out.push_str(&format!(
        "{:>w_place$} {:<w_outcome$} {:<w_target$} {:<w_env$} {}\n",
        "#", "outcome", "target", "env", "rules / reasons"
    ));
    for (place, item) in denied_first {
        let why = if item.reasons.is_empty() { item.rules.join(", ") } else { item.reasons.join("; ") };
        out.push_str(&format!(
            "{place:>w_place$} {:<w_outcome$} {:<w_target$} {:<w_env$} {why}\n",
            item.outcome,
            target(item),
            item.env
        ));
        if item.outcome == DENIED || item.outcome == ERROR {
            continue;
        }
        for r in item.impact.iter().flat_map(|i| i.reassign.iter()) {
            out.push_str(&format!(
                "{:w_place$} {:w_outcome$}   {} ({}) → {}\n",
                "",
                "",
                r.asset,
                r.kind,
                new_owner(plan, r)
            ));
        }
    }
    out.push_str("\nsummary:\n");
    for (outcome, n) in &plan.summary.outcomes {
        out.push_str(&format!("  {}\n", outcome_line(schema, outcome, *n)));
    }
    for l in &plan.summary.licenses {
        let users = |n: usize| plural(n, "user");
        out.push_str(&format!(
            "  license {}: {} counting now, {} after\n",
            l.license,
            users(l.before),
            users(l.after)
        ));
    }
    if !plan.summary.reassign.is_empty() {
        // Who takes each asset is under its item; said here is what is
        // still open, so that a given owner does not read as missing.
        let reassigned = plan
            .items
            .iter()
            .filter(|i| i.outcome != DENIED && i.outcome != ERROR)
            .flat_map(|i| i.impact.iter().flat_map(|impact| impact.reassign.iter()));
        let (owned, open): (Vec<_>, Vec<_>) = reassigned.partition(|r| r.new_owner.is_some());
        if !owned.is_empty() {
            out.push_str(&format!("  {} to a new owner\n", plural(owned.len(), "asset")));
        }
        if !open.is_empty() {
            let names: Vec<&str> = open.iter().map(|r| r.asset.as_str()).collect();
            out.push_str(&format!("  needs a new owner (--reassign ASSET=USER): {}\n", names.join(", ")));
        }
    }
    if !plan.summary.remove_users.is_empty() {
        out.push_str(&format!(
            "  users to be removed with their last account (D4): {}\n",
            plan.summary.remove_users.join(", ")
        ));
    }
    for w in &plan.summary.warnings {
        out.push_str(&format!(
            "  warning {} ({} in {}): {}\n",
            w.warning.code, w.target, w.env, w.warning.message
        ));
    }
    out.push_str(&format!("\nnothing was changed; {}\n", what_applying_does(plan, schema)));
    out
}

/// Who will own a reassigned asset, and why that one.
fn new_owner(plan: &Plan, r: &crate::graph::Reassignment) -> String {
    match &r.new_owner {
        Some(owner) if plan.reassign.contains_key(&r.asset) => format!("{owner} (given)"),
        Some(owner) => format!("{owner} (default owner)"),
        None => {
            let candidates: Vec<&str> = r.candidates.iter().take(5).map(String::as_str).collect();
            let more = if r.candidates.iter().count() > 5 { ", …" } else { "" };
            match candidates.is_empty() {
                true => "no one may take it: no active member of the environment is left".to_owned(),
                false => format!(
                    "choose with --reassign {}=USER (candidates: {}{more})",
                    r.asset,
                    candidates.join(", ")
                ),
            }
        }
    }
}

/// One outcome's count, as its action's row reads: `2 accounts to be deleted`.
fn outcome_line(schema: &Schema, outcome: &str, n: usize) -> String {
    match schema.action(outcome) {
        _ if outcome == DENIED => format!("{} denied", plural(n, "item")),
        _ if outcome == ERROR => format!("{} the selector could not be evaluated on", plural(n, "account")),
        Some(spec) if spec.executed() => format!("{} to be {}", plural(n, &spec.noun), spec.done),
        Some(spec) => format!("{} to be {} (informational)", plural(n, &spec.noun), spec.done),
        None => format!("{outcome}: {n}"),
    }
}

/// What `steward apply` would do with the plan: nothing when every item is
/// denied; refuse it when an item's action is one it does not execute.
fn what_applying_does(plan: &Plan, schema: &Schema) -> String {
    let errors = plan.items.iter().filter(|i| i.outcome == ERROR).count();
    if errors > 0 {
        return format!(
            "apply refuses this plan: the selector could not be evaluated on {} (mend it and plan again, \
             or apply with --skip-errors)",
            plural(errors, "account")
        );
    }
    let allowed: Vec<&PlanItem> = plan.items.iter().filter(|i| i.outcome != DENIED).collect();
    if allowed.is_empty() {
        return "every item is denied, so there is nothing to apply".to_owned();
    }
    let mut informational: Vec<&str> = allowed
        .iter()
        .map(|i| i.outcome.as_str())
        .filter(|o| !schema.action(o).is_some_and(|a| a.executed()))
        .collect();
    informational.sort_unstable();
    informational.dedup();
    if informational.is_empty() {
        return format!("applying {} asks for confirmation (C2)", plural(allowed.len(), "item"));
    }
    let names: Vec<String> = informational.iter().map(|o| format!("`{o}`")).collect();
    format!("apply does not execute {}: this plan is informational, and apply refuses it", names.join(", "))
}
