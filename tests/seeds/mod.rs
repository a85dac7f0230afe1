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
use steward::directory::Directory;
use steward::directory::store::{ImportOptions, Store};
use steward::plan::{Plan, PlanRequest, Target, Targets};
use steward::policy::Request;
use steward::{Engine, Verdict};

pub use crate::support::*;

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
            value: None,
            reason: "seed test".into(),
            now: NOW.parse().unwrap(),
            reassign: Default::default(),
        })
        .unwrap()
}

/// Listed users, in the plan's environment.
pub fn list(users: &[&str]) -> Targets {
    Targets::List(users.iter().map(|u| Target::user(*u)).collect())
}

/// The outcome of each plan item, by target.
pub fn outcomes(plan: &Plan) -> Vec<(&str, &str)> {
    plan.items.iter().map(|i| (i.target.as_str(), i.outcome.as_str())).collect()
}

/// A fresh store holding the engine's directory.
pub fn store(engine: &Engine) -> Store {
    let mut store = Store::in_memory().unwrap();
    store.import(engine.directory(), "seed", ImportOptions::default()).unwrap();
    store
}

/// The engine of the shipped pack `name` over the directory of `store`.
pub fn reloaded(name: &str, store: &Store) -> Engine {
    Engine::new(pack(name), store.load().unwrap())
}

/// The engine of the shipped pack `name` over the engine's directory after
/// `plan` was applied to it.
pub fn after(engine: &Engine, name: &str, plan: &Plan) -> Engine {
    reloaded(name, &applied(engine, name, plan, &[]))
}

/// Imports the engine's directory into a fresh store, applies `plan` with
/// the engine's pack `name` and `reassign` (asset, new owner), and returns
/// the store.
pub fn applied(engine: &Engine, name: &str, plan: &Plan, reassign: &[(&str, &str)]) -> Store {
    let mut store = store(engine);
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
    steward::graph::LicenseIndex::build(directory, &steward::policy::declare::standard()).count(license)
}

/// Imports the shipped example `name` into a database in `dir` and saves a
/// plan of the shipped pack `name` on it at [`NOW`], made with `args`;
/// returns the database and the plan file.
pub fn cli_plan(dir: &Path, name: &str, args: &[&str]) -> (PathBuf, PathBuf) {
    let db = database(dir, name, "");
    let plan = saved_plan(dir, &pack_dir(name), &db, &[args, &["--now", NOW]].concat());
    (db, plan)
}

/// `steward apply PLAN --directory DB` with the shipped pack `name`.
pub fn cli_apply(name: &str, db: &Path, plan: &Path) -> Command {
    apply_cmd(&pack_dir(name), db, plan)
}

/// The analytics pack over its example, where Leo also has a session (the
/// example's last list is its assets).
pub fn leaver() -> Engine {
    let session = "  - { id: session-leo, kind: session, env: acme, owner: acme.Leo }\n";
    over("analytics", &format!("{}{session}", example("analytics")))
}
