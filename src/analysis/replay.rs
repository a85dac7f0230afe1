//! `steward replay`: the decisions `steward serve` logged, decided again
//! under another policy set, over the directory as it is now.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{DiffError, Outcome};
use crate::Engine;
use crate::policy::Request;

/// One line of the decision log, as `steward serve --decision-log` writes it.
#[derive(Debug, Deserialize)]
struct Logged {
    time: jiff::Timestamp,
    request: Request,
    decision: String,
    rules: Vec<String>,
}

/// Logged decisions of one action decided alike then, and alike now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayGroup {
    /// The action.
    pub action: String,
    /// As logged.
    pub before: Outcome,
    /// Under the new set.
    pub after: Outcome,
    /// The lines, from 1.
    pub lines: Vec<usize>,
}

/// A logged request that cannot be decided now (its user or environment
/// is gone, its action no longer declared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undecidable {
    /// The line, from 1.
    pub line: usize,
    /// Why.
    pub error: String,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replay {
    /// How many decisions were read.
    pub decisions: usize,
    /// Those decided otherwise, grouped, in order of first line.
    pub changed: Vec<ReplayGroup>,
    /// Those that cannot be decided now.
    pub undecidable: Vec<Undecidable>,
}

impl Replay {
    /// Whether anything differs from the log: an answer, or a request
    /// that can no longer be decided at all.
    pub fn differs(&self) -> bool {
        self.changed_answers() > 0 || !self.undecidable.is_empty()
    }

    /// How many decisions change their answer.
    pub fn changed_answers(&self) -> usize {
        self.changed.iter().filter(|g| g.before.allowed() != g.after.allowed()).map(|g| g.lines.len()).sum()
    }
}

/// Reads `log` (`name` for its errors) whole, then decides each request
/// again with `engine`, at the clock it was decided at. A line that cannot
/// be read is an error naming every such line, and nothing is decided.
pub fn replay(engine: &Engine, name: &str, log: &str) -> Result<Replay, DiffError> {
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in log.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<Logged>(line) {
            Ok(entry) if entry.decision == "allow" || entry.decision == "deny" => {
                entries.push((i + 1, entry))
            }
            Ok(entry) => bad.push(format!(
                "{name}:{}: the decision is `{}`, not `allow` or `deny`",
                i + 1,
                entry.decision
            )),
            Err(e) => {
                // serde_json says where within the line; the line is ours.
                let text = e.to_string();
                let what = text.rsplit_once(" at line ").map_or(text.as_str(), |(what, _)| what);
                bad.push(format!("{name}:{}:{}: {what}", i + 1, e.column()));
            }
        }
    }
    if !bad.is_empty() {
        let more =
            if bad.len() > 10 { format!("\n… and {} lines more", bad.len() - 10) } else { String::new() };
        let listed: Vec<String> = bad.into_iter().take(10).collect();
        return Err(DiffError::Query(format!(
            "not a decision log of `steward serve`:\n{}{more}",
            listed.join("\n")
        )));
    }
    let mut replay = Replay { decisions: entries.len(), changed: Vec::new(), undecidable: Vec::new() };
    let mut index: BTreeMap<(String, Outcome, Outcome), usize> = BTreeMap::new();
    for (line, mut entry) in entries {
        // A request logged without a clock was decided at the time logged.
        entry.request.now = Some(entry.request.now.unwrap_or(entry.time));
        let verdict = match engine.decide(&entry.request) {
            Ok(verdict) => verdict,
            Err(e) => {
                replay.undecidable.push(Undecidable { line, error: e.to_string() });
                continue;
            }
        };
        let before = Outcome { decision: entry.decision, rules: entry.rules };
        let after = Outcome {
            decision: verdict.report.decision,
            rules: verdict.report.rules.into_iter().map(|r| r.id).collect(),
        };
        if before == after {
            continue;
        }
        let key = (entry.request.action.clone(), before.clone(), after.clone());
        let at = *index.entry(key).or_insert_with(|| {
            replay.changed.push(ReplayGroup {
                action: entry.request.action.clone(),
                before,
                after,
                lines: Vec::new(),
            });
            replay.changed.len() - 1
        });
        if let Some(group) = replay.changed.get_mut(at) {
            group.lines.push(line);
        }
    }
    Ok(replay)
}
