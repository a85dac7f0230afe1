//! What makes a plan the truth and apply untrickable (#14, #15): items see
//! the items before them; a plan shows every owner it decides; every name
//! given to apply is checked; nothing drops out silently; a plan file is
//! trusted for its requests alone; two applies never both land.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::Value;
use steward::apply::{ApplyError, ApplyOptions, apply};
use steward::directory::store::Store;
use steward::plan::{Plan, PlanRequest, Target, Targets};

use crate::support::{
    NOW, apply_cmd, audit, database, example, file, pack, pack_dir, parse, policy, read_json, save_plan,
    steward, stored,
};

/// A plan request by `actor` of `action` on `targets` in `env`.
fn request(actor: &str, action: &str, env: &str, targets: &[&str]) -> PlanRequest {
    PlanRequest {
        actor: actor.into(),
        action: Some(action.into()),
        targets: Targets::List(targets.iter().map(|t| Target::in_env(*t, env)).collect()),
        env: None,
        value: None,
        reason: "ticket 42".into(),
        now: NOW.parse().unwrap(),
        reassign: BTreeMap::new(),
    }
}

fn outcomes(plan: &Plan) -> Vec<(&str, &str)> {
    plan.items.iter().map(|i| (i.target.as_str(), i.outcome.as_str())).collect()
}

/// A store in `dir` of the example `name`, and the engine over it.
fn crm_store(dir: &Path) -> PathBuf {
    database(dir, "crm", "")
}

fn store_engine(db: &Path, pack_name: &str) -> steward::Engine {
    steward::Engine::new(pack(pack_name), Store::open(db).unwrap().load().unwrap())
}

/// C5 allows superusers to be blocked in bulk, and `last_superuser_stays`
/// keeps one: the second item is decided after the first, so it is denied.
#[test]
fn c4_c5_a_bulk_never_blocks_the_last_active_superuser() {
    let dir = tempfile::tempdir().unwrap();
    let db = crm_store(dir.path());
    let engine = store_engine(&db, "crm");
    let plan = engine.plan(&request("crm.Ada", "block", "CRM1", &["crm.Sam", "crm.Ada"])).unwrap();
    assert_eq!(outcomes(&plan), [("crm.Sam", "block"), ("crm.Ada", "denied")]);
    assert_eq!(plan.items[1].rules, ["last_superuser_stays"]);
    // Either order: the first allowed item decides for the second.
    let reversed = engine.plan(&request("crm.Ada", "block", "CRM1", &["crm.Ada", "crm.Sam"])).unwrap();
    assert_eq!(outcomes(&reversed), [("crm.Ada", "block"), ("crm.Sam", "denied")]);
    apply(&mut Store::open(&db).unwrap(), pack("crm"), &plan, &ApplyOptions::default()).unwrap();
    let after = stored(&db);
    let active = after.accounts_in("CRM1").filter(|a| a.has_role("superuser"));
    assert_eq!(active.filter(|a| a.status == "active").count(), 1);
}

/// The same target three times is one item, applied and audited once (#15).
#[test]
fn a_target_listed_three_times_is_one_item() {
    let engine = steward::Engine::new(pack("crm"), parse(&example("crm")));
    let plan = engine.plan(&request("crm.Ada", "block", "CRM1", &["crm.Uma", "crm.Uma", "crm.Uma"])).unwrap();
    assert_eq!(outcomes(&plan), [("crm.Uma", "block")]);
    assert_eq!(plan.summary.outcomes.get("block"), Some(&1));
}

const OWNS: &str = r#"
environments: [{ id: E, license: L, kind: production }]
users:
  - { id: ann, home: E, accounts: [{ env: E, status: active, roles: [admin] }] }
  - { id: bob, home: E, accounts: [{ env: E, status: active }] }
  - { id: cy, home: E, accounts: [{ env: E, status: active }] }
assets:
  - { id: app-payroll, kind: app, env: E, owner: bob }
"#;

const DELETE_TO_ACTOR: &str = r#"
rule admins_delete { permit delete when actor has role "admin" }
lifecycle delete {
  owns app -> reassign to actor
}
"#;

/// A default owner the policy does not let the actor reassign to: the plan
/// denies the item with the rule, and shows who would have owned what (#14).
#[test]
fn d7_an_item_apply_would_refuse_is_denied_in_the_plan() {
    let engine = steward::Engine::new(policy(DELETE_TO_ACTOR), parse(OWNS));
    let plan = engine.plan(&request("ann", "delete", "E", &["bob"])).unwrap();
    assert_eq!(outcomes(&plan), [("bob", "denied")]);
    assert_eq!(plan.items[0].rules, ["default-deny"]);
    assert!(
        plan.items[0].reasons[0].contains("reassigning `app-payroll` to `ann` (the default owner) is denied"),
        "{:?}",
        plan.items[0].reasons
    );
    let permitted = format!(
        "{DELETE_TO_ACTOR}\nrule admins_reassign {{ permit reassign when actor has role \"admin\" }}"
    );
    let engine = steward::Engine::new(policy(&permitted), parse(OWNS));
    let plan = engine.plan(&request("ann", "delete", "E", &["bob"])).unwrap();
    assert_eq!(outcomes(&plan), [("bob", "delete")]);
    let reassign = &plan.items[0].impact.as_ref().unwrap().reassign[0];
    assert_eq!(reassign.new_owner.as_deref(), Some("ann"), "the plan names the owner");
}

/// The human plan shows each new owner, not only the JSON (#14).
#[test]
fn d7_the_human_plan_shows_who_will_own_what() {
    let dir = tempfile::tempdir().unwrap();
    let pol = file(
        dir.path(),
        "p.policy",
        &format!(
            "{DELETE_TO_ACTOR}\nrule admins_reassign {{ permit reassign when actor has role \"admin\" }}"
        ),
    );
    let dirf = file(dir.path(), "d.yaml", OWNS);
    let targets = file(dir.path(), "t.txt", "bob\n");
    steward()
        .args(["plan", "--policy"])
        .arg(&pol)
        .arg("--directory")
        .arg(&dirf)
        .args(["--actor", "ann", "--action", "delete", "--env", "E", "--reason", "left", "--now", NOW])
        .arg("--targets")
        .arg(&targets)
        .assert()
        .success()
        .stdout(predicate::str::contains("app-payroll (app) → ann (default owner)"));
}

/// Every name given to apply is checked: a misspelt asset, an asset the
/// plan does not reassign, an unknown user; nothing is written (#14).
#[test]
fn d7_every_reassign_name_is_checked_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "analytics", "");
    let targets = file(dir.path(), "t.txt", "acme.Leo\n");
    let args =
        ["--actor", "acme.Olivia", "--action", "delete", "--env", "acme", "--reason", "left", "--now", NOW];
    let (path, _) = save_plan(
        dir.path(),
        &pack_dir("analytics"),
        &db,
        &[&args[..], &["--targets", targets.to_str().unwrap()]].concat(),
    );
    for (given, message) in [
        ("app-forecat=acme.Anders", "the plan reassigns no `app-forecat`: did you mean `app-forecast`?"),
        ("whatever=acme.Anders", "the plan reassigns no `whatever`"),
        ("app-forecast=acme.Nobody", "unknown user `acme.Nobody` for `app-forecast`"),
    ] {
        let mut cmd = apply_cmd(&pack_dir("analytics"), &db, &path);
        cmd.arg("--confirm");
        for (asset, owner) in crate::support::LEAVER_OWNERS {
            if !given.starts_with(&format!("{asset}=")) {
                cmd.arg("--reassign").arg(format!("{asset}={owner}"));
            }
        }
        cmd.arg("--reassign").arg(given).assert().code(3).stderr(predicate::str::contains(message));
        assert!(audit(&db).is_empty(), "{given}: nothing written");
    }
}

const CONTRACTORS: &str = r#"
environments: [{ id: E, license: L, kind: production }]
users:
  - { id: ann, home: E, accounts: [{ env: E, status: active, roles: [admin] }] }
  - { id: bob, home: E, attrs: { contract_end: "2026-01-31" }, accounts: [{ env: E, status: active }] }
  - { id: cy, home: E, attrs: { contract_end: "2027-01-31" }, accounts: [{ env: E, status: active }] }
"#;

const OVERDUE: &str = r#"
rule admins_block { permit block when actor has role "admin" }
trigger overdue {
  block when target.user.attrs has contract_end and target.user.attrs.contract_end < request.now
}
"#;

/// A trigger that cannot be evaluated on an account makes an `error` item
/// with the reason and the mend; the plan exits 3 and apply refuses it
/// unless told to skip errors (#14).
#[test]
fn p5_accounts_a_trigger_cannot_be_evaluated_on_never_drop_out() {
    let dir = tempfile::tempdir().unwrap();
    let pol = file(dir.path(), "p.policy", OVERDUE);
    let yaml = file(dir.path(), "d.yaml", CONTRACTORS);
    let db = dir.path().join("d.db");
    crate::support::import(&yaml, &db);
    let path = dir.path().join("plan.json");
    let out = steward()
        .args(["plan", "--policy"])
        .arg(&pol)
        .arg("--directory")
        .arg(&db)
        .args(["--actor", "ann", "--trigger", "overdue", "--reason", "contract ended", "--now", NOW])
        .arg("-o")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("free-form attributes (`attrs.NAME`) are untyped"), "{text}");
    assert!(text.contains("apply refuses this plan"), "{text}");
    let plan: Value = read_json(&path);
    let items = plan["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "bob and cy, each an error item: {plan}");
    assert!(items.iter().all(|i| i["outcome"] == "error"));
    apply_cmd(&pol, &db, &path)
        .arg("--confirm")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--skip-errors"));
    apply_cmd(&pol, &db, &path).args(["--confirm", "--skip-errors"]).assert().success();
    assert!(audit(&db).is_empty(), "error items are never applied");
}

/// `plan show` prints a saved plan as `plan` printed it (#14).
#[test]
fn c3_plan_show_prints_a_saved_plan_as_plan_did() {
    let dir = tempfile::tempdir().unwrap();
    let db = crm_store(dir.path());
    let targets = file(dir.path(), "t.txt", "crm.Uma\ncrm.Vic\n");
    let args = ["--actor", "crm.Ada", "--action", "block", "--env", "CRM1", "--reason", "left", "--now", NOW];
    let out = crate::support::command("plan", &pack_dir("crm"), &db)
        .args(args)
        .arg("--targets")
        .arg(&targets)
        .arg("-o")
        .arg(dir.path().join("plan.json"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown = steward().args(["plan", "show"]).arg(dir.path().join("plan.json")).output().unwrap();
    assert!(shown.status.success());
    assert_eq!(String::from_utf8(shown.stdout).unwrap(), String::from_utf8(out.stdout).unwrap());
    steward()
        .args(["plan", "show", "--format", "json"])
        .arg(dir.path().join("plan.json"))
        .assert()
        .success()
        .stdout(predicate::str::contains("\"digest\""));
    steward()
        .args(["plan", "show", "nope.json"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("nope.json"));
}

/// A forged plan: its items edited to what the attacker wants, its digest
/// made again. apply decides the requests again and refuses the whole
/// plan, naming the items; nothing is written (#15).
fn forge(plan: &mut Plan) {
    plan.digest = plan.content_digest();
}

fn crm_plan(db: &Path, actor: &str, action: &str, targets: &[&str]) -> Plan {
    store_engine(db, "crm").plan(&request(actor, action, "CRM1", targets)).unwrap()
}

#[test]
fn a_denied_item_set_to_block_in_the_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = crm_store(dir.path());
    // Uma (sales) may block nobody.
    let mut plan = crm_plan(&db, "crm.Uma", "block", &["crm.Vic"]);
    assert_eq!(outcomes(&plan), [("crm.Vic", "denied")]);
    plan.items[0].outcome = "block".into();
    plan.items[0].rules = vec!["superusers_manage_accounts".into()];
    plan.summary.outcomes = [("block".to_owned(), 1)].into();
    forge(&mut plan);
    let refused = apply(&mut Store::open(&db).unwrap(), pack("crm"), &plan, &ApplyOptions::default());
    let Err(ApplyError::Differs { items }) = &refused else { panic!("{refused:?}") };
    assert!(items[0].contains("`crm.Vic` in `CRM1` is denied (the plan says block)"), "{items:?}");
    assert!(audit(&db).is_empty());
    assert_eq!(stored(&db).account("crm.Vic", "CRM1").unwrap().status.as_str(), "active");
}

#[test]
fn a_user_without_rights_cannot_plan_the_deletion_of_both_superusers() {
    let dir = tempfile::tempdir().unwrap();
    let db = crm_store(dir.path());
    let mut plan = crm_plan(&db, "crm.Vic", "delete", &["crm.Ada", "crm.Sam"]);
    assert!(plan.items.iter().all(|i| i.outcome == "denied"));
    for item in &mut plan.items {
        item.outcome = "delete".into();
        item.rules.clear();
        item.reasons.clear();
    }
    forge(&mut plan);
    let refused = apply(&mut Store::open(&db).unwrap(), pack("crm"), &plan, &ApplyOptions::default());
    let Err(ApplyError::Differs { items }) = &refused else { panic!("{refused:?}") };
    assert_eq!(items.len(), 2, "both items named: {items:?}");
    assert!(
        stored(&db).account("crm.Ada", "CRM1").is_some() && stored(&db).account("crm.Sam", "CRM1").is_some()
    );
}

#[test]
fn assets_added_to_an_items_impact_are_never_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "analytics", "");
    let engine = store_engine(&db, "analytics");
    let mut asked = request("acme.Olivia", "delete", "acme", &["acme.Leo"]);
    asked.reassign = crate::support::LEAVER_OWNERS.iter().map(|(a, o)| ((*a).into(), (*o).into())).collect();
    let mut plan = engine.plan(&asked).unwrap();
    let others: Vec<String> = stored(&db)
        .assets()
        .iter()
        .filter(|a| a.owner.as_deref().is_some_and(|o| o != "acme.Leo"))
        .map(|a| a.id.to_string())
        .collect();
    assert!(!others.is_empty());
    plan.items[0].impact.as_mut().unwrap().remove.extend(others.iter().cloned());
    forge(&mut plan);
    let refused = apply(&mut Store::open(&db).unwrap(), pack("analytics"), &plan, &ApplyOptions::default());
    assert!(
        matches!(&refused, Err(ApplyError::Differs { items }) if items[0].contains("acme.Leo")),
        "{refused:?}"
    );
    let after = stored(&db);
    assert!(others.iter().all(|id| after.asset(id).is_some()), "nobody else's asset is touched");
    assert!(audit(&db).is_empty());
}

/// Two applies at once (A blocks B; B blocks A: each allowed alone) never
/// both land, and one plan started twice at once is applied once (#15).
#[test]
fn c4_two_applies_racing_keep_the_last_superuser_and_apply_each_plan_once() {
    for round in 0..12 {
        let dir = tempfile::tempdir().unwrap();
        let db = crm_store(dir.path());
        let one = crm_plan(&db, "crm.Ada", "block", &["crm.Sam"]);
        let other = crm_plan(&db, "crm.Sam", "block", &["crm.Ada"]);
        assert_eq!(outcomes(&one), [("crm.Sam", "block")]);
        assert_eq!(outcomes(&other), [("crm.Ada", "block")]);
        // Round by round: two different plans, or the same plan twice.
        let plans = if round % 2 == 0 { [one.clone(), other] } else { [one.clone(), one] };
        let files: Vec<PathBuf> = plans
            .iter()
            .enumerate()
            .map(|(n, p)| {
                let path = dir.path().join(format!("plan{n}.json"));
                std::fs::write(&path, serde_json::to_string(p).unwrap()).unwrap();
                path
            })
            .collect();
        let children: Vec<std::process::Child> = files
            .iter()
            .map(|f| {
                crate::support::steward_process()
                    .args(["apply", "--confirm", "--policy"])
                    .arg(pack_dir("crm"))
                    .arg("--directory")
                    .arg(&db)
                    .arg(f)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let codes: Vec<i32> =
            children.into_iter().map(|c| c.wait_with_output().unwrap().status.code().unwrap()).collect();
        assert_eq!(
            codes.iter().filter(|c| **c == 0).count(),
            1,
            "round {round}: exactly one lands: {codes:?}"
        );
        let after = stored(&db);
        let active =
            after.accounts_in("CRM1").filter(|a| a.has_role("superuser") && a.status == "active").count();
        assert_eq!(active, 1, "round {round}: the last superuser stays");
        assert_eq!(audit(&db).len(), 1, "round {round}: one change, audited once");
    }
}

/// Applying the same plan again says it was applied, with its entry (#14).
#[test]
fn an_applied_plan_is_not_applied_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = crm_store(dir.path());
    let plan = crm_plan(&db, "crm.Ada", "block", &["crm.Uma"]);
    apply(&mut Store::open(&db).unwrap(), pack("crm"), &plan, &ApplyOptions::default()).unwrap();
    let again = apply(&mut Store::open(&db).unwrap(), pack("crm"), &plan, &ApplyOptions::default());
    assert!(matches!(again, Err(ApplyError::AlreadyApplied { seq: 1, .. })), "{again:?}");
}

/// A plan whose clock was moved forward (so that an end date or an expiry
/// has passed) is refused, its digest made again or not (#15).
#[test]
fn a_plan_from_the_future_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = crm_store(dir.path());
    let mut plan = crm_plan(&db, "crm.Ada", "block", &["crm.Uma"]);
    plan.now = "2099-01-01T00:00:00Z".parse().unwrap();
    forge(&mut plan);
    let refused = apply(&mut Store::open(&db).unwrap(), pack("crm"), &plan, &ApplyOptions::default());
    assert!(matches!(refused, Err(ApplyError::FromTheFuture { .. })), "{refused:?}");
    assert!(audit(&db).is_empty());
}

/// A comment, the layout, or how the policy path is typed leaves a plan
/// valid; a change of meaning does not (#14, #15).
#[test]
fn the_policy_digest_is_of_what_the_rules_say() {
    let digest = |text: &str| policy(text).digest().to_owned();
    let rule = "rule a { permit block when actor has role \"admin\" }";
    let commented = "// who blocks\nrule a {\n  permit block\n  when actor has role \"admin\" // admins\n}\n";
    assert_eq!(digest(rule), digest(commented));
    assert_ne!(digest(rule), digest("rule a { permit block when actor has role \"clerk\" }"));
    assert_ne!(digest(rule), digest("rule b { permit block when actor has role \"admin\" }"));
    // cargo runs tests in the package's folder.
    let relative = steward::policy::PolicySet::load(&[std::path::PathBuf::from("policies/erp")]).unwrap().set;
    assert_eq!(relative.digest(), pack("erp").digest());
    let dir = tempfile::tempdir().unwrap();
    let db = crm_store(dir.path());
    let targets = file(dir.path(), "t.txt", "crm.Uma\n");
    let args = ["--actor", "crm.Ada", "--action", "block", "--env", "CRM1", "--reason", "left", "--now", NOW];
    let plan = dir.path().join("plan.json");
    steward()
        .current_dir(crate::support::root())
        .args(["plan", "--policy", "policies/crm", "--directory"])
        .arg(&db)
        .args(args)
        .arg("--targets")
        .arg(&targets)
        .arg("-o")
        .arg(&plan)
        .assert()
        .success();
    apply_cmd(&pack_dir("crm"), &db, &plan).arg("--confirm").assert().success();
}

/// Records that refer to an account keep it, even where the pack's
/// lifecycle names no fallback (CRM): the deletion is denied by
/// `referenced` in `decide` and in the plan, so apply never meets the
/// store's foreign key (P3, C1).
#[test]
fn p3_c1_a_referenced_account_without_a_fallback_is_not_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}references:\n  - {{ table: opportunities, env: CRM1, user: crm.Uma, rows: 12 }}\n",
        example("crm")
    );
    let yaml = file(dir.path(), "crm.yaml", &text);
    let db = dir.path().join("crm.db");
    crate::support::import(&yaml, &db);
    let engine = store_engine(&db, "crm");
    let plan = engine.plan(&request("crm.Ada", "delete", "CRM1", &["crm.Uma", "crm.Vic"])).unwrap();
    assert_eq!(outcomes(&plan), [("crm.Uma", "denied"), ("crm.Vic", "delete")]);
    assert_eq!(plan.items[0].rules, ["referenced"]);
    assert!(
        plan.items[0].reasons[0].contains("12 rows in opportunities still refer to them"),
        "{:?}",
        plan.items[0]
    );
    apply(&mut Store::open(&db).unwrap(), pack("crm"), &plan, &ApplyOptions::default()).unwrap();
    let after = stored(&db);
    assert!(after.account("crm.Uma", "CRM1").is_some(), "kept");
    assert!(after.account("crm.Vic", "CRM1").is_none(), "deleted");
}

/// A guest's account takes the address of its home account; when another
/// account of the customer environment holds it, in any case, the guest is
/// not added (`email-in-use`), so apply never meets the unique index (G6, G10).
#[test]
fn g6_g10_a_guest_whose_address_is_taken_is_not_added() {
    let other = "  - id: 98765.Other\n    home: O98765AA\n    accounts:\n      - { env: O98765AA, status: active, name: Other, email: GWEN@provider.example }\n";
    let engine =
        steward::Engine::new(pack("erp"), parse(&crate::support::with_users(&example("erp"), other)));
    let plan = engine.plan(&request("98765.Admin", "add_guest", "O98765AA", &["12345.Gwen"])).unwrap();
    assert_eq!(outcomes(&plan), [("12345.Gwen", "denied")]);
    assert_eq!(plan.items[0].rules, ["email-in-use"]);
    assert!(
        plan.items[0].reasons[0].contains("is already the address of `98765.Other`"),
        "{:?}",
        plan.items[0]
    );
}

/// apply reads a file's targets as `plan` reads them: an invited address
/// edited to capitals (a user id no plan could give) and an account listed
/// twice are differences, refused, never applied as written (#15, Q3).
#[test]
fn q3_targets_no_plan_could_hold_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "analytics", "");
    let engine = store_engine(&db, "analytics");
    let invite = PlanRequest {
        action: Some("invite".into()),
        targets: Targets::Emails(vec!["bob@lab.example".into()]),
        env: Some("acme-lab".into()),
        ..request("acme.Olivia", "invite", "acme-lab", &[])
    };
    let plan = engine.plan(&invite).unwrap();
    assert_eq!(outcomes(&plan), [("bob@lab.example", "invite")]);
    let mut capitals = plan.clone();
    capitals.items[0].target = "Bob@Lab.Example".into();
    forge(&mut capitals);
    let mut twice = plan.clone();
    twice.items.push(twice.items[0].clone());
    forge(&mut twice);
    for forged in [capitals, twice] {
        let refused =
            apply(&mut Store::open(&db).unwrap(), pack("analytics"), &forged, &ApplyOptions::default());
        assert!(matches!(refused, Err(ApplyError::Differs { .. })), "{refused:?}");
        assert!(audit(&db).is_empty());
    }
    apply(&mut Store::open(&db).unwrap(), pack("analytics"), &plan, &ApplyOptions::default()).unwrap();
    assert!(stored(&db).user("bob@lab.example").is_some());
}

/// A plan applied to another database says so, not that the directory
/// changed, and writes nothing (#14, item 6).
#[test]
fn a_plan_for_another_directory_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let crm = crm_store(dir.path());
    let erp_dir = dir.path().join("erp");
    std::fs::create_dir(&erp_dir).unwrap();
    let erp = database(&erp_dir, "erp", "");
    let plan = store_engine(&erp, "erp")
        .plan(&request("12345.Admin", "block", "O12345AA", &["12345.Fresh"]))
        .unwrap();
    let refused = apply(&mut Store::open(&crm).unwrap(), pack("erp"), &plan, &ApplyOptions::default());
    let Err(e @ ApplyError::OtherDirectory { .. }) = &refused else { panic!("{refused:?}") };
    assert_eq!(
        e.to_string(),
        "the plan was made for another directory: it acts in `O12345AA`, which this one does not have"
    );
    assert!(audit(&crm).is_empty());
}

/// A new owner given by name is checked in every item that leaves the
/// asset without owner: one that a later item of the plan deletes is
/// refused, instead of the asset ending up with no owner (D3, D7, #15).
#[test]
fn d3_d7_a_new_owner_who_leaves_later_in_the_plan_is_refused() {
    let pack = policy(
        "rule admins { permit delete, reassign when actor has role \"admin\" }\nlifecycle delete {\n  owns app -> reassign\n  orphaned user -> remove\n}\n",
    );
    let directory = parse(
        "environments: [{ id: E, license: L, kind: production }]\nusers:\n  - { id: a, home: E, accounts: [{ env: E, status: active, roles: [admin] }] }\n  - { id: b, home: E, accounts: [{ env: E, status: active }] }\n  - { id: c, home: E, accounts: [{ env: E, status: active }] }\nassets:\n  - { id: app-b, kind: app, env: E, owner: b }\n",
    );
    let engine = steward::Engine::new(pack, directory);
    let mut asked = request("a", "delete", "E", &["b", "c"]);
    asked.reassign = [("app-b".to_owned(), "c".to_owned())].into();
    let refused = engine.plan(&asked).unwrap_err().to_string();
    assert!(
        refused.contains("`c` cannot own `app-b`: the plan's item for `c` leaves it without owner again"),
        "{refused}"
    );
    asked.reassign = [("app-b".to_owned(), "a".to_owned())].into();
    let plan = engine.plan(&asked).unwrap();
    assert_eq!(outcomes(&plan), [("b", "delete"), ("c", "delete")]);
}

/// Assets a removed account owns that no `owns` line provides for stay
/// without owner (D3): the plan says so per item, with a warning, and the
/// audit log records each; nothing is lost silently (C1, #15).
#[test]
fn d3_assets_no_lifecycle_provides_for_are_shown_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        format!("{}assets:\n  - {{ id: app-uma, kind: app, env: CRM1, owner: crm.Uma }}\n", example("crm"));
    let yaml = file(dir.path(), "crm.yaml", &text);
    let db = dir.path().join("crm.db");
    crate::support::import(&yaml, &db);
    let plan = store_engine(&db, "crm").plan(&request("crm.Ada", "delete", "CRM1", &["crm.Uma"])).unwrap();
    let impact = plan.items[0].impact.as_ref().unwrap();
    assert_eq!(impact.left_without_owner, ["app-uma"]);
    assert!(impact.warnings.iter().any(|w| w.code == "left_without_owner"), "{:?}", impact.warnings);
    apply(&mut Store::open(&db).unwrap(), pack("crm"), &plan, &ApplyOptions::default()).unwrap();
    assert_eq!(stored(&db).asset("app-uma").unwrap().owner, None);
    let logged = audit(&db);
    assert!(
        logged.iter().any(|e| e.change.target == "app-uma" && e.change.outcome == "left without owner"),
        "{logged:?}"
    );
}

/// A plan given a deadline stops at it between items, so that a service
/// that has answered `timeout` frees the thread and the call's slot (#15).
#[test]
fn a_plan_past_its_deadline_is_given_up() {
    let dir = tempfile::tempdir().unwrap();
    let engine = store_engine(&crm_store(dir.path()), "crm");
    let asked = request("crm.Ada", "block", "CRM1", &["crm.Uma", "crm.Vic"]);
    let past = std::time::Instant::now();
    let given_up = engine.plan_until(&asked, past).unwrap_err();
    assert!(matches!(given_up, steward::plan::PlanError::Timeout { decided: 0 }), "{given_up:?}");
    let later = std::time::Instant::now() + std::time::Duration::from_secs(60);
    assert_eq!(engine.plan_until(&asked, later).unwrap(), engine.plan(&asked).unwrap());
}
