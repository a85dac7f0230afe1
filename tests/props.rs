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
