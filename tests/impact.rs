//! The reference graph and impact analysis: data-driven cases, memoized
//! reassigners against brute force, reachability, and what people see.

use std::collections::{BTreeSet, HashSet, VecDeque};

use proptest::prelude::*;
use steward::Engine;
use steward::directory::Directory;
use steward::directory::generate::{GenerateOptions, generate};
use steward::graph::{Edge, Impact, ImpactQuery, LicenseChange, Node, dot, report};
use steward::plan::{PlanRequest, Target, Targets};
use steward::policy::Request;

use crate::support::{ask, pack, parse, policy, root, shipped};

#[test]
fn impact_cases_pass() {
    let summary = steward::testing::run(&[root().join("tests/impact")]).unwrap();
    let failed: Vec<_> = summary.cases.iter().filter(|c| !c.passed).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(summary.passed >= 10);
}

/// The impact of Olivia deleting Leo in the analytics example.
fn leo_leaves(engine: &Engine) -> Impact {
    engine
        .impact(&ImpactQuery { actor: Some("acme.Olivia"), action: "delete", user: "acme.Leo", env: "acme" })
        .unwrap()
}

#[test]
fn memoized_reassigners_equal_a_decision_per_actor_d7() {
    let engine = shipped("analytics");
    let directory = engine.directory();
    for asset in directory.assets().iter().filter(|a| a.owner.as_deref() == Some("acme.Leo")) {
        let impact = leo_leaves(&engine);
        let Some(listed) = impact.reassign.iter().find(|r| r.asset == asset.id) else { continue };
        let brute: Vec<String> = directory
            .accounts_in("acme")
            .filter(|a| a.status == "active")
            .filter(|a| a.kind != "anonymous")
            .filter(|a| {
                let mut r = Request::new(a.user.as_str(), "reassign", "acme");
                r.asset = Some(asset.id.to_string());
                engine.policies().decide(&r, directory).unwrap().allowed()
            })
            .map(|a| a.user.to_string())
            .collect();
        assert_eq!(listed.reassigners.to_vec(), brute, "{}", asset.id);
    }
}

#[test]
fn reassigners_follow_space_types_d7() {
    let engine = shipped("analytics");
    let impact = leo_leaves(&engine);
    let of = |id: &str| impact.reassign.iter().find(|r| r.asset == id).unwrap().reassigners.to_vec();
    assert_eq!(of("app-forecast"), ["acme.Olivia", "acme.Anders"]); // shared space: analytics admins too
    assert_eq!(of("dc-warehouse"), ["acme.Olivia", "acme.Dana"]); // data space: data admins too
    assert_eq!(of("space-leo"), ["acme.Olivia"]); // personal space: main admins only
}

/// The assets an account can reach: what it owns, and what sits in or uses
/// those, transitively.
fn reachable(engine: &Engine, user: &str, env: &str) -> HashSet<String> {
    let graph = engine.graph();
    let start = graph.account_node(engine.directory().account_index(user, env).unwrap()).unwrap();
    let mut seen = HashSet::new();
    let mut queue: VecDeque<_> =
        graph.outgoing(start).filter(|(e, _)| *e == Edge::Owns).map(|(_, n)| n).collect();
    while let Some(node) = queue.pop_front() {
        if let Some(Node::Asset(i)) = graph.node(node)
            && seen.insert(engine.directory().assets()[i as usize].id.to_string())
        {
            queue.extend(
                graph.incoming(node).filter(|(e, _)| matches!(e, Edge::In | Edge::Uses)).map(|(_, n)| n),
            );
        }
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn an_impact_never_lists_an_asset_the_account_cannot_reach(seed in any::<u64>(), accounts in 5usize..80) {
        let directory: Directory = generate(GenerateOptions { accounts, seed });
        let engine = Engine::new(pack("analytics"), directory);
        let targets: Vec<(String, String)> =
            engine.directory().accounts().iter().map(|a| (a.user.to_string(), a.env.to_string())).collect();
        for (user, env) in targets {
            let impact = engine.impact(&ImpactQuery { actor: None, action: "delete", user: &user, env: &env }).unwrap();
            let reach = reachable(&engine, &user, &env);
            let listed: BTreeSet<&String> = impact
                .reassign.iter().map(|r| &r.asset)
                .chain(impact.at_risk.iter().map(|r| &r.asset))
                .chain(impact.at_risk.iter().flat_map(|r| r.path.iter()))
                .chain(impact.revoke.iter()).chain(impact.remove.iter()).chain(impact.disable.iter())
                .collect();
            for asset in listed {
                prop_assert!(reach.contains(asset), "{asset} listed for {user}@{env} but not reachable");
            }
        }
    }
}

#[test]
fn human_report_of_a_leaver() {
    let engine = shipped("analytics");
    let impact = leo_leaves(&engine);
    insta::assert_snapshot!("leaver_human", report::render(&impact, engine.policies().schema()));
    insta::assert_snapshot!("leaver_dot", dot::render(&impact));
}

#[test]
fn human_report_of_a_delete_that_falls_back_p3() {
    let engine = shipped("erp");
    let impact = engine
        .impact(&ImpactQuery {
            actor: Some("12345.Admin"),
            action: "delete",
            user: "12345.JJansen",
            env: "O12345AA",
        })
        .unwrap();
    let text = report::render(&impact, engine.policies().schema());
    assert!(text.starts_with("`12345.JJansen` in `O12345AA` cannot be deleted: 341 rows in journal_entries refer to it; block instead (allowed for this actor)"), "{text}");
    insta::assert_snapshot!("fallback_human", text);
}

#[test]
fn impact_json_has_the_documented_keys() {
    let engine = shipped("analytics");
    let impact = leo_leaves(&engine);
    let json = serde_json::to_value(&impact).unwrap();
    for key in ["reassign", "at_risk", "revoke", "remove", "disable", "license", "warnings"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert!(json["reassign"][0].get("candidates").is_some());
    assert!(json["at_risk"][0].get("path").is_some());
}

#[test]
fn a_batch_equals_impacts_one_by_one() {
    let engine = shipped("analytics");
    let accounts: Vec<(String, String)> =
        engine.directory().accounts().iter().map(|a| (a.user.to_string(), a.env.to_string())).collect();
    let queries: Vec<ImpactQuery<'_>> = accounts
        .iter()
        .map(|(user, env)| ImpactQuery { actor: Some("acme.Olivia"), action: "delete", user, env })
        .collect();
    let batch = engine.impact_batch(&queries);
    assert_eq!(batch.len(), queries.len());
    for (query, result) in queries.iter().zip(batch) {
        assert_eq!(result.unwrap(), engine.impact(query).unwrap());
    }
}

/// A guest `g` of home license `home` (blocked at home unless `at_home`
/// says otherwise) with a guest account in the customer's environment `C`;
/// one other user counts toward each license.
fn guest_of(at_home: &str) -> Engine {
    let directory = parse(&format!(
        "
environments:
  - {{ id: H, license: home, kind: production }}
  - {{ id: C, license: customer, kind: production }}
users:
  - {{ id: h, home: H, accounts: [{{ env: H, status: active }}] }}
  - {{ id: c, home: C, accounts: [{{ env: C, status: active }}] }}
  - id: g
    home: H
    guest_license: true
    desktop_access: true
    accounts:
      - {{ env: H, status: {at_home} }}
      - {{ env: C, status: active, kind: guest }}
"
    ));
    Engine::new(policy("rule convert { permit convert_to_normal, block }"), directory)
}

fn change(license: &str, before: usize, after: usize) -> LicenseChange {
    LicenseChange { license: license.to_owned(), before, after }
}

const CONVERT_G: ImpactQuery<'static> =
    ImpactQuery { actor: Some("c"), action: "convert_to_normal", user: "g", env: "C" };

/// G3, G12, G1: the guest account was the guest's only counting account,
/// so converting it leaves the home license and joins the customer's: both
/// counts move, listed by license id; `license` stays the own (home) one.
#[test]
fn g3_g12_converting_a_guest_moves_both_licenses() {
    let impact = guest_of("blocked").impact(&CONVERT_G).unwrap();
    assert_eq!(impact.licenses, [change("customer", 1, 2), change("home", 2, 1)]);
    assert_eq!(impact.license, Some(change("home", 2, 1)));
}

/// G3, G12: the report shows both licenses of a conversion, the own one
/// first.
#[test]
fn human_report_of_a_conversion_shows_both_licenses_g3() {
    let impact = guest_of("blocked").impact(&CONVERT_G).unwrap();
    let text = report::render(&impact, &steward::policy::declare::standard());
    assert!(
        text.ends_with(
            "\nlicense home: 2 users counting now, 1 user after\nlicense customer: 1 user counting now, 2 users after\n"
        ),
        "{text}"
    );
    insta::assert_snapshot!("conversion_human", text);
}

/// G3, G1, P2: a guest still active at home keeps counting there, so only
/// the customer's count moves; the own license is shown unchanged but not
/// listed among the changes.
#[test]
fn g3_p2_converting_a_guest_active_at_home_moves_only_the_customers_license() {
    let impact = guest_of("active").impact(&CONVERT_G).unwrap();
    assert_eq!(impact.licenses, [change("customer", 1, 2)]);
    assert_eq!(impact.license, Some(change("home", 2, 2)));
}

/// P2, P7: blocking a user who stays active in another environment of the
/// same license (a test environment counts too) moves no count: the own
/// license is shown unchanged, `licenses` is empty and left out of the
/// JSON, which still reads back (a plan saved before the key existed keeps
/// its digest).
#[test]
fn p2_a_block_that_leaves_the_user_counting_elsewhere_moves_no_license() {
    let directory = parse(
        "
environments:
  - { id: P, license: L, kind: production }
  - { id: T, license: L, kind: test }
users:
  - { id: ann, home: P, accounts: [{ env: P, status: active }] }
  - { id: bob, home: P, accounts: [{ env: P, status: active }, { env: T, status: active }] }
",
    );
    let engine = Engine::new(policy("rule all { permit block }"), directory);
    let impact = engine.decide(&ask("ann", "block", "bob", "P")).unwrap().impact.unwrap();
    assert_eq!(impact.license, Some(change("L", 2, 2)));
    assert!(impact.licenses.is_empty(), "{:?}", impact.licenses);
    let json = serde_json::to_value(&impact).unwrap();
    assert!(json.get("licenses").is_none(), "{json}");
    assert_eq!(serde_json::from_value::<Impact>(json).unwrap(), impact);
    // P2: blocking a user's only account lowers the count.
    let alone = engine.decide(&ask("bob", "block", "ann", "P")).unwrap().impact.unwrap();
    assert_eq!(alone.licenses, [change("L", 2, 1)]);
}

/// G4, G9: activating the guest license changes the user, not an account:
/// the guest counts toward the home license once added to a customer (G1),
/// so the activation itself moves no count.
#[test]
fn g9_activating_a_guest_license_moves_no_count() {
    let query = ImpactQuery { actor: None, action: "activate_guest_license", user: "h", env: "H" };
    let impact = guest_of("blocked").impact(&query).unwrap();
    assert!(impact.licenses.is_empty(), "{:?}", impact.licenses);
    assert_eq!(impact.license, Some(change("home", 2, 2)));
}

/// G3, G12: a plan of one conversion sums the same license changes as the
/// conversion's impact: both read the operation's preview and the license
/// index.
#[test]
fn g3_a_plan_of_a_conversion_and_its_impact_agree() {
    let engine = guest_of("blocked");
    let plan = engine
        .plan(&PlanRequest {
            actor: "c".into(),
            action: Some("convert_to_normal".into()),
            targets: Targets::List(vec![Target::in_env("g", "C")]),
            env: None,
            value: None,
            reason: "joins the customer".into(),
            now: "2026-11-23T09:00:00Z".parse().unwrap(),
            reassign: Default::default(),
        })
        .unwrap();
    assert_eq!(plan.items[0].outcome, "convert_to_normal");
    let impact = engine.impact(&CONVERT_G).unwrap();
    assert_eq!(plan.summary.licenses, impact.licenses);
    assert_eq!(impact.licenses.len(), 2);
}

/// A verdict reports the impact of an action that changes the account's
/// status (the license count moves) even when no lifecycle block names it,
/// and of any other action only through a lifecycle block. Which actions
/// change the status is read from the schema plans and apply use.
#[test]
fn a_verdict_has_an_impact_without_a_lifecycle_block_only_for_a_status_change() {
    let schema = steward::policy::declare::standard();
    let changes: Vec<&str> =
        schema.actions.iter().filter(|a| a.changes_status()).map(|a| a.name.as_str()).collect();
    assert_eq!(changes, ["register", "revoke_invitation", "block", "unblock", "delete"]);
    let directory = parse(
        "
environments: [{ id: E, license: L, kind: production }]
users:
  - { id: ann, home: E, accounts: [{ env: E, status: active }] }
  - { id: bob, home: E, accounts: [{ env: E, status: active }] }
",
    );
    let engine = Engine::new(policy("rule all { permit block, delete, edit_name, login }"), directory);
    let impact = |action: &str| {
        let request = Request {
            value: (action == "edit_name").then(|| "Bob".into()),
            ..ask("ann", action, "bob", "E")
        };
        engine.decide(&request).unwrap().impact
    };
    for action in ["block", "delete"] {
        assert_eq!(impact(action).unwrap().license.unwrap().after, 1, "{action}");
    }
    for action in ["edit_name", "login"] {
        assert_eq!(impact(action), None, "{action}");
    }
}
