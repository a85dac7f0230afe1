//! C: superusers in the CRM (seeds/001), with `policies/crm` over
//! `examples/crm.yaml`.

use predicates::prelude::*;
use steward::directory::store::Store;
use steward::plan::Targets;
use steward::policy::Request;

use super::*;

const ENV: &str = "CRM1";

/// A confirmed request with a reason (C2), as the CRM asks for every change.
fn confirmed(actor: &str, action: &str, target: &str) -> Request {
    Request { confirm: true, reason: Some("left the company".into()), ..ask(actor, action, target, ENV) }
}

#[test]
fn c1_users_are_blocked_or_deleted_singly_or_in_bulk_and_the_person_stays() {
    let crm = shipped("crm");
    assert_allowed(&crm, &confirmed("crm.Ada", "block", "crm.Uma"), &["superusers_manage_accounts"]);
    assert_allowed(&crm, &confirmed("crm.Ada", "delete", "crm.Vic"), &["superusers_manage_accounts"]);
    let plan = plan(&crm, "crm.Ada", Some("delete"), list(&["crm.Uma", "crm.Vic"]), Some(ENV));
    assert_eq!(outcomes(&plan), [("crm.Uma", "delete"), ("crm.Vic", "delete")]);
    let after = applied(&crm, "crm", &plan, &[]).load().unwrap();
    for user in ["crm.Uma", "crm.Vic"] {
        assert!(after.account(user, ENV).is_none(), "{user} can no longer log in");
        assert!(after.user(user).is_some(), "{user}'s person record stays");
    }
}

#[test]
fn c2_blocking_and_deleting_are_confirmed_and_given_a_reason() {
    let crm = shipped("crm");
    let because = "blocking and deleting must be confirmed and given a reason";
    for action in ["block", "delete"] {
        let unconfirmed = Request { confirm: false, ..confirmed("crm.Ada", action, "crm.Uma") };
        let verdict = assert_denied(&crm, &unconfirmed, &["confirmed_with_reason"]);
        assert_eq!(verdict.report.reasons, [because]);
        assert_denied(
            &crm,
            &Request { reason: None, ..confirmed("crm.Ada", action, "crm.Uma") },
            &["confirmed_with_reason"],
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let plan =
        ["--actor", "crm.Ada", "--action", "block", "--env", ENV, "--where", "target.user == \"crm.Uma\""];
    steward()
        .args(["plan", "--policy", "policies/crm", "--directory", "examples/crm.yaml"])
        .args(plan)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--reason"));
    let (db, saved) = cli_plan(dir.path(), "crm", &[&plan[..], &["--reason", "left"]].concat());
    cli_apply("crm", &db, &saved).assert().code(1).stderr(predicate::str::contains("--confirm"));
    assert_eq!(stored(&db).account("crm.Uma", ENV).unwrap().status, "active");
    cli_apply("crm", &db, &saved).arg("--confirm").assert().success();
    assert_eq!(stored(&db).account("crm.Uma", ENV).unwrap().status, "blocked");
}

#[test]
fn c3_a_bulk_change_is_previewed_with_exactly_who_it_affects_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let selector = "target.status == \"active\" and not (target has role \"superuser\")";
    let args =
        ["--actor", "crm.Ada", "--action", "block", "--env", ENV, "--reason", "audit", "--where", selector];
    let (db, plan) = cli_plan(dir.path(), "crm", &args);
    let preview: serde_json::Value = read_json(&plan);
    let targets: Vec<_> = preview["items"].as_array().unwrap().iter().map(|i| i["target"].clone()).collect();
    assert_eq!(targets, ["crm.Uma", "crm.Vic"]);
    let store = Store::open(&db).unwrap();
    assert!(store.audit(None).unwrap().is_empty(), "a preview changes nothing");
    assert_eq!(count(&store.load().unwrap(), "crm"), 4);
    cli_apply("crm", &db, &plan).arg("--confirm").assert().success();
    let after = store.load().unwrap();
    let blocked: Vec<_> =
        after.accounts().iter().filter(|a| a.status == "blocked").map(|a| a.user.as_str()).collect();
    assert_eq!(blocked, ["crm.Uma", "crm.Vic", "crm.Bo"], "exactly the previewed accounts, and Bo as before");
}

#[test]
fn c4_only_superusers_block_or_delete_user_accounts() {
    let crm = shipped("crm");
    for action in ["block", "delete"] {
        assert_denied(&crm, &confirmed("crm.Uma", action, "crm.Vic"), &["default-deny"]);
        assert_allowed(&crm, &confirmed("crm.Sam", action, "crm.Vic"), &["superusers_manage_accounts"]);
    }
}

#[test]
fn c5_superusers_block_or_delete_superusers_only_in_bulk() {
    let crm = shipped("crm");
    let because = "superusers are blocked or deleted only in a bulk operation";
    for action in ["block", "delete"] {
        let single =
            assert_denied(&crm, &confirmed("crm.Ada", action, "crm.Sam"), &["superusers_only_in_bulk"]);
        assert_eq!(single.report.reasons, [because]);
        let bulk = Request { bulk: true, ..confirmed("crm.Ada", action, "crm.Sam") };
        assert_allowed(&crm, &bulk, &["superusers_manage_accounts"]);
    }
    let plan =
        plan(&crm, "crm.Ada", Some("block"), Targets::Where("target.user == \"crm.Sam\"".into()), Some(ENV));
    assert_eq!(outcomes(&plan), [("crm.Sam", "block")], "a plan is a bulk operation");
}

#[test]
fn c6_a_superusers_rights_are_changed_only_by_that_superuser() {
    let crm = shipped("crm");
    let verdict =
        assert_denied(&crm, &ask("crm.Ada", "edit_rights", "crm.Sam", ENV), &["superusers_edit_own_rights"]);
    assert_eq!(verdict.report.reasons, ["a superuser's access rights can only be changed by that superuser"]);
    assert_allowed(&crm, &ask("crm.Sam", "edit_rights", "crm.Sam", ENV), &["superusers_edit_rights"]);
    assert_allowed(&crm, &ask("crm.Ada", "edit_rights", "crm.Uma", ENV), &["superusers_edit_rights"]);
}
