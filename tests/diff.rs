//! `steward diff` (#17): what a policy change does to the directory, exact
//! against deciding every request under both sets.

use std::collections::{BTreeMap, BTreeSet};

use predicates::prelude::*;
use steward::analysis::{DiffQuery, Shape, diff};
use steward::directory::generate::{GenerateOptions, generate_licensed};
use steward::policy::{PolicySet, Sources};
use steward::{Engine, Request};

use crate::support::{NOW, example_file, file, pack_dir, steward};

/// The ERP pack with `change` applied to one of its files' text.
fn erp_with(change: impl Fn(&str) -> String) -> PolicySet {
    let mut sources = Sources::new();
    let mut paths: Vec<_> = std::fs::read_dir(pack_dir("erp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let text = if path.ends_with("accounts.policy") { change(&text) } else { text };
        sources.add(path.file_name().unwrap().to_str().unwrap(), text);
    }
    PolicySet::from_sources(sources).unwrap_or_else(|e| panic!("{e:?}")).set
}

/// Changes of every kind the class analysis must follow: a new forbid on a
/// role, a rule gone, a permit narrowed by a comparison of the two sides
/// with few values (the users' home environments), a forbid on a
/// comparison with many (a user's id against another's), and a `count`
/// that reads both sides, which is decided pair by pair.
fn variants() -> Vec<(&'static str, PolicySet)> {
    let add = |rule: &'static str| move |text: &str| format!("{text}\n{rule}\n");
    vec![
        (
            "a forbid on a role",
            erp_with(add(
                "rule keep_admins { forbid delete, block when target has role \"administrator\" because \"vendor\" }",
            )),
        ),
        (
            "a rule removed",
            erp_with(|t| {
                t.replace("forbid delete\n  when actor.user == target.user", "forbid delete\n  when false")
            }),
        ),
        (
            "the same home",
            erp_with(add(
                "rule same_home { forbid block, unblock when actor.user.home != target.user.home because \"home\" }",
            )),
        ),
        (
            "a pair singled out",
            erp_with(add(
                "rule not_your_own { forbid edit_rights when actor.user == target.user because \"four eyes\" }",
            )),
        ),
        (
            "a count of both sides",
            erp_with(add(
                "rule peers { forbid block when count(accounts where account.user == actor.user or account.user == target.user) > 1 because \"peers\" }",
            )),
        ),
    ]
}

type Key = (String, String, Vec<String>, String, Vec<String>);

/// Every request of `actions` × `shapes` in every environment, decided
/// under both sets: the changed ones, grouped as the diff groups them.
fn brute_force(
    base: &Engine,
    new: &Engine,
    actions: &[&str],
    shapes: &[Shape],
) -> (BTreeMap<Key, u64>, BTreeSet<String>, u64) {
    let directory = new.directory();
    let (mut groups, mut changed, mut compared) = (BTreeMap::new(), BTreeSet::new(), 0);
    for env in directory.environments() {
        let users: Vec<String> = directory.accounts_in(&env.id).map(|a| a.user.to_string()).collect();
        for action in actions {
            for shape in shapes {
                for actor in &users {
                    for target in &users {
                        let mut request = Request::new(actor, *action, &env.id).target(target);
                        request.bulk = shape.bulk;
                        request.confirm = shape.confirm;
                        request.reason = shape.reason.clone();
                        request.now = Some(NOW.parse().unwrap());
                        let before = base.decide(&request).unwrap().report;
                        let after = new.decide(&request).unwrap().report;
                        compared += 1;
                        let ids =
                            |r: &steward::DecisionReport| r.rules.iter().map(|r| r.id.clone()).collect();
                        let key: Key = (
                            action.to_string(),
                            before.decision.clone(),
                            ids(&before),
                            after.decision.clone(),
                            ids(&after),
                        );
                        if key.1 != key.3 || key.2 != key.4 {
                            *groups.entry(key).or_default() += 1;
                            changed.insert(format!("{action} {} {actor} {target} {shape}", env.id));
                        }
                    }
                }
            }
        }
    }
    (groups, changed, compared)
}

/// Exact: for every kind of change, the diff's groups and its list of
/// changed requests are what deciding every request under both sets gives,
/// with far fewer decisions. `STEWARD_DIFF_ACCOUNTS` sets the directory's
/// size (240 by default, 60 to a license; docs/benchmarks.md records a run at 10,000).
#[test]
fn diff_equals_deciding_every_request_under_both_sets() {
    let accounts = std::env::var("STEWARD_DIFF_ACCOUNTS").ok().and_then(|n| n.parse().ok()).unwrap_or(240);
    let base = Engine::new(
        PolicySet::load(&[pack_dir("erp")]).unwrap().set,
        generate_licensed(GenerateOptions { accounts, seed: 9 }, 60),
    );
    let actions = ["delete", "block", "unblock", "edit_rights"];
    let shapes = vec![Shape::default(), Shape { bulk: true, confirm: true, reason: Some("left".into()) }];
    for (what, set) in variants() {
        let new = base.with_policies(set);
        let query = DiffQuery {
            actions: actions.iter().map(|a| a.to_string()).collect(),
            envs: Vec::new(),
            shapes: shapes.clone(),
            now: NOW.parse().unwrap(),
        };
        let answer = diff(&base, &new, &query).unwrap();
        let (groups, changed, compared) = brute_force(&base, &new, &actions, &shapes);
        assert_eq!(groups_of(&answer), groups, "{what}: the groups");
        assert_eq!(answer.compared, compared, "{what}");
        let mut listed = BTreeSet::new();
        answer.for_each_change(&mut |group, e| {
            assert!(
                listed.insert(format!("{} {} {} {} {}", group.action, e.env, e.actor, e.target, e.shape))
            );
            true
        });
        assert_eq!(listed, changed, "{what}: every changed request, once");
        assert!(!changed.is_empty(), "{what}: the change changes something");
        if what == "a count of both sides" {
            assert_eq!(answer.one_by_one.len(), 1, "{what}: block is decided pair by pair");
        } else {
            assert!(answer.one_by_one.is_empty(), "{what}");
            assert!(answer.decisions < compared * 2, "{what}: classes decide fewer: {}", answer.decisions);
        }
    }
}

/// Classes are what makes the diff scale: over environments of about a
/// thousand accounts, a one-rule change of the ERP pack takes a small part
/// of the decisions deciding every request would (and `self` pairs, the
/// join's exceptions, grow with the accounts, not with their square).
#[test]
fn classes_decide_a_small_part_of_the_requests() {
    let base = Engine::new(
        PolicySet::load(&[pack_dir("erp")]).unwrap().set,
        generate_licensed(GenerateOptions { accounts: 2_000, seed: 4 }, 2_000),
    );
    let new = base.with_policies(variants().swap_remove(0).1);
    let query = DiffQuery {
        actions: vec!["delete".into(), "block".into()],
        envs: Vec::new(),
        shapes: vec![Shape::default()],
        now: NOW.parse().unwrap(),
    };
    let answer = diff(&base, &new, &query).unwrap();
    assert!(answer.compared > 1_000_000, "{}", answer.compared);
    assert!(
        answer.decisions * 100 < answer.compared * 2,
        "{} decisions for {} requests",
        answer.decisions,
        answer.compared
    );
    assert!(answer.changed_answers() > 0);
}

/// A copy of the ERP pack in `dir` with one rule more: administrators are
/// no longer deleted.
fn erp_keeping_admins(dir: &std::path::Path) -> std::path::PathBuf {
    let erp = pack_dir("erp");
    let changed = dir.join("erp");
    std::fs::create_dir(&changed).unwrap();
    for entry in std::fs::read_dir(&erp).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "policy") {
            std::fs::copy(&path, changed.join(path.file_name().unwrap())).unwrap();
        }
    }
    let base = std::fs::read_to_string(erp.join("accounts.policy")).unwrap();
    let rule = "rule keep_admins {\n  forbid delete\n  when target has role \"administrator\"\n  because \"vendor\"\n}\n";
    file(&changed, "accounts.policy", &format!("{base}\n{rule}"));
    changed
}

/// The same set on both sides changes nothing, exit 0; a change exits 2
/// with its groups; JSON lists every changed request.
#[test]
fn the_command_says_what_changes_and_exits_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let erp = pack_dir("erp");
    let changed = erp_keeping_admins(dir.path());
    let directory = example_file("erp");
    steward()
        .args(["diff", "--base"])
        .arg(&erp)
        .arg("--policy")
        .arg(&erp)
        .arg("--directory")
        .arg(&directory)
        .args(["--now", NOW])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no answer changes"));
    let human = steward()
        .args(["diff", "--base"])
        .arg(&erp)
        .arg("--policy")
        .arg(&changed)
        .arg("--directory")
        .arg(&directory)
        .args(["--now", NOW, "--action", "delete"])
        .assert()
        .code(2);
    let out = String::from_utf8(human.get_output().stdout.clone()).unwrap();
    assert!(out.starts_with("delete: 8 requests allow → deny\n  before: `administrators_delete`\n  after:  `keep_admins` (new)\n  e.g. O12345AA: 12345.Admin → 12345.Second (single)\n"), "{out}");
    assert!(out.contains("8 requests change their answer"), "{out}");

    let json = steward()
        .args(["diff", "--format", "json", "--base"])
        .arg(&erp)
        .arg("--policy")
        .arg(&changed)
        .arg("--directory")
        .arg(&directory)
        .args(["--now", NOW, "--action", "delete", "--request-shape", "single"])
        .assert()
        .code(2);
    let value: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let changes = value["changes"].as_array().unwrap();
    assert_eq!(value["changed_answers"], 2);
    let total = value["changed_answers"].as_u64().unwrap() + value["changed_rules"].as_u64().unwrap();
    assert_eq!(changes.len() as u64, total);
    let answers: Vec<_> =
        changes.iter().filter(|c| c["before"]["decision"] != c["after"]["decision"]).collect();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["before"]["rules"], serde_json::json!(["administrators_delete"]));
    assert_eq!(answers[0]["after"]["rules"], serde_json::json!(["keep_admins"]));
    assert_eq!(answers[0]["shape"], serde_json::json!({"bulk": false, "confirm": false}));
}

/// A misspelt action gets did-you-mean, an unknown environment and a shape
/// that cannot be read are refused, and an invalid base set is exit 3.
#[test]
fn bad_queries_and_sets_are_refused() {
    let erp = pack_dir("erp");
    let directory = example_file("erp");
    let run = |extra: &[&str]| {
        let mut command = steward();
        command
            .args(["diff", "--base"])
            .arg(&erp)
            .arg("--policy")
            .arg(&erp)
            .arg("--directory")
            .arg(&directory);
        command.args(extra).assert()
    };
    run(&["--action", "delte"]).code(3).stderr(predicate::str::contains("delete"));
    run(&["--action", "invite"]).code(3).stderr(predicate::str::contains("not on an account"));
    run(&["--env", "NOPE"]).code(3).stderr(predicate::str::contains("NOPE"));
    run(&["--request-shape", "bluk"])
        .code(1)
        .stderr(predicate::str::contains("`bluk` is not part of a request shape"));
    let dir = tempfile::tempdir().unwrap();
    let broken =
        file(dir.path(), "broken.policy", "rule a { permit delete when actor.stauts == \"active\" }");
    steward()
        .args(["diff", "--base"])
        .arg(&broken)
        .arg("--policy")
        .arg(&erp)
        .arg("--directory")
        .arg(&directory)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("status"));
}

/// `diff --plan`: the items of a saved plan a changed set decides
/// otherwise, in order, with the rules; the plan's own set changes
/// nothing; a plan edited by hand is refused.
#[test]
fn a_saved_plan_is_walked_again_under_the_new_set() {
    let dir = tempfile::tempdir().unwrap();
    let erp = pack_dir("erp");
    let directory = example_file("erp");
    let plan = dir.path().join("plan.json");
    steward()
        .args(["plan", "--policy"])
        .arg(&erp)
        .arg("--directory")
        .arg(&directory)
        .args(["--actor", "12345.Admin", "--action", "delete", "--env", "O12345AA", "--reason", "cleanup"])
        .args(["--where", "target.status == \"active\"", "--now", NOW, "-o"])
        .arg(&plan)
        .assert()
        .code(2);
    let changed = erp_keeping_admins(dir.path());
    let run = |policy: &std::path::Path, plan: &std::path::Path| {
        let mut command = steward();
        command
            .args(["diff", "--plan"])
            .arg(plan)
            .arg("--policy")
            .arg(policy)
            .arg("--directory")
            .arg(&directory);
        command.assert()
    };
    run(&erp, &plan).code(0).stdout(predicate::str::contains(
        "0 items of the plan's 8 decided otherwise (the plan's own policy set)",
    ));
    run(&changed, &plan)
        .code(2)
        .stdout(predicate::str::contains("#2 12345.Second in O12345AA: delete (administrators_delete) → denied (keep_admins)\n    vendor\n"))
        .stdout(predicate::str::contains("1 item of the plan's 8 decided otherwise"));
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, std::fs::read_to_string(&plan).unwrap().replace("cleanup", "other")).unwrap();
    run(&changed, &edited).code(3).stderr(predicate::str::contains("edited after it was made"));
    // Over a directory without the plan's environments: refused, not a
    // list of items denied as unknown.
    steward()
        .args(["diff", "--plan"])
        .arg(&plan)
        .arg("--policy")
        .arg(&changed)
        .arg("--directory")
        .arg(example_file("crm"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("the plan's environment `O12345AA` is not in this directory"));
    run(&changed, &dir.path().join("missing.json")).code(1);
}

/// The ERP pack with `rules` added in a file of their own.
pub(crate) fn erp_and(rules: &[&str]) -> PolicySet {
    erp_with(|text| format!("{text}\n{}\n", rules.join("\n")))
}

/// Administrators give any asset a new owner: the base of the `reassign`
/// changes below.
pub(crate) const REASSIGN: &str =
    "rule admins_reassign { permit reassign when actor has role \"administrator\" }";

/// Changes of `reassign` of every kind the three sides' classes must
/// follow: a rule on one side (the new owner, the asset), a comparison of
/// two sides with many values (the actor and the new owner, the actor and
/// the asset's owner, the asset's owner and the new owner), one with few
/// (home environments), two comparisons in one condition (triples two of
/// whose pairs are singled out), a condition that reads the request's
/// shape, and a `count` over two sides, decided triple by triple.
pub(crate) fn reassign_variants() -> Vec<(&'static str, PolicySet)> {
    let with = |rule: &'static str| erp_and(&[REASSIGN, rule]);
    vec![
        (
            "an active new owner",
            with(
                "rule new_owner_is_active { forbid reassign when request has to and request.to.status != \"active\" }",
            ),
        ),
        (
            "not to yourself",
            with("rule not_to_yourself { forbid reassign when request.to.user == actor.user }"),
        ),
        (
            "your own assets",
            with("rule own_assets { permit reassign when asset has owner and asset.owner == actor }"),
        ),
        (
            "not to its owner",
            with(
                "rule not_to_its_owner { forbid reassign when asset has owner and asset.owner.user == request.to.user }",
            ),
        ),
        (
            "data spaces",
            with(
                "rule data_spaces { permit reassign when actor has role \"superuser\" and asset has space and asset.space.space_type == \"data\" }",
            ),
        ),
        (
            "your own to yourself",
            with(
                "rule keep_it { forbid reassign when asset has owner and asset.owner == actor and request.to == actor and asset.kind != \"space\" }",
            ),
        ),
        (
            "your own to yourself, through the asset",
            with(
                "rule keep_it { forbid reassign when asset has owner and asset.owner == actor and asset.owner == request.to }",
            ),
        ),
        (
            "the same home",
            with("rule same_home { forbid reassign when request.to.user.home != actor.user.home }"),
        ),
        (
            "confirmed by superusers",
            with("rule confirmed { permit reassign when actor has role \"superuser\" and request.confirm }"),
        ),
        (
            "a count of two sides",
            with(
                "rule peers { forbid reassign when count(accounts where account.user == actor.user or account.user == request.to.user) > 1 }",
            ),
        ),
        ("the rule removed", erp_and(&[])),
    ]
}

/// Every (actor, asset, new owner) of every environment, decided under
/// `engine`'s set for each shape: the outcome by request (environments
/// decided on every core).
pub(crate) fn every_triple(engine: &Engine, shapes: &[Shape]) -> BTreeMap<String, (String, Vec<String>)> {
    let directory = engine.directory();
    let one_env = |env: &str| {
        let mut outcomes = BTreeMap::new();
        let users: Vec<String> = directory.accounts_in(env).map(|a| a.user.to_string()).collect();
        let assets: Vec<String> =
            directory.assets().iter().filter(|a| a.env == env).map(|a| a.id.to_string()).collect();
        for shape in shapes {
            for actor in &users {
                for asset in &assets {
                    for to in &users {
                        let mut request = Request::new(actor, "reassign", env);
                        request.asset = Some(asset.clone());
                        request.to = Some(to.clone());
                        request.bulk = shape.bulk;
                        request.confirm = shape.confirm;
                        request.reason = shape.reason.clone();
                        request.now = Some(NOW.parse().unwrap());
                        let report = engine.decide(&request).unwrap().report;
                        let rules = report.rules.iter().map(|r| r.id.clone()).collect();
                        outcomes
                            .insert(format!("{env} {actor} {asset} {to} {shape}"), (report.decision, rules));
                    }
                }
            }
        }
        outcomes
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            directory.environments().iter().map(|env| scope.spawn(move || one_env(&env.id))).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// The diff's groups, keyed as [`brute_force`] keys them.
fn groups_of(answer: &steward::analysis::Diff) -> BTreeMap<Key, u64> {
    answer
        .groups
        .iter()
        .map(|g| {
            let key = (
                g.action.clone(),
                g.before.decision.clone(),
                g.before.rules.clone(),
                g.after.decision.clone(),
                g.after.rules.clone(),
            );
            (key, g.requests)
        })
        .collect()
}

/// Exact on three sides: for every kind of change of `reassign`, the
/// diff's groups and its list of changed requests are what deciding every
/// (actor, asset, new owner) of every environment under both sets gives;
/// with classes, in far fewer decisions. `STEWARD_DIFF_ACCOUNTS` sets the
/// directory's size (60 by default, 30 to a license: about 20 accounts
/// and 70 assets to an environment).
#[test]
fn reassign_diff_equals_deciding_every_triple_under_both_sets() {
    let accounts = std::env::var("STEWARD_DIFF_ACCOUNTS").ok().and_then(|n| n.parse().ok()).unwrap_or(60);
    let base =
        Engine::new(erp_and(&[REASSIGN]), generate_licensed(GenerateOptions { accounts, seed: 5 }, 30));
    let single = vec![Shape::default()];
    let both = vec![Shape::default(), Shape { bulk: true, confirm: true, reason: Some("left".into()) }];
    let before = every_triple(&base, &both);
    for (what, set) in reassign_variants() {
        // Only the rule that reads the shape needs two.
        let shapes = if what.starts_with("confirmed") { &both } else { &single };
        let new = base.with_policies(set);
        let query = DiffQuery {
            actions: vec!["reassign".into()],
            envs: Vec::new(),
            shapes: shapes.clone(),
            now: NOW.parse().unwrap(),
        };
        let answer = diff(&base, &new, &query).unwrap();
        let after = every_triple(&new, shapes);
        let mut groups: BTreeMap<Key, u64> = BTreeMap::new();
        let mut changed = BTreeSet::new();
        for (request, (decision, rules)) in &after {
            let (was, were) = &before[request];
            if (was, were) != (decision, rules) {
                let key = ("reassign".into(), was.clone(), were.clone(), decision.clone(), rules.clone());
                *groups.entry(key).or_default() += 1;
                changed.insert(request.clone());
            }
        }
        assert_eq!(groups_of(&answer), groups, "{what}: the groups");
        assert_eq!(answer.compared, after.len() as u64, "{what}");
        let mut listed = BTreeSet::new();
        answer.for_each_change(&mut |group, e| {
            assert_eq!(group.action, "reassign");
            assert!(e.target.is_empty());
            let (asset, to) = (e.asset.unwrap(), e.to.unwrap());
            assert!(
                listed.insert(format!("{} {} {asset} {to} {}", e.env, e.actor, e.shape)),
                "{what}: twice"
            );
            true
        });
        assert_eq!(listed, changed, "{what}: every changed request, once");
        assert!(!changed.is_empty(), "{what}: the change changes something");
        if what == "a count of two sides" {
            assert_eq!(answer.one_by_one.len(), 1, "{what}: decided triple by triple");
        } else {
            assert!(answer.one_by_one.is_empty(), "{what}: {:?}", answer.one_by_one);
            assert!(
                answer.decisions * 20 < answer.compared * 2,
                "{what}: classes decide fewer: {}",
                answer.decisions
            );
        }
    }
}

/// A model of its own, with `reassign` declared or not.
fn reassign_pack(dir: &std::path::Path, name: &str, declared: bool, rules: &str) -> std::path::PathBuf {
    let action = if declared { "  action reassign on asset\n" } else { "" };
    let text = format!(
        "schema {{\n  environment kind production live\n  status active counts login\n  status frozen counts\n  account kind member\n  asset kind app\n  action freeze on account from active -> frozen as \"member\" \"frozen\"\n{action}}}\n\nrule admins {{ permit freeze when actor has role \"admin\" }}\n{rules}\n"
    );
    file(dir, name, &text)
}

/// `reassign` compared from the command line: its changes with the asset
/// and the new owner (human and JSON), in a default run once a rule names
/// it; and what a careless query gets: an environment without assets, a
/// directory without any, a set that does not declare the action.
#[test]
fn reassign_is_compared_and_careless_queries_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let takers = "rule takers { permit reassign when actor has role \"admin\" }";
    let active =
        "rule active_owners { forbid reassign when request.to.status != \"active\" because \"active only\" }";
    let base = reassign_pack(dir.path(), "base.policy", true, takers);
    let new = reassign_pack(dir.path(), "new.policy", true, &format!("{takers}\n{active}"));
    let undeclared = reassign_pack(dir.path(), "undeclared.policy", false, "");
    let directory = file(
        dir.path(),
        "directory.yaml",
        "environments: [{ id: E, license: L, kind: production }, { id: F, license: L, kind: production }]\nusers:\n  - { id: ann, home: E, accounts: [{ env: E, status: active, roles: [admin] }, { env: F, status: active, roles: [admin] }] }\n  - { id: bob, home: E, accounts: [{ env: E, status: frozen }] }\nassets:\n  - { id: app-1, kind: app, env: E, owner: bob }\n",
    );
    let bare = file(
        dir.path(),
        "bare.yaml",
        "environments: [{ id: E, license: L, kind: production }]\nusers:\n  - { id: ann, home: E, accounts: [{ env: E, status: active, roles: [admin] }] }\n",
    );
    let run = |base: &std::path::Path, new: &std::path::Path, directory: &std::path::Path, extra: &[&str]| {
        let mut command = steward();
        command.args(["diff", "--base"]).arg(base).arg("--policy").arg(new).arg("--directory").arg(directory);
        command.args(["--now", NOW, "--request-shape", "single"]).args(extra).assert()
    };
    // A default run: `freeze` and `reassign`; ann may no longer give
    // app-1 to the frozen bob.
    let human = run(&base, &new, &directory, &[]).code(2);
    let out = String::from_utf8(human.get_output().stdout.clone()).unwrap();
    assert!(
        out.starts_with("reassign: 1 request allow → deny\n  before: `takers`\n  after:  `active_owners` (new)\n  e.g. E: ann → app-1 to bob (single)\n"),
        "{out}"
    );
    assert!(out.contains("reassign: 1 request deny by other rules"), "{out}");
    // E: 2² freeze + 2 × 1 × 2 reassign; F: 1 freeze, no asset.
    assert!(out.contains("9 requests compared (2 actions × 2 environments × 1 request shape)"), "{out}");
    let json = run(&base, &new, &directory, &["--format", "json", "--action", "reassign"]).code(2);
    let value: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(value["on_assets"], serde_json::json!(["reassign"]));
    let changes = value["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[0],
        serde_json::json!({
            "action": "reassign", "env": "E", "actor": "ann", "asset": "app-1", "to": "bob",
            "shape": { "bulk": false, "confirm": false },
            "before": { "decision": "allow", "rules": ["takers"] },
            "after": { "decision": "deny", "rules": ["active_owners"] },
        })
    );
    // Only F, which holds no asset; then a directory without any.
    for (directory, extra) in [(&directory, &["--env", "F"][..]), (&bare, &[][..])] {
        let mut args = vec!["--action", "reassign"];
        args.extend_from_slice(extra);
        run(&base, &new, directory, &args)
            .code(0)
            .stdout(predicate::str::contains(
                "note: `reassign` acts on assets, and the environments compared hold none: it has no request to compare",
            ))
            .stdout(predicate::str::contains("0 requests compared"));
    }
    // Without `--action`, `reassign` is left out while no rule names it.
    run(&undeclared, &undeclared, &directory, &[]).code(0).stdout(predicate::str::contains(
        "5 requests compared (1 action × 2 environments × 1 request shape)",
    ));
    run(&base, &base, &directory, &["--action", "reassign"])
        .code(0)
        .stdout(predicate::str::contains("4 requests compared"))
        .stdout(predicate::str::contains("no answer changes"));
    // A set that does not declare it: its requests are denied
    // (`undeclared-action`), and a note says which set declares it...
    run(&undeclared, &new, &directory, &["--action", "reassign"])
        .code(2)
        .stdout(predicate::str::contains("before: `undeclared-action`"))
        .stdout(predicate::str::contains("note: `reassign` is declared by the new set only"));
    // ... and neither: the action is unknown.
    run(&undeclared, &undeclared, &directory, &["--action", "reassign"])
        .code(3)
        .stderr(predicate::str::contains("reassign"));
}
