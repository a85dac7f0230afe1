//! One test (at least) per seed rule of `shared/SEEDS.md`, named after its
//! id, run with the shipped packs (`policies/*`) over the shipped examples
//! (`examples/*.yaml`), through the library or the `steward` command.
//! `docs/seeds.md` maps each rule to these tests.

mod c;
mod d;
mod g;
mod p;
mod q;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use steward::apply::{ApplyOptions, apply};
use steward::directory::store::{ImportOptions, Store};
use steward::directory::{Directory, yaml};
use steward::plan::{Plan, PlanRequest, Targets};
use steward::policy::{PolicySet, Request};
use steward::{Engine, Verdict};

/// The clock of every request: after Lou Leaver's employment ended
/// (2026-10-31), before Pia's invitation expires (2026-12-01).
pub const NOW: &str = "2026-11-23T09:00:00Z";

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `steward` command, run in the repository root.
pub fn steward() -> Command {
    let mut cmd = Command::cargo_bin("steward").unwrap();
    cmd.current_dir(root());
    cmd
}

/// The shipped pack `name` (`policies/NAME`).
pub fn pack(name: &str) -> PolicySet {
    PolicySet::load(&[root().join("policies").join(name)]).unwrap().set
}

/// The text of the shipped example `name` (`examples/NAME.yaml`).
pub fn example(name: &str) -> String {
    std::fs::read_to_string(root().join(format!("examples/{name}.yaml"))).unwrap()
}

/// The shipped pack `name` over its shipped example.
pub fn shipped(name: &str) -> Engine {
    Engine::load_paths(&[root().join("policies").join(name)], &root().join(format!("examples/{name}.yaml")))
        .unwrap()
}

/// The shipped pack `name` over a directory given as YAML text.
pub fn over(name: &str, directory: &str) -> Engine {
    Engine::new(pack(name), parse(directory))
}

/// A directory from YAML text.
pub fn parse(text: &str) -> Directory {
    yaml::parse("seed.yaml", text).unwrap_or_else(|(_, d)| panic!("{d:#?}"))
}

/// A request at [`NOW`] of `actor` to `action` on `target` in `env`.
pub fn ask(actor: &str, action: &str, target: &str, env: &str) -> Request {
    let mut request = Request::new(actor, action, env).target(target);
    request.now = Some(NOW.parse().unwrap());
    request
}

/// Decides `request`, which must be decidable.
pub fn decide(engine: &Engine, request: &Request) -> Verdict {
    engine.decide(request).unwrap()
}

/// The ids of the rules that decided.
pub fn rules(verdict: &Verdict) -> Vec<&str> {
    verdict.report.rules.iter().map(|r| r.id.as_str()).collect()
}

/// Asserts that `request` is allowed, and by exactly `by`.
pub fn assert_allowed(engine: &Engine, request: &Request, by: &[&str]) -> Verdict {
    let verdict = decide(engine, request);
    assert_eq!((verdict.report.decision.as_str(), rules(&verdict)), ("allow", by.to_vec()), "{verdict:#?}");
    verdict
}

/// Asserts that `request` is denied, and by exactly `by`.
pub fn assert_denied(engine: &Engine, request: &Request, by: &[&str]) -> Verdict {
    let verdict = decide(engine, request);
    assert_eq!((verdict.report.decision.as_str(), rules(&verdict)), ("deny", by.to_vec()), "{verdict:#?}");
    verdict
}

/// A plan of `actor` doing `action` on `targets` (listed users of `env`, or
/// a selector or a trigger) at [`NOW`].
pub fn plan(engine: &Engine, actor: &str, action: Option<&str>, targets: Targets, env: Option<&str>) -> Plan {
    engine
        .plan(&PlanRequest {
            actor: actor.into(),
            action: action.map(Into::into),
            targets,
            env: env.map(Into::into),
            reason: "seed test".into(),
            now: NOW.parse().unwrap(),
        })
        .unwrap()
}

/// Listed users, each in `env`.
pub fn list(users: &[&str]) -> Targets {
    Targets::List(users.iter().map(|u| ((*u).to_owned(), None)).collect())
}

/// The outcome of each plan item, by target.
pub fn outcomes(plan: &Plan) -> Vec<(&str, &str)> {
    plan.items.iter().map(|i| (i.target.as_str(), i.outcome.as_str())).collect()
}

/// Imports the engine's directory into a fresh store, applies `plan` with
/// the engine's pack `name` and `reassign` (asset, new owner), and returns
/// the store.
pub fn applied(engine: &Engine, name: &str, plan: &Plan, reassign: &[(&str, &str)]) -> Store {
    let mut store = Store::in_memory().unwrap();
    store.import(engine.directory(), "seed", ImportOptions::default()).unwrap();
    let options = ApplyOptions {
        reassign: reassign.iter().map(|(a, o)| ((*a).to_owned(), (*o).to_owned())).collect(),
        now: Some(NOW.parse().unwrap()),
        ..ApplyOptions::default()
    };
    apply(&mut store, pack(name), plan, &options).unwrap();
    store
}

/// How many users count toward `license` in `directory`.
pub fn count(directory: &Directory, license: &str) -> usize {
    steward::graph::LicenseIndex::build(directory).count(license)
}

/// A path in a temporary directory, with `text` written to it.
pub fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}
