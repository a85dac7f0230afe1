//! P: block, unblock, delete in the ERP (seeds/000), with `policies/erp`
//! over `examples/erp.yaml`.

use steward::directory::store::Store;
use steward::plan::{PlanRequest, Target, Targets};
use steward::policy::Request;

use super::*;

const ADMIN: &str = "12345.Admin";
const PROD: &str = "O12345AA";
const TEST: &str = "O12345TT";

#[test]
fn p1_a_blocked_user_loses_access_to_that_environment() {
    let erp = shipped("erp");
    assert_allowed(&erp, &ask(ADMIN, "block", "12345.JJansen", PROD), &["administrators_block_and_unblock"]);
    let blocked = after(&erp, "erp", &plan(&erp, ADMIN, Some("block"), list(&["12345.JJansen"]), Some(PROD)));
    assert_eq!(blocked.directory().account("12345.JJansen", PROD).unwrap().status, "blocked");
    assert_denied(&blocked, &ask("12345.JJansen", "login", "12345.JJansen", PROD), &["default-deny"]);
    assert_allowed(&blocked, &ask("12345.JJansen", "login", "12345.JJansen", TEST), &["active_users_log_in"]);
}

#[test]
fn p1_an_environment_is_not_blocked_but_all_of_its_users_can_be() {
    let erp = shipped("erp");
    assert!(erp.decide(&Request::new(ADMIN, "block_environment", TEST)).is_err(), "no such action");
    assert!(erp.decide(&Request::new(ADMIN, "block", TEST)).is_err(), "a block needs a target account");
    let everyone = Targets::Where("target.status == \"active\"".into());
    let plan = plan(&erp, ADMIN, Some("block"), everyone, Some(TEST));
    assert_eq!(outcomes(&plan), [(ADMIN, "denied"), ("12345.JJansen", "block")], "no self-block");
}

#[test]
fn p2_a_user_stops_counting_only_when_blocked_in_every_environment_of_the_license() {
    let erp = shipped("erp");
    let change = decide(&erp, &ask(ADMIN, "block", "12345.JJansen", PROD)).impact.unwrap().license.unwrap();
    assert_eq!((change.before, change.after), (8, 8), "Jan stays active in the test environment");
    let both =
        Targets::List(vec![Target::in_env("12345.JJansen", PROD), Target::in_env("12345.JJansen", TEST)]);
    let plan = plan(&erp, ADMIN, Some("block"), both, None);
    let license = &plan.summary.licenses[0];
    assert_eq!((license.license.as_str(), license.before, license.after), ("12345", 8, 7));
    let blocked = after(&erp, "erp", &plan);
    assert_eq!(count(blocked.directory(), "12345"), 7);
    assert!(!erp.licenses().licenses(erp.directory())[0].users.contains(&"12345.Paused".to_owned()));
}

#[test]
fn p3_a_referenced_user_is_blocked_instead_of_deleted() {
    let erp = shipped("erp");
    let verdict = assert_denied(&erp, &ask(ADMIN, "delete", "12345.JJansen", PROD), &["referenced"]);
    let fallback = verdict.fallback.unwrap();
    assert_eq!((fallback.action.as_str(), fallback.decision.as_str()), ("block", "allow"));
    assert_eq!(
        (fallback.references[0].table.as_str(), fallback.references[0].rows),
        ("journal_entries", 341)
    );
    let plan = plan(&erp, ADMIN, Some("delete"), list(&["12345.JJansen", "12345.Fresh"]), Some(PROD));
    assert_eq!(outcomes(&plan), [("12345.JJansen", "block"), ("12345.Fresh", "delete")]);
    let done = after(&erp, "erp", &plan);
    assert_eq!(done.directory().account("12345.JJansen", PROD).unwrap().status, "blocked");
    assert!(done.directory().account("12345.Fresh", PROD).is_none());
}

#[test]
fn p4_many_users_are_blocked_at_once_from_an_import_file() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(
        dir.path(),
        "block.csv",
        "user,env\n12345.Fresh,O12345AA\n12345.Gwen,O12345AA\n12345.JJansen,O12345TT\n",
    );
    let args =
        ["--actor", ADMIN, "--action", "block", "--reason", "import", "--targets", csv.to_str().unwrap()];
    let (db, plan) = cli_plan(dir.path(), "erp", &args);
    cli_apply("erp", &db, &plan).arg("--confirm").assert().success();
    let store = Store::open(&db).unwrap();
    let directory = store.load().unwrap();
    for (user, env) in [("12345.Fresh", PROD), ("12345.Gwen", PROD), ("12345.JJansen", TEST)] {
        assert_eq!(directory.account(user, env).unwrap().status, "blocked", "{user} in {env}");
    }
    assert_eq!(directory.account("12345.JJansen", PROD).unwrap().status, "active");
    assert_eq!(store.audit(None).unwrap().len(), 3);
}

#[test]
fn p5_a_user_is_blocked_when_the_employment_end_date_passes() {
    let erp = shipped("erp");
    let leavers = |now: &str| {
        erp.plan(&PlanRequest {
            actor: ADMIN.into(),
            action: None,
            targets: Targets::Trigger("leavers".into()),
            env: None,
            value: None,
            reason: "left".into(),
            now: now.parse().unwrap(),
            reassign: Default::default(),
        })
        .unwrap()
    };
    assert!(leavers("2026-10-30T12:00:00Z").items.is_empty(), "still employed");
    let plan = leavers(NOW);
    assert_eq!((plan.action.as_str(), outcomes(&plan)), ("block", vec![("12345.Leaver", "block")]));
    assert_eq!(
        after(&erp, "erp", &plan).directory().account("12345.Leaver", PROD).unwrap().status,
        "blocked"
    );
}

#[test]
fn p6_unblocking_restores_access_and_the_license_count() {
    let erp = shipped("erp");
    let verdict = assert_allowed(
        &erp,
        &ask(ADMIN, "unblock", "12345.Paused", PROD),
        &["administrators_block_and_unblock"],
    );
    let change = verdict.impact.unwrap().license.unwrap();
    assert_eq!((change.before, change.after), (8, 9));
    assert_denied(&erp, &ask("12345.Paused", "login", "12345.Paused", PROD), &["default-deny"]);
    let unblocked =
        after(&erp, "erp", &plan(&erp, ADMIN, Some("unblock"), list(&["12345.Paused"]), Some(PROD)));
    assert_eq!(count(unblocked.directory(), "12345"), 9);
    assert_allowed(&unblocked, &ask("12345.Paused", "login", "12345.Paused", PROD), &["active_users_log_in"]);
}

#[test]
fn p7_deleting_removes_the_user_from_the_current_environment_only() {
    let erp = shipped("erp");
    let customer = "98765.Admin";
    let verdict = assert_allowed(
        &erp,
        &ask(customer, "delete", "12345.BWilliams", "O98765AA"),
        &["administrators_delete"],
    );
    let warnings: Vec<_> = verdict.impact.unwrap().warnings.into_iter().map(|w| w.code).collect();
    assert!(warnings.contains(&"active_in_other_environments".to_owned()), "{warnings:?}");
    let done = after(
        &erp,
        "erp",
        &plan(&erp, customer, Some("delete"), list(&["12345.BWilliams"]), Some("O98765AA")),
    );
    assert!(done.directory().account("12345.BWilliams", "O98765AA").is_none());
    assert_eq!(done.directory().account("12345.BWilliams", PROD).unwrap().status, "active");
    assert!(done.directory().user("12345.BWilliams").is_some());
}

#[test]
fn p8_administrators_do_the_neighbouring_operations_on_users() {
    let erp = shipped("erp");
    for action in ["merge", "change_code", "link_person", "add_system_user", "convert_to_normal", "authorize"]
    {
        assert_allowed(&erp, &ask(ADMIN, action, "12345.Fresh", PROD), &["administrators_maintain_users"]);
        assert_denied(&erp, &ask("12345.Fresh", action, "12345.Gwen", PROD), &["default-deny"]);
    }
}
