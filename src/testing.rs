//! Policy tests, for policy authors: YAML files of requests and the
//! decisions, fallbacks and impacts they must get, and of plans and the
//! outcomes of their items in order (docs/testing.md).
//!
//! A pack is a folder of `.policy` files with a `tests/` folder of test
//! files. Each test file has a directory (inline, or a path relative to the
//! file), an optional clock, and cases. Expectations are exact: a list of
//! rules, assets or warning codes is compared as a set; what a case does not
//! mention is not checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::Engine;
use crate::diagnostic::did_you_mean;
use crate::directory::{self, Directory};
use crate::graph::Impact;
use crate::plan::{Plan, PlanBody, Targets};
use crate::policy::{self, Diagnostic, PolicySet, Request, Sources};

/// Why tests could not be run at all.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A test file is not valid: each problem at its line and column.
    #[error("`{}` is not a valid test file", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The file, which the diagnostics point into.
        sources: Sources,
        /// What is wrong.
        diagnostics: Vec<Diagnostic>,
    },
    /// The pack's policy set does not load.
    #[error("the policies of `{}` do not load", path.display())]
    Policy {
        /// The pack.
        path: PathBuf,
        /// Why.
        #[source]
        source: policy::Error,
    },
    /// A test file's directory is not valid.
    #[error("the directory of `{}` is not valid", path.display())]
    Directory {
        /// The test file.
        path: PathBuf,
        /// Why.
        #[source]
        source: directory::Error,
    },
}

/// A test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    directory: serde_json::Value,
    #[serde(default)]
    now: Option<Timestamp>,
    cases: Vec<Case>,
}

/// One case: a request or a plan, and what must come of it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    request: Option<Request>,
    /// A plan, in the form of `POST /v1/plan`'s body: its items are decided
    /// in order, each over what the items before it leave (docs/operations.md).
    #[serde(default)]
    plan: Option<PlanBody>,
    expect: Expect,
}

/// What a case expects; absent keys are not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `allow` or `deny`.
    #[serde(default, deserialize_with = "decision", skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// The deciding rules, as a set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<BTreeSet<String>>,
    /// The fallback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<ExpectFallback>,
    /// Impact entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<ExpectImpact>,
    /// A plan's items, every one, in order (plan cases).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ExpectItem>>,
    /// How many items of a plan have each outcome (plan cases).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<BTreeMap<String, usize>>,
    /// The request or plan is refused, not decided: its error says this
    /// (a part of the message, such as ``unknown action `delete` ``).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The only decisions. Read through this, anything else (`denied`) is an
/// error of the file at its place, with a did-you-mean; a plan item's
/// `outcome` is an action's name and stays free.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum DecisionWord {
    Allow,
    Deny,
}

fn decision<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let word = Option::<DecisionWord>::deserialize(deserializer)?;
    Ok(word.map(|w| match w {
        DecisionWord::Allow => "allow".to_owned(),
        DecisionWord::Deny => "deny".to_owned(),
    }))
}

/// An expected plan item: its account, and what it names of the outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectItem {
    /// The user.
    pub target: String,
    /// The environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// The action, its fallback, `denied` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The deciding rules, as a set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<BTreeSet<String>>,
    /// Every asset the item leaves without owner, with who will own it
    /// (the owner given or the default owner; `null`: apply must be told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<BTreeMap<String, Option<String>>>,
    /// Whether the item removes the user with their last account (D4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removes_user: Option<bool>,
}

/// An expected fallback.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFallback {
    /// The proposed action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Whether the actor may do it: `allow` or `deny`.
    #[serde(default, deserialize_with = "decision", skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// The tables and rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<crate::graph::ReferenceCount>>,
}

/// Expected impact entries: asset ids and warning codes, as sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectImpact {
    /// Assets to reassign.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reassign: Option<BTreeSet<String>>,
    /// Assets of others at risk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_risk: Option<BTreeSet<String>>,
    /// Assets revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke: Option<BTreeSet<String>>,
    /// Assets removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remove: Option<BTreeSet<String>>,
    /// Assets disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable: Option<BTreeSet<String>>,
    /// Warning codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<BTreeSet<String>>,
    /// The license count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<crate::graph::LicenseChange>,
    /// Every license whose count moves, in the impact's order (by license).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licenses: Option<Vec<crate::graph::LicenseChange>>,
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseResult {
    /// The test file.
    pub file: String,
    /// The case's name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was expected (only the keys the case gives).
    pub expected: Expect,
    /// What happened, in the same shape.
    pub actual: Expect,
    /// The request could not be decided at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything a run found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Every case, in file order.
    pub cases: Vec<CaseResult>,
    /// How many passed.
    pub passed: usize,
    /// How many failed.
    pub failed: usize,
    /// Rules that decided no case, per pack: the coverage gaps.
    pub uncovered: BTreeMap<String, Vec<String>>,
}

/// What a pack's cases exercised: the rules that decided them, the
/// triggers their plans ran, the lifecycle blocks their impacts read.
#[derive(Debug, Default)]
struct Covered {
    rules: BTreeSet<String>,
    triggers: BTreeSet<String>,
    lifecycles: BTreeSet<String>,
}

impl Covered {
    /// What of `policies` no case exercised, each named as in a policy
    /// file: `rule_name`, `trigger NAME`, `lifecycle ACTION`.
    fn gaps(&self, policies: &PolicySet) -> Vec<String> {
        let rules = policies.rules().iter().map(|r| r.name.clone()).filter(|n| !self.rules.contains(n));
        let triggers = policies
            .triggers()
            .iter()
            .filter(|t| !self.triggers.contains(&t.name))
            .map(|t| format!("trigger {}", t.name));
        let lifecycles = policies
            .lifecycles()
            .iter()
            .filter(|l| !self.lifecycles.contains(&l.action))
            .map(|l| format!("lifecycle {}", l.action));
        rules.chain(triggers).chain(lifecycles).collect()
    }
}

/// Runs the tests at `paths`: packs (folders with a `tests/` folder), test
/// folders, or test files.
pub fn run(paths: &[PathBuf]) -> Result<Summary, Error> {
    let mut summary = Summary::default();
    for (pack, files) in collect(paths)? {
        let policies = PolicySet::load(std::slice::from_ref(&pack))
            .map_err(|source| Error::Policy { path: pack.clone(), source })?
            .set;
        let mut covered = Covered::default();
        let mut engine_policies = Some(policies);
        for file in files {
            let Some(policies) = engine_policies.take() else { break };
            let (engine, cases, now) = load_file(&file, policies)?;
            for case in cases {
                let result = run_case(&engine, &file, case, now, &mut covered);
                if result.passed {
                    summary.passed += 1;
                } else {
                    summary.failed += 1;
                }
                summary.cases.push(result);
            }
            engine_policies = Some(engine.into_policies());
        }
        if let Some(policies) = engine_policies {
            let uncovered = covered.gaps(&policies);
            if !uncovered.is_empty() {
                summary.uncovered.insert(pack.display().to_string(), uncovered);
            }
        }
    }
    Ok(summary)
}

/// Groups test files by the pack whose policies they test.
fn collect(paths: &[PathBuf]) -> Result<BTreeMap<PathBuf, Vec<PathBuf>>, Error> {
    let mut packs: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for path in paths {
        let io = |source| Error::Io { path: path.clone(), source };
        if path.is_dir() {
            let tests = if path.file_name().is_some_and(|n| n == "tests") {
                path.clone()
            } else {
                path.join("tests")
            };
            let pack = tests.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let mut files: Vec<PathBuf> = std::fs::read_dir(&tests)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            files.sort();
            packs.entry(pack).or_default().extend(files);
        } else {
            std::fs::metadata(path).map_err(io)?;
            let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let pack = if dir.file_name().is_some_and(|n| n == "tests") {
                dir.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            } else {
                dir
            };
            packs.entry(pack).or_default().push(path.clone());
        }
    }
    Ok(packs)
}

fn load_file(path: &Path, policies: PolicySet) -> Result<(Engine, Vec<Case>, Option<Timestamp>), Error> {
    let text =
        std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let file: TestFile = serde_saphyr::from_str_with_options(&text, directory::yaml::options(text.len()))
        .map_err(|e| invalid(path, &text, &e))?;
    let directory = match &file.directory {
        serde_json::Value::String(relative) => {
            let at = path.parent().unwrap_or(Path::new(".")).join(relative);
            directory::load(&at, policies.schema())
                .map_err(|source| Error::Directory { path: path.to_path_buf(), source })?
        }
        inline => inline_directory(path, inline, policies.schema())?,
    };
    Ok((Engine::new(policies, directory), file.cases, file.now))
}

/// A test file that does not parse, at its line and column as every file
/// error of steward is.
fn invalid(path: &Path, text: &str, error: &serde_saphyr::Error) -> Error {
    let mut sources = Sources::new();
    let file = sources.add(path.display().to_string(), text);
    let diagnostics = vec![directory::yaml::serde_error(file, text, error)];
    Error::Invalid { path: path.to_path_buf(), sources, diagnostics }
}

/// An inline directory is checked by the same loader as a file (JSON is YAML).
fn inline_directory(
    path: &Path,
    value: &serde_json::Value,
    schema: &crate::schema::Schema,
) -> Result<Directory, Error> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let name = format!("{} (directory)", path.display());
    directory::yaml::parse(&name, &text, schema).map_err(|(sources, diagnostics)| Error::Directory {
        path: path.to_path_buf(),
        source: directory::Error::Invalid { path: path.to_path_buf(), sources, diagnostics },
    })
}

fn run_case(
    engine: &Engine,
    file: &Path,
    case: Case,
    now: Option<Timestamp>,
    covered: &mut Covered,
) -> CaseResult {
    let expected = case.expect;
    let mut result = CaseResult {
        file: file.display().to_string(),
        name: case.name,
        passed: false,
        expected: expected.clone(),
        actual: Expect::default(),
        error: None,
    };
    let for_plans = expected.items.is_some() || expected.outcomes.is_some();
    let for_requests = expected.decision.is_some()
        || expected.rules.is_some()
        || expected.fallback.is_some()
        || expected.impact.is_some();
    let actual = match (case.request, case.plan) {
        (Some(_), Some(_)) | (None, None) => Err("a case has either `request` or `plan`".to_owned()),
        (Some(_), None) if for_plans => Err("`items` and `outcomes` are expected of a `plan`".to_owned()),
        (None, Some(_)) if for_requests => {
            Err("a `plan` case expects `items` and `outcomes`; `decision`, `rules`, `fallback` and `impact` are of a `request`".to_owned())
        }
        (Some(mut request), None) => {
            if request.now.is_none() {
                request.now = now;
            }
            engine.decide(&request).map_err(|e| e.to_string()).map(|verdict| {
                covered.rules.extend(verdict.report.rules.iter().map(|r| r.id.clone()));
                if verdict.impact.is_some() {
                    covered.lifecycles.insert(request.action.clone());
                }
                observe(&expected, &verdict.report, verdict.fallback.as_ref(), verdict.impact.as_ref())
            })
        }
        (None, Some(body)) => body
            .into_request(now.unwrap_or_else(Timestamp::now))
            .and_then(|request| {
                if let Targets::Trigger(name) = &request.targets {
                    covered.triggers.insert(name.clone());
                }
                engine.plan(&request).map_err(|e| e.to_string())
            })
            .map(|plan| {
                covered.rules.extend(plan.items.iter().flat_map(|item| item.rules.iter().cloned()));
                if plan.items.iter().any(|item| item.impact.is_some()) {
                    covered.lifecycles.insert(plan.action.clone());
                }
                observe_plan(&expected, &plan)
            }),
    };
    match (actual, &expected.error) {
        (Err(e), Some(wanted)) => {
            result.passed = e.contains(wanted.as_str());
            result.actual = Expect { error: Some(e), ..Expect::default() };
        }
        (Ok(actual), Some(_)) => {
            result.actual = actual;
            result.error = Some("expected an error, and the case was decided".to_owned());
        }
        (Ok(actual), None) => {
            result.error = unknown_rule(&expected, engine.policies(), &covered.rules);
            result.passed = result.error.is_none() && actual == expected;
            result.actual = actual;
        }
        (Err(e), None) => result.error = Some(e),
    }
    result
}

/// A rule the case expects that neither the pack, nor steward's built-in
/// rules, nor any decision so far knows: a misspelling, said with the
/// closest name rather than shown as a difference.
fn unknown_rule(expected: &Expect, policies: &PolicySet, decided: &BTreeSet<String>) -> Option<String> {
    let item_rules = expected.items.iter().flatten().filter_map(|item| item.rules.as_ref());
    let mut named = expected.rules.iter().chain(item_rules).flatten();
    let mut known: BTreeSet<&str> = PolicySet::builtin_rule_ids().collect();
    known.extend(policies.rules().iter().map(|r| r.name.as_str()));
    known.extend(decided.iter().map(String::as_str));
    let unknown = named.find(|name| !known.contains(name.as_str()))?;
    let mut message = format!("`{unknown}` is neither a rule of the pack nor a built-in rule");
    if let Some(closest) = did_you_mean(unknown, known.iter().copied()) {
        message.push_str(&format!("; did you mean `{closest}`?"));
    }
    Some(message)
}

/// A plan, in the shape of what was expected: every item (an item the case
/// does not list shows all it has), each with the keys its expected item gives.
fn observe_plan(expected: &Expect, plan: &Plan) -> Expect {
    let items = expected.items.as_ref().map(|want| {
        plan.items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let like = want.get(i);
                let shown = |named: Option<bool>| named.unwrap_or(true);
                ExpectItem {
                    target: item.target.clone(),
                    env: shown(like.map(|w| w.env.is_some())).then(|| item.env.clone()),
                    outcome: shown(like.map(|w| w.outcome.is_some())).then(|| item.outcome.clone()),
                    rules: shown(like.map(|w| w.rules.is_some()))
                        .then(|| item.rules.iter().cloned().collect()),
                    owners: shown(like.map(|w| w.owners.is_some())).then(|| {
                        let reassign = item.impact.iter().flat_map(|i| i.reassign.iter());
                        reassign.map(|r| (r.asset.clone(), r.new_owner.clone())).collect()
                    }),
                    removes_user: shown(like.map(|w| w.removes_user.is_some()))
                        .then(|| item.impact.as_ref().is_some_and(|i| i.removes_user)),
                }
            })
            .collect()
    });
    Expect {
        items,
        outcomes: expected.outcomes.as_ref().map(|_| plan.summary.outcomes.clone()),
        ..Expect::default()
    }
}

/// What happened, in the shape of what was expected: only the keys the
/// case gives, so that the two compare equal exactly when the case passes.
fn observe(
    expected: &Expect,
    report: &policy::DecisionReport,
    fallback: Option<&crate::graph::Fallback>,
    impact: Option<&Impact>,
) -> Expect {
    let ids = |list: &[String]| list.iter().cloned().collect::<BTreeSet<String>>();
    Expect {
        decision: expected.decision.as_ref().map(|_| report.decision.clone()),
        rules: expected.rules.as_ref().map(|_| report.rules.iter().map(|r| r.id.clone()).collect()),
        fallback: expected.fallback.as_ref().map(|want| {
            let got = fallback;
            ExpectFallback {
                action: want.action.as_ref().and(got.map(|f| f.action.clone())),
                decision: want.decision.as_ref().and(got.map(|f| f.decision.clone())),
                references: want.references.as_ref().and(got.map(|f| f.references.clone())),
            }
        }),
        impact: expected.impact.as_ref().map(|want| {
            let got = impact;
            ExpectImpact {
                reassign: want.reassign.as_ref().map(|_| {
                    got.map(|i| i.reassign.iter().map(|r| r.asset.clone()).collect()).unwrap_or_default()
                }),
                at_risk: want.at_risk.as_ref().map(|_| {
                    got.map(|i| i.at_risk.iter().map(|r| r.asset.clone()).collect()).unwrap_or_default()
                }),
                revoke: want.revoke.as_ref().map(|_| got.map(|i| ids(&i.revoke)).unwrap_or_default()),
                remove: want.remove.as_ref().map(|_| got.map(|i| ids(&i.remove)).unwrap_or_default()),
                disable: want.disable.as_ref().map(|_| got.map(|i| ids(&i.disable)).unwrap_or_default()),
                warnings: want.warnings.as_ref().map(|_| {
                    got.map(|i| i.warnings.iter().map(|w| w.code.clone()).collect()).unwrap_or_default()
                }),
                license: want.license.as_ref().and(got.and_then(|i| i.license.clone())),
                licenses: want.licenses.as_ref().map(|_| got.map(|i| i.licenses.clone()).unwrap_or_default()),
            }
        }),
        items: None,
        outcomes: None,
        error: None,
    }
}

impl Engine {
    /// Gives the policy set back (the test runner reuses it across files).
    pub fn into_policies(self) -> PolicySet {
        self.into_parts().0
    }
}
