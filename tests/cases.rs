//! Data-driven evaluation cases: every `tests/cases/*.yaml` is one test.
//!
//! A case has a `policy` (text, or a list of texts forming one set), a `directory` (inline, or omitted for
//! `tests/data/base.yaml`), a `request`, and either `expect` (`decision`,
//! optionally the exact set of deciding `rules` and `errors` count) or
//! `expect_error` (a diagnostic code of the policy set, or the start of the
//! request error's message).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

// A binary of its own: it uses a few of the shared helpers.
#[allow(dead_code)]
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use steward::Engine;
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

fn main() {
    let args = Arguments::from_args();
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
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run(path: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(path)?;
    let case: Case = serde_saphyr::from_str(&text).map_err(|e| format!("invalid case file: {e}"))?;
    let directory = match &case.directory {
        None => directory::load(&root().join("tests/data/base.yaml"), &steward::policy::declare::standard())
            .map_err(|e| format!("{e}"))?,
        Some(inline) => {
            let json = serde_json::to_string(inline)?;
            yaml::parse("directory", &json, &steward::policy::declare::standard())
                .map_err(|(_, d)| format!("invalid directory: {d:?}"))?
        }
    };
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
