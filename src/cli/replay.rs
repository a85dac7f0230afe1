//! `steward replay`: the decisions a service logged, decided again under
//! another policy set.

use std::path::PathBuf;

use super::{Context, Exit, Format, output};
use crate::analysis::{DiffError, Replay, replay};

/// Decide the logged decisions again.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The decision log `steward serve --decision-log` wrote (JSON lines).
    pub log: PathBuf,
    /// The policy set to decide them under, and the directory.
    #[command(flatten)]
    pub inputs: output::Inputs,
    /// How to print the answer.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Exit 0 when no answer changes, 2 when one does or a request can no
/// longer be decided, 1 when the log cannot be read, 3 when it is not a
/// decision log or the inputs are invalid.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let text = match std::fs::read_to_string(&args.log) {
        Ok(text) => text,
        Err(e) => {
            output::message(errors, &format!("cannot read `{}`: {e}", args.log.display()));
            return Exit::Failure;
        }
    };
    let (policies, directory) = match output::load_both(ctx, &args.inputs) {
        Ok(both) => both,
        Err(exit) => return exit,
    };
    let engine = crate::Engine::new(policies, directory);
    let answer = match replay(&engine, &args.log.display().to_string(), &text) {
        Ok(answer) => answer,
        Err(DiffError::Request(e)) => return output::request_error(errors, &e, engine.directory()),
        Err(e) => {
            output::message(errors, &e.to_string());
            return Exit::Invalid;
        }
    };
    match args.format {
        Format::Json => output::json(&answer),
        Format::Human => out!("{}", human(&answer)),
    }
    if answer.differs() { Exit::Deny } else { Exit::Ok }
}

fn human(answer: &Replay) -> String {
    let plural = output::plural;
    let mut out = String::new();
    for group in &answer.changed {
        let what = if group.before.allowed() == group.after.allowed() {
            format!("{} by other rules", group.before.decision)
        } else {
            format!("{} → {}", group.before.decision, group.after.decision)
        };
        let lines: Vec<String> = group.lines.iter().take(10).map(usize::to_string).collect();
        let more = if group.lines.len() > 10 { ", …" } else { "" };
        let word = if group.lines.len() == 1 { "line" } else { "lines" };
        out.push_str(&format!(
            "{}: {} {what}: {} → {} ({word} {}{more})\n",
            group.action,
            plural(group.lines.len(), "decision"),
            group.before.rules.join(", "),
            group.after.rules.join(", "),
            lines.join(", ")
        ));
    }
    for u in &answer.undecidable {
        out.push_str(&format!("line {}: cannot be decided now: {}\n", u.line, u.error));
    }
    let changed = answer.changed_answers();
    let mut summary = if changed == 0 {
        "no answer changes".to_owned()
    } else {
        super::diff::changes_answer(changed, "decision")
    };
    if !answer.undecidable.is_empty() {
        summary
            .push_str(&format!(", {} cannot be decided now", plural(answer.undecidable.len(), "decision")));
    }
    out.push_str(&format!("{} decided again: {summary}\n", plural(answer.decisions, "decision")));
    out
}
