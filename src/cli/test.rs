//! `steward test`: run the test files of policy packs.

use std::path::PathBuf;

use super::{Context, Exit, Format, output};
use crate::testing::{self, CaseResult, Summary};

/// Run the test files of policy packs.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Packs (folders with a `tests/` folder), test folders or test files
    /// (default: `policies` in steward.yaml).
    pub paths: Vec<PathBuf>,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Exit 0 when every case passed, 1 when one failed or none ran, 3 when a
/// pack or test file is invalid.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let paths = match output::configured_policies(ctx, &args.paths, "PATH...") {
        Ok(paths) => paths,
        Err(exit) => return exit,
    };
    let summary = match testing::run(&paths) {
        Ok(summary) => summary,
        Err(testing::Error::Policy { source, .. }) => return output::policy_error(errors, &source),
        Err(testing::Error::Directory { source, .. }) => return output::directory_error(errors, &source),
        Err(testing::Error::Invalid { sources, diagnostics, .. }) => {
            output::diagnostics(errors, &sources, &diagnostics);
            return Exit::Invalid;
        }
        Err(e) => {
            output::error(errors, &e);
            return Exit::Failure;
        }
    };
    match args.format {
        Format::Json => output::json(&summary),
        Format::Human => out!("{}", human(&summary)),
    }
    if summary.failed > 0 || summary.cases.is_empty() { Exit::Failure } else { Exit::Ok }
}

fn human(summary: &Summary) -> String {
    let mut out = String::new();
    for case in summary.cases.iter().filter(|c| !c.passed) {
        out.push_str(&failure(case));
    }
    if summary.cases.is_empty() {
        out.push_str("no test ran: no case found in the given paths\n");
    }
    for (pack, rules) in &summary.uncovered {
        out.push_str(&format!("coverage: {pack}: no case exercises {}\n", rules.join(", ")));
    }
    out.push_str(&format!("{} passed, {} failed\n", summary.passed, summary.failed));
    out
}

/// A failing case, expected and actual side by side.
fn failure(case: &CaseResult) -> String {
    let mut out = format!("FAIL {}: {}\n", case.file, case.name);
    if let Some(error) = &case.error {
        out.push_str(&format!("  error: {error}\n\n"));
        return out;
    }
    let left = serde_json::to_string_pretty(&case.expected).unwrap_or_default();
    let right = serde_json::to_string_pretty(&case.actual).unwrap_or_default();
    let width = left.lines().map(|l| l.chars().count()).max().unwrap_or(0).max(8);
    out.push_str(&format!("  {:width$} | actual\n", "expected"));
    let (l, r): (Vec<&str>, Vec<&str>) = (left.lines().collect(), right.lines().collect());
    // Aligned by a line diff: a line one side lacks leaves a gap there, and
    // only the lines that differ are marked.
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &l, &r) {
        let (tag, old, new) = op.as_tag_tuple();
        let mark = if tag == similar::DiffTag::Equal { ' ' } else { '≠' };
        for k in 0..old.len().max(new.len()) {
            let a = if k < old.len() { l.get(old.start + k).copied() } else { None };
            let b = if k < new.len() { r.get(new.start + k).copied() } else { None };
            let (a, b) = (a.unwrap_or(""), b.unwrap_or(""));
            out.push_str(&format!("  {a:width$} {mark} {b}\n"));
        }
    }
    out.push('\n');
    out
}
