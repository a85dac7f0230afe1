//! Data-driven evaluation cases: every `tests/cases/*.yaml` is one test.
//!
//! A case has a `policy` (text, or a list of texts forming one set), a `directory` (inline, or omitted for
//! `tests/data/base.yaml`), a `request`, and either `expect` (`decision`,
//! optionally the exact set of deciding `rules` and `errors` count) or
//! `expect_error` (a diagnostic code of the policy set, or the start of the
//! request error's message).
//!
//! Every `tests/cases/diff/*.yaml` is a case of `steward diff` (#17): a
//! `base` and a new `policy` (each as `policy` above), a `directory` as
//! above, a `query` (`actions`, `envs`, `shapes` as `--request-shape`
//! reads them, `now`), and `expect`, the exact list of groups of changed
//! requests (`action`, `before`, `before_rules`, `after`, `after_rules`,
//! `requests`); optionally `one_by_one` (the actions decided
//! pair by pair) and `decisions` (how many were needed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

// A binary of its own: it uses a few of the shared helpers.
#[allow(dead_code)]
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use steward::Engine;
use steward::analysis::{DiffQuery, Shape, diff};
use steward::directory::{self, yaml};
use steward::policy::{PolicySet, Request, Sources};

use crate::support::root;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    policy: Policy,
    #[serde(default)]
    directory: Option<serde_json::Value>,
    request: Request,
    #[serde(default)]
    expect: Option<Expect>,
    #[serde(default)]
    expect_error: Option<String>,
}

/// One policy text, or several files forming one set.
#[derive(Deserialize)]
#[serde(untagged)]
enum Policy {
    One(String),
    Files(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    decision: String,
    #[serde(default)]
    rules: Option<BTreeSet<String>>,
    #[serde(default)]
    errors: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffCase {
    base: Policy,
    policy: Policy,
    #[serde(default)]
    directory: Option<serde_json::Value>,
    #[serde(default)]
    query: DiffQueryCase,
    expect: Vec<GroupCase>,
    #[serde(default)]
    one_by_one: Vec<String>,
    #[serde(default)]
    decisions: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DiffQueryCase {
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    envs: Vec<String>,
    #[serde(default)]
    shapes: Vec<String>,
    #[serde(default)]
    now: Option<jiff::Timestamp>,
}

#[derive(Deserialize, Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
#[serde(deny_unknown_fields)]
struct GroupCase {
    action: String,
    before: String,
    before_rules: Vec<String>,
    after: String,
    after_rules: Vec<String>,
    requests: u64,
}

fn main() {
    let args = Arguments::from_args();
    let mut diff_files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/cases/diff"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    diff_files.sort();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let trials = files
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || run(&path))
        })
        .chain(diff_files.into_iter().map(|path| {
            let name = format!("diff/{}", path.file_stem().unwrap().to_string_lossy());
            Trial::test(name, move || run_diff(&path))
        }))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn directory_of(inline: &Option<serde_json::Value>) -> Result<steward::Directory, Failed> {
    Ok(match inline {
        None => directory::load(&root().join("tests/data/base.yaml"), &steward::policy::declare::standard())
            .map_err(|e| format!("{e}"))?,
        Some(inline) => {
            let json = serde_json::to_string(inline)?;
            yaml::parse("directory", &json, &steward::policy::declare::standard())
                .map_err(|(_, d)| format!("invalid directory: {d:?}"))?
        }
    })
}

fn set_of(path: &Path, policy: Policy) -> Result<PolicySet, Failed> {
    let mut sources = Sources::new();
    let texts = match policy {
        Policy::One(text) => vec![text],
        Policy::Files(texts) => texts,
    };
    for (i, text) in texts.into_iter().enumerate() {
        sources.add(format!("{}#{i}", path.display()), text);
    }
    Ok(PolicySet::from_sources(sources).map_err(|e| format!("the policy does not load: {e:?}"))?.set)
}

fn run_diff(path: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(path)?;
    let case: DiffCase = serde_saphyr::from_str(&text).map_err(|e| format!("invalid case file: {e}"))?;
    let new = Engine::new(set_of(path, case.policy)?, directory_of(&case.directory)?);
    let base = new.with_policies(set_of(path, case.base)?);
    let shapes = case.query.shapes.iter().map(|s| Shape::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let query = DiffQuery {
        actions: case.query.actions,
        envs: case.query.envs,
        shapes,
        now: case.query.now.unwrap_or_else(|| "2026-11-23T09:00:00Z".parse().unwrap()),
    };
    let answer = diff(&base, &new, &query).map_err(|e| format!("{e}"))?;
    let mut got: Vec<GroupCase> = answer
        .groups
        .iter()
        .map(|g| GroupCase {
            action: g.action.clone(),
            before: g.before.decision.clone(),
            before_rules: g.before.rules.clone(),
            after: g.after.decision.clone(),
            after_rules: g.after.rules.clone(),
            requests: g.requests,
        })
        .collect();
    let mut want = case.expect;
    got.sort();
    want.sort();
    let mut problems = Vec::new();
    if got != want {
        problems.push(format!("groups: expected {want:#?}, got {got:#?}"));
    }
    let one_by_one: Vec<String> = answer.one_by_one.iter().map(|(a, _)| a.clone()).collect();
    if one_by_one != case.one_by_one {
        problems.push(format!("decided pair by pair: expected {:?}, got {one_by_one:?}", case.one_by_one));
    }
    if let Some(n) = case.decisions
        && n != answer.decisions
    {
        problems.push(format!("decisions: expected {n}, got {}", answer.decisions));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ").into()) }
}

fn run(path: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(path)?;
    let case: Case = serde_saphyr::from_str(&text).map_err(|e| format!("invalid case file: {e}"))?;
    let directory = directory_of(&case.directory)?;
    let mut sources = Sources::new();
    let texts = match case.policy {
        Policy::One(text) => vec![text],
        Policy::Files(texts) => texts,
    };
    for (i, text) in texts.into_iter().enumerate() {
        sources.add(format!("{}#{i}", path.display()), text);
    }
    let loaded = match PolicySet::from_sources(sources) {
        Ok(loaded) => loaded,
        Err(e) => {
            let codes: Vec<&str> =
                e.diagnostics().map(|(_, d)| d.iter().map(|d| d.code).collect()).unwrap_or_default();
            return match &case.expect_error {
                Some(code) if codes.contains(&code.as_str()) => Ok(()),
                _ => Err(format!("the policy does not load: {codes:?}").into()),
            };
        }
    };
    let engine = Engine::new(loaded.set, directory);
    match (engine.decide(&case.request), case.expect, case.expect_error) {
        (Ok(verdict), Some(expect), None) => {
            let mut problems = Vec::new();
            if verdict.report.decision != expect.decision {
                problems
                    .push(format!("decision: expected {}, got {}", expect.decision, verdict.report.decision));
            }
            let rules: BTreeSet<String> = verdict.report.rules.iter().map(|r| r.id.clone()).collect();
            if let Some(want) = expect.rules
                && want != rules
            {
                problems.push(format!("rules: expected {want:?}, got {rules:?}"));
            }
            if let Some(n) = expect.errors
                && n != verdict.report.errors.len()
            {
                problems.push(format!("errors: expected {n}, got {:?}", verdict.report.errors));
            }
            if problems.is_empty() { Ok(()) } else { Err(problems.join("; ").into()) }
        }
        (Err(e), None, Some(want)) if e.to_string().starts_with(&want) => Ok(()),
        (Ok(v), _, Some(want)) => Err(format!("expected error `{want}`, got {}", v.report.decision).into()),
        (Err(e), _, _) => Err(format!("the request cannot be decided: {e}").into()),
        (Ok(_), None, None) => Err("the case has neither `expect` nor `expect_error`".into()),
    }
}
