//! `steward diff`: every request whose decision a policy change changes,
//! over the whole directory.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{Context, Exit, Format, output};
use crate::analysis::{Diff, DiffError, DiffQuery, Group, Shape, diff, diff_plan};

/// What a policy change does to the directory.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy set before the change: files or folders.
    #[arg(long, required_unless_present = "plan", conflicts_with = "plan")]
    pub base: Vec<PathBuf>,
    /// Compare a plan saved by `steward plan -o` instead: which of its items the policy set
    /// decides otherwise, walked again in order at the plan's clock.
    #[arg(long, conflicts_with_all = ["actions", "envs", "shapes"])]
    pub plan: Option<PathBuf>,
    /// The policy set after the change, and the directory.
    #[command(flatten)]
    pub inputs: output::Inputs,
    /// Compare this action only (repeat for more; default: every action on accounts, and every
    /// action on assets a rule names).
    #[arg(long = "action")]
    pub actions: Vec<String>,
    /// Compare in this environment only (repeat for more; default: all).
    #[arg(long = "env")]
    pub envs: Vec<String>,
    /// A request shape: `single` or `bulk`, `confirm`, `reason=TEXT`, joined by commas (repeat
    /// for more; default: single and bulk, each plain and confirmed with a reason).
    #[arg(long = "request-shape", value_parser = Shape::parse)]
    pub shapes: Vec<Shape>,
    /// The clock every request is decided at (default: now).
    #[arg(long)]
    pub now: Option<output::Now>,
    /// How to print the answer: groups with examples, or every changed request.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Exit 0 when no answer changes, 2 when one does, 3 when either set, the
/// directory or the query is invalid.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let now = match output::now(ctx, args.now) {
        Ok(now) => now,
        Err(exit) => return exit,
    };
    let (policies, directory) = match output::load_both(ctx, &args.inputs) {
        Ok(both) => both,
        Err(exit) => return exit,
    };
    if let Some(path) = &args.plan {
        return plan(ctx, path, crate::Engine::new(policies, directory), args.format);
    }
    let base = match output::load_policies(&args.base, errors) {
        Ok(set) => set,
        Err(exit) => return exit,
    };
    let new = crate::Engine::new(policies, directory);
    let old = new.with_policies(base);
    let query = DiffQuery { actions: args.actions, envs: args.envs, shapes: args.shapes, now };
    let answer = match diff(&old, &new, &query) {
        Ok(answer) => answer,
        Err(DiffError::Request(e)) => return output::request_error(errors, &e, new.directory()),
        Err(e) => {
            output::message(errors, &e.to_string());
            return Exit::Invalid;
        }
    };
    match args.format {
        Format::Json => json(&answer),
        Format::Human => out!("{}", human(&answer, &rule_names(&old), &rule_names(&new))),
    }
    if answer.changed_answers() > 0 { Exit::Deny } else { Exit::Ok }
}

/// `--plan`: the items of a saved plan the policy set decides otherwise.
fn plan(ctx: &Context, path: &std::path::Path, engine: crate::Engine, format: Format) -> Exit {
    let errors = ctx.errors;
    let saved = match super::apply::read_plan(path) {
        Ok(plan) => plan,
        Err(message) => {
            output::message(errors, &message);
            // Unreadable is 1, as for every other input; not a plan is 3.
            return if path.is_file() && std::fs::File::open(path).is_ok() {
                Exit::Invalid
            } else {
                Exit::Failure
            };
        }
    };
    let answer = match diff_plan(&engine, &saved) {
        Ok(answer) => answer,
        Err(DiffError::Request(e)) => return output::request_error(errors, &e, engine.directory()),
        Err(e) => {
            output::message(errors, &e.to_string());
            return Exit::Invalid;
        }
    };
    if answer.directory_changed {
        output::note(
            errors,
            "the directory changed since the plan was made: an item may differ because of the data, not the policy",
        );
    }
    match format {
        Format::Json => output::json(&answer),
        Format::Human => {
            let mut out = String::new();
            for c in &answer.changed {
                let rules =
                    |r: &[String]| if r.is_empty() { String::new() } else { format!(" ({})", r.join(", ")) };
                out.push_str(&format!(
                    "#{} {} in {}: {}{} → {}{}\n",
                    c.item,
                    c.target,
                    c.env,
                    c.before,
                    rules(&c.before_rules),
                    c.after,
                    rules(&c.after_rules)
                ));
                if c.before != c.after && !c.reasons.is_empty() {
                    out.push_str(&format!("    {}\n", c.reasons.join("; ")));
                }
            }
            let changed = answer.changed.iter().filter(|c| c.before != c.after).count();
            out.push_str(&format!(
                "{} of the plan's {} decided otherwise{}\n",
                output::plural(changed, "item"),
                answer.items,
                if answer.same_policy { " (the plan's own policy set)" } else { "" }
            ));
            out!("{out}");
        }
    }
    if answer.changed.iter().any(|c| c.before != c.after) { Exit::Deny } else { Exit::Ok }
}

/// "1 request changes its answer", "2 requests change their answer".
pub(super) fn changes_answer(count: usize, noun: &str) -> String {
    let verb = if count == 1 { "changes its answer" } else { "change their answer" };
    format!("{} {verb}", output::plural(count, noun))
}

fn rule_names(engine: &crate::Engine) -> BTreeSet<String> {
    engine.policies().rules().iter().map(|r| r.name.clone()).collect()
}

/// Groups with counts and examples: answers that change first, then
/// requests decided by other rules alike.
fn human(answer: &Diff, before: &BTreeSet<String>, after: &BTreeSet<String>) -> String {
    let plural = output::plural;
    let mut out = String::new();
    let label = |rules: &[String], other: &BTreeSet<String>, mark: &str| -> String {
        let listed: Vec<String> = rules
            .iter()
            .map(|r| {
                let is_rule = before.contains(r) || after.contains(r);
                if is_rule && !other.contains(r) { format!("`{r}` ({mark})") } else { format!("`{r}`") }
            })
            .collect();
        listed.join(", ")
    };
    for answers in [true, false] {
        for group in answer.groups.iter().filter(|g| g.answer_changes() == answers) {
            let requests = plural(group.requests as usize, "request");
            let what = if answers {
                format!("{} → {}", group.before.decision, group.after.decision)
            } else {
                format!("{} by other rules", group.before.decision)
            };
            out.push_str(&format!("{}: {requests} {what}\n", group.action));
            out.push_str(&format!("  before: {}\n", label(&group.before.rules, after, "removed")));
            out.push_str(&format!("  after:  {}\n", label(&group.after.rules, before, "new")));
            for (i, e) in group.examples.iter().enumerate() {
                let lead = if i == 0 { "  e.g." } else { "      " };
                match (&e.asset, &e.to) {
                    (Some(asset), Some(to)) => out.push_str(&format!(
                        "{lead} {}: {} → {asset} to {to} ({})\n",
                        e.env, e.actor, e.shape
                    )),
                    _ => {
                        out.push_str(&format!("{lead} {}: {} → {} ({})\n", e.env, e.actor, e.target, e.shape))
                    }
                }
            }
            if group.requests > group.examples.len() as u64 {
                out.push_str("        … every one with --format json\n");
            }
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    for (action, by) in &answer.declared_by_one {
        let other = if *by == "new" { "base" } else { "new" };
        out.push_str(&format!(
            "note: `{action}` is declared by the {by} set only: its requests under the {other} set are compared as denied (`{}`)\n",
            crate::analysis::diff::UNDECLARED
        ));
    }
    for (action, why) in &answer.one_by_one {
        let by = if answer.on_assets.contains(action) { "triple by triple" } else { "pair by pair" };
        out.push_str(&format!("note: `{action}` was decided {by}: its rules have {why}\n"));
    }
    for action in &answer.without_assets {
        out.push_str(&format!(
            "note: `{action}` acts on assets, and the environments compared hold none: it has no request to compare\n"
        ));
    }
    let changed = answer.changed_answers();
    out.push_str(&format!(
        "{} compared ({} × {} × {}) in {}: {}",
        plural(answer.compared as usize, "request"),
        plural(answer.actions.len(), "action"),
        plural(answer.environments, "environment"),
        plural(answer.shapes.len(), "request shape"),
        plural(answer.decisions as usize, "decision"),
        if changed == 0 {
            "no answer changes".to_owned()
        } else {
            changes_answer(changed as usize, "request")
        },
    ));
    let rules = answer.changed_rules();
    if rules > 0 {
        let keep = if rules == 1 { "keeps its answer" } else { "keep their answer" };
        out.push_str(&format!(", {} {keep} by other rules", plural(rules as usize, "request")));
    }
    out.push('\n');
    out
}

/// The summary, the groups, and every changed request, written as it is
/// listed (a change can cover millions of requests).
fn json(answer: &Diff) {
    #[derive(serde::Serialize)]
    struct Head<'a> {
        actions: &'a [String],
        shapes: &'a [Shape],
        environments: usize,
        compared: u64,
        decisions: u64,
        changed_answers: u64,
        changed_rules: u64,
        declared_by_one: Vec<serde_json::Value>,
        one_by_one: Vec<serde_json::Value>,
        on_assets: &'a [String],
        without_assets: &'a [String],
        groups: &'a [Group],
    }
    #[derive(serde::Serialize)]
    struct Change<'a> {
        action: &'a str,
        env: String,
        actor: String,
        #[serde(skip_serializing_if = "String::is_empty")]
        target: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        asset: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        shape: Shape,
        before: &'a crate::analysis::Outcome,
        after: &'a crate::analysis::Outcome,
    }
    let head = Head {
        actions: &answer.actions,
        shapes: &answer.shapes,
        environments: answer.environments,
        compared: answer.compared,
        decisions: answer.decisions,
        changed_answers: answer.changed_answers(),
        changed_rules: answer.changed_rules(),
        declared_by_one: answer
            .declared_by_one
            .iter()
            .map(|(action, set)| serde_json::json!({ "action": action, "set": set }))
            .collect(),
        one_by_one: answer
            .one_by_one
            .iter()
            .map(|(action, why)| serde_json::json!({ "action": action, "why": why }))
            .collect(),
        on_assets: &answer.on_assets,
        without_assets: &answer.without_assets,
        groups: &answer.groups,
    };
    let Ok(text) = serde_json::to_string_pretty(&head) else { return };
    // The head's closing brace gives way to the list of changes.
    let open = text.trim_end().strip_suffix('}').unwrap_or(&text).trim_end();
    out!("{open},\n  \"changes\": [");
    // Written in pieces of about 64 KiB: a line per write would be a
    // system call per change, and a change can cover millions.
    let mut first = true;
    let mut pending = String::new();
    answer.for_each_change(&mut |group, e| {
        let change = Change {
            action: &group.action,
            env: e.env,
            actor: e.actor,
            target: e.target,
            asset: e.asset,
            to: e.to,
            shape: e.shape,
            before: &group.before,
            after: &group.after,
        };
        if let Ok(line) = serde_json::to_string(&change) {
            pending.push_str(if first { "\n    " } else { ",\n    " });
            pending.push_str(&line);
            first = false;
        }
        if pending.len() >= 1 << 16 {
            out!("{pending}");
            pending.clear();
            // Piped into `head`: the rest is not wanted.
            return !output::stdout_closed();
        }
        true
    });
    out!("{pending}{}]\n}}\n", if first { "" } else { "\n  " });
}
