//! Properties: evaluation does not depend on the order of rules.

use proptest::prelude::*;
use steward::Engine;
use steward::policy::{PolicySet, Request, Sources};

use crate::support::parse;

const DIRECTORY: &str = "
environments: [{ id: E, license: L, kind: production }]
users:
  - { id: a, home: E, accounts: [{ env: E, status: active, roles: [admin, superuser] }] }
  - { id: b, home: E, accounts: [{ env: E, status: active, roles: [clerk] }] }
  - { id: c, home: E, accounts: [{ env: E, status: blocked, roles: [superuser] }] }
";

const RULES: &[&str] = &[
    "rule p1 { permit block, delete when actor has role \"admin\" }",
    "rule p2 { permit unblock when actor has role \"superuser\" }",
    "rule p3 { permit delete when request.bulk }",
    "rule f1 { forbid delete when actor.user == target.user }",
    "rule f2 { forbid block when target has role \"superuser\" and not request.bulk }",
    "rule f3 { forbid block, delete when count(accounts where account has role \"superuser\" and account.status == \"active\") <= 1 and target has role \"superuser\" }",
    "rule f4 { forbid unblock when target.user.employment_end < request.now }",
];

fn decide_all(order: &[usize]) -> Vec<(String, Vec<String>)> {
    let mut sources = Sources::new();
    for &i in order {
        sources.add(format!("r{i}.policy"), RULES[i]);
    }
    let set = PolicySet::from_sources(sources).unwrap().set;
    let engine = Engine::new(set, parse(DIRECTORY));
    let mut out = Vec::new();
    for actor in ["a", "b"] {
        for target in ["a", "b", "c"] {
            for action in ["block", "unblock", "delete"] {
                for bulk in [false, true] {
                    let mut request = Request::new(actor, action, "E").target(target);
                    request.bulk = bulk;
                    let verdict = engine.decide(&request).unwrap();
                    let mut rules: Vec<String> = verdict.report.rules.iter().map(|r| r.id.clone()).collect();
                    rules.sort();
                    out.push((verdict.report.decision, rules));
                }
            }
        }
    }
    out
}

proptest! {
    #[test]
    fn evaluation_ignores_rule_order(order in Just((0..RULES.len()).collect::<Vec<_>>()).prop_shuffle()) {
        let natural: Vec<usize> = (0..RULES.len()).collect();
        prop_assert_eq!(decide_all(&order), decide_all(&natural));
    }
}

/// A pack whose rules read what earlier items change: counts, statuses,
/// the actor's own account; deletions that fall back, reassign and remove.
const SEQUENTIAL: &str = r#"
rule anyone { permit block, unblock, delete, reassign when actor.status == "active" }
rule keep_some { forbid block, delete when count(accounts where account.status == "active") <= KEEP }
rule not_yourself { forbid block, delete when actor.user == target.user }
lifecycle delete {
  referenced -> fallback block
  owns space, app, script, data_connection, reload_schedule -> reassign to actor
  owns api_key, alert, notification, session -> revoke
  orphaned user -> remove
}
lifecycle block {
  owns alert -> disable
  owns session -> remove
}
"#;

fn exported(directory: &steward::directory::Directory) -> String {
    steward::directory::export::to_yaml(directory, &steward::policy::declare::standard()).unwrap()
}

fn store_of(directory: &steward::directory::Directory) -> steward::directory::store::Store {
    let mut store = steward::directory::store::Store::in_memory().unwrap();
    store.import(directory, "generated", Default::default()).unwrap();
    store
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// #14: a plan's items see the items before them. Its items (outcomes,
    /// rules, impacts: the graph a block keeps included) equal
    /// deciding and applying them one at a time, and the directory
    /// after applying it equals both that and the plan's preview.
    #[test]
    fn a_plan_is_its_items_decided_and_applied_one_at_a_time(
        seed in 0u64..1_000,
        action in prop::sample::select(vec!["block", "unblock", "delete"]),
        picks in prop::collection::vec(0usize..1_000, 1..8),
    ) {
        use steward::apply::{ApplyOptions, apply};
        use steward::plan::{PlanRequest, Target, Targets};
        let directory = steward::directory::generate::generate(
            steward::directory::generate::GenerateOptions { accounts: 40, seed },
        );
        let env = directory.environments()[0].id.clone();
        let accounts: Vec<_> = directory.accounts_in(&env).map(|a| a.user.to_string()).collect();
        let actor = directory
            .accounts_in(&env)
            .find(|a| a.status == "active")
            .map(|a| a.user.to_string())
            .unwrap();
        let targets: Vec<String> = picks.iter().map(|p| accounts[p % accounts.len()].clone()).collect();
        let request = |targets: &[String]| PlanRequest {
            actor: actor.clone(),
            action: Some(action.to_owned()),
            targets: Targets::List(targets.iter().map(|t| Target::in_env(t.as_str(), env.as_str())).collect()),
            env: None,
            value: None,
            reason: "property".into(),
            now: "2026-11-23T09:00:00Z".parse().unwrap(),
            reassign: Default::default(),
        };
        let options = ApplyOptions { now: Some("2026-11-23T09:00:00Z".parse().unwrap()), ..ApplyOptions::default() };
        let engine = Engine::new(PolicySet::from_sources({
            let mut s = Sources::new();
            // Two or three items in, the count rule starts to deny.
            let active = directory
                .accounts_in(&env)
                .filter(|a| a.status == "active")
                .count();
            s.add("p.policy", SEQUENTIAL.replace("KEEP", &active.saturating_sub(3).to_string()));
            s
        }).unwrap().set, directory.clone());
        let (plan, preview) = engine.plan_preview(&request(&targets)).unwrap();
        let set = || engine.policies().clone();
        let mut whole = store_of(&directory);
        apply(&mut whole, set(), &plan, &options).unwrap();
        prop_assert_eq!(exported(&whole.load().unwrap()), exported(&preview));
        // One at a time, each over what the ones before left.
        let mut single = store_of(&directory);
        let mut outcomes = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for target in targets.iter().filter(|t| seen.insert((*t).clone())) {
            let now = Engine::new(set(), single.load().unwrap());
            let one = now.plan(&request(std::slice::from_ref(target))).unwrap();
            outcomes.push(serde_json::to_value(&one.items[0]).unwrap());
            apply(&mut single, set(), &one, &options).unwrap();
        }
        // Outcome, rules, reasons and impact alike.
        let bulk: Vec<serde_json::Value> = plan.items.iter().map(|i| serde_json::to_value(i).unwrap()).collect();
        prop_assert_eq!(bulk, outcomes);
        prop_assert_eq!(exported(&single.load().unwrap()), exported(&preview));
    }
}
