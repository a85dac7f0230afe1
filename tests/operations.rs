//! The lifecycle operations beyond block and delete, planned and applied
//! through the CLI with the shipped packs: invitations (Q3), e-mail and name
//! edits (G6, G7), guests added, converted and licensed (G3, G4, G9, G10,
//! G12).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use steward::directory::Directory;

use crate::support::{
    NOW, apply_cmd, audit, command, database, example_file, file, pack_dir, read_json, save_plan, steward,
    stored,
};

/// `steward plan` of the shipped pack `pack` (or the policy file at that
/// path) over `db` with `args`: the saved plan, its file and the exit code.
fn make_plan(dir: &Path, db: &Path, pack: &str, args: &[&str]) -> (Value, PathBuf, i32) {
    let fixed = ["--reason", "ticket 42", "--now", NOW];
    let (path, code) = save_plan(dir, &pack_dir(pack), db, &[&fixed[..], args].concat());
    (read_json(&path), path, code)
}

/// A plan of `action` by `actor` in `env` on the users listed in `users`.
fn plan_users(
    dir: &Path,
    db: &Path,
    pack: &str,
    [actor, env, action]: [&str; 3],
    users: &str,
) -> (Value, PathBuf, i32) {
    let targets = file(dir, "targets.txt", users);
    let args = ["--actor", actor, "--env", env, "--action", action, "--targets", targets.to_str().unwrap()];
    make_plan(dir, db, pack, &args)
}

/// `steward apply --confirm PLAN`.
fn confirmed_apply(db: &Path, plan: &Path, pack: &str) -> Command {
    let mut cmd = apply_cmd(&pack_dir(pack), db, plan);
    cmd.arg("--confirm");
    cmd
}

/// Applies `plan`, and gives the directory after it.
fn apply(db: &Path, plan: &Path, pack: &str) -> Directory {
    confirmed_apply(db, plan, pack).assert().success();
    stored(db)
}

fn outcomes(plan: &Value) -> Vec<(String, String)> {
    plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["target"].as_str().unwrap().to_owned(), i["outcome"].as_str().unwrap().to_owned()))
        .collect()
}

fn license(plan: &Value, id: &str) -> (u64, u64) {
    let l = plan["summary"]["licenses"].as_array().unwrap().iter().find(|l| l["license"] == id).unwrap();
    (l["before"].as_u64().unwrap(), l["after"].as_u64().unwrap())
}

#[test]
fn q3_one_invitation_lists_many_addresses_and_creates_pending_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "analytics", "");
    let emails = "new.one@acme.example, New.Two@acme.example new.one@acme.example olivia@acme.example";
    let args = ["--actor", "acme.Olivia", "--env", "acme-lab", "--emails", emails];
    let (plan, path, code) = make_plan(dir.path(), &db, "analytics", &args);
    assert_eq!(code, 2, "one address is denied");
    assert_eq!(
        outcomes(&plan),
        [
            ("new.one@acme.example".to_owned(), "invite".to_owned()),
            ("new.two@acme.example".to_owned(), "invite".to_owned()),
            ("olivia@acme.example".to_owned(), "denied".to_owned()),
        ],
        "addresses are split on commas and spaces, lowercased, and invited once"
    );
    assert_eq!(plan["items"][2]["rules"], serde_json::json!(["email-in-use"]), "G6");
    let after = apply(&db, &path, "analytics");
    let one = after.account("new.one@acme.example", "acme-lab").unwrap();
    assert_eq!(one.status, "pending");
    assert_eq!(one.email.as_deref(), Some("new.one@acme.example"));
    // Valid 14 days by default, from when the invitation is sent (applied).
    let days = one.invited_until.unwrap().duration_since(jiff::Timestamp::now()).as_hours() / 24;
    assert_eq!(days, 13, "a little under 14 days from now");
    assert_eq!(after.user("new.two@acme.example").unwrap().home, "acme-lab");
}

#[test]
fn q2_q3_invitations_are_refused_where_an_identity_provider_is_active_and_addresses_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "analytics", "");
    let (plan, _, code) = make_plan(
        dir.path(),
        &db,
        "analytics",
        &["--actor", "acme.Olivia", "--env", "acme", "--emails", "x@acme.example"],
    );
    assert_eq!(code, 2);
    assert_eq!(plan["items"][0]["rules"], serde_json::json!(["invitations-or-idp"]));
    command("plan", &pack_dir("analytics"), &db)
        .args(["--actor", "acme.Olivia", "--env", "acme-lab", "--reason", "r", "--emails", "not-an-address"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("`not-an-address` is not a valid value for `invite`"));
}

#[test]
fn g6_g7_e_mail_edits_take_a_value_per_user_and_addresses_stay_unique() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "erp", "");
    let targets = file(
        dir.path(),
        "edits.csv",
        "user,env,value\n\
         12345.Fresh,O12345AA,fay.fresh@provider.example\n\
         12345.JJansen,O12345AA,ANNE@provider.example\n\
         12345.BWilliams,O98765AA,bertine@accountant.example\n",
    );
    let args = ["--actor", "12345.Admin", "--action", "edit_email", "--targets", targets.to_str().unwrap()];
    let (plan, path, code) = make_plan(dir.path(), &db, "erp", &args);
    assert_eq!(code, 2);
    let items = plan["items"].as_array().unwrap();
    assert_eq!(items[0]["outcome"], "edit_email");
    assert_eq!(items[1]["rules"], serde_json::json!(["email-in-use"]), "G6, whatever the case");
    assert!(items[1]["reasons"][0].as_str().unwrap().contains("12345.Admin"), "names who holds it");
    assert_eq!(items[2]["outcome"], "denied", "the actor has no account in the customer's environment");
    assert!(plan["summary"]["licenses"].as_array().unwrap().is_empty(), "an edit moves no license");
    let after = apply(&db, &path, "erp");
    assert_eq!(
        after.account("12345.Fresh", "O12345AA").unwrap().email.as_deref(),
        Some("fay.fresh@provider.example")
    );
    assert_eq!(
        after.account("12345.JJansen", "O12345AA").unwrap().email.as_deref(),
        Some("jan@provider.example")
    );

    // G7: the customer's administrator cannot edit a guest's address there.
    let (plan, _, code) = make_plan(
        dir.path(),
        &db,
        "erp",
        &["--actor", "98765.Admin", "--action", "edit_email", "--env", "O98765AA", "--value", "b@x.example"]
            .into_iter()
            .chain(["--targets", file(dir.path(), "bw.txt", "12345.BWilliams\n").to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    assert_eq!(code, 2);
    assert_eq!(plan["items"][0]["rules"], serde_json::json!(["guest_email_at_home"]));
}

/// Two items of one plan that take the same address: each decision saw the
/// directory before the plan, so the plan itself denies the second (G6)
/// and apply writes the first, instead of failing on the unique index.
#[test]
fn g6_two_items_of_one_plan_never_take_the_same_address() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "erp", "");
    let targets = file(
        dir.path(),
        "same.csv",
        "user,env,value\n12345.Fresh,O12345AA,same@provider.example\n12345.JJansen,O12345AA,SAME@provider.example\n",
    );
    let args = ["--actor", "12345.Admin", "--action", "edit_email", "--targets", targets.to_str().unwrap()];
    let (plan, path, code) = make_plan(dir.path(), &db, "erp", &args);
    assert_eq!(code, 2);
    assert_eq!(plan["items"][0]["outcome"], "edit_email");
    assert_eq!(plan["items"][1]["rules"], serde_json::json!(["email-in-use"]));
    // The second item is decided over the directory the first leaves (#14).
    assert!(
        plan["items"][1]["reasons"][0].as_str().unwrap().contains("is already the address of `12345.Fresh`"),
        "{plan}"
    );
    let after = apply(&db, &path, "erp");
    let email = |user| after.account(user, "O12345AA").unwrap().email.clone();
    assert_eq!(email("12345.Fresh").as_deref(), Some("same@provider.example"));
    assert_eq!(email("12345.JJansen").as_deref(), Some("jan@provider.example"));
}

#[test]
fn an_edit_without_a_value_is_refused_before_anything_is_decided() {
    let dir = tempfile::tempdir().unwrap();
    command("plan", &pack_dir("erp"), &example_file("erp"))
        .args(["--actor", "12345.Admin", "--action", "edit_name", "--env", "O12345AA", "--reason", "r"])
        .arg("--targets")
        .arg(file(dir.path(), "t.txt", "12345.Fresh\n"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("`edit_name` of `12345.Fresh` needs a value: the new name"));
}

#[test]
fn g4_g10_g3_g12_a_guest_is_added_then_converted_and_the_license_moves_to_the_customer() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "erp", "");
    let gwen = file(dir.path(), "gwen.txt", "12345.Gwen\n");
    let gwen = gwen.to_str().unwrap();
    let customer = ["--actor", "98765.Admin", "--env", "O98765AA"];

    // G10: added as a system user: a guest account that counts at home (G1).
    let args: Vec<&str> = customer.into_iter().chain(["--action", "add_guest", "--targets", gwen]).collect();
    let (plan, path, code) = make_plan(dir.path(), &db, "erp", &args);
    assert_eq!(code, 0, "{plan}");
    let (before, after_count) = license(&plan, "12345");
    assert_eq!(before, after_count, "the guest account counts at home, where Gwen counts already (G1)");
    assert_eq!(plan["summary"]["licenses"].as_array().unwrap().len(), 1, "not toward the customer");
    let after = apply(&db, &path, "erp");
    let account = after.account("12345.Gwen", "O98765AA").unwrap();
    assert_eq!((account.kind.as_str(), account.status.as_str()), ("guest", "active"));
    assert_eq!(account.name, "Gwen Guest", "name and e-mail come from home (G5)");
    assert_eq!(account.email.as_deref(), Some("gwen@provider.example"));

    // G10: not twice.
    let (plan, _, code) = make_plan(dir.path(), &db, "erp", &args);
    assert_eq!(code, 2);
    assert_eq!(plan["items"][0]["rules"], serde_json::json!(["already-member"]));

    // G3 G12: converted to a normal user with portal access, Gwen counts
    // toward the customer's license too.
    let args: Vec<&str> =
        customer.into_iter().chain(["--action", "convert_to_normal", "--targets", gwen]).collect();
    let (plan, path, code) = make_plan(dir.path(), &db, "erp", &args);
    assert_eq!(code, 0, "{plan}");
    let (before, after_count) = license(&plan, "98765");
    assert_eq!(after_count, before + 1);
    let after = apply(&db, &path, "erp");
    let account = after.account("12345.Gwen", "O98765AA").unwrap();
    assert_eq!((account.kind.as_str(), crate::support::flag(&account.attrs, "portal")), ("normal", true));
    steward()
        .args(["licenses", "--format", "json", "--directory"])
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::contains("12345.Gwen").count(2));
}

#[test]
fn g4_g9_the_provider_activates_a_guest_license_only_with_desktop_access() {
    let dir = tempfile::tempdir().unwrap();
    let desk = "  - id: 12345.Desk\n    home: O12345AA\n    desktop_access: true\n    accounts:\n      \
                - { env: O12345AA, status: active, name: Dee Desk, email: dee@provider.example }\n";
    let db = database(dir.path(), "erp", desk);
    let who = ["12345.Admin", "O12345AA", "activate_guest_license"];
    let (plan, path, code) = plan_users(dir.path(), &db, "erp", who, "12345.Desk\n12345.Fresh\n");
    assert_eq!(code, 2);
    assert_eq!(plan["items"][1]["rules"], serde_json::json!(["guest_license_needs_desktop_access"]), "G9");
    let after = apply(&db, &path, "erp");
    assert!(crate::support::flag(&after.user("12345.Desk").unwrap().attrs, "guest_license"));
    assert!(
        !crate::support::flag(&after.user("12345.Fresh").unwrap().attrs, "guest_license"),
        "denied items are never applied"
    );
}

#[test]
fn p8_a_plan_of_an_action_apply_does_not_execute_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "erp", "");
    let who = ["12345.Admin", "O12345AA", "merge"];
    let (plan, path, code) = plan_users(dir.path(), &db, "erp", who, "12345.Fresh\n");
    assert_eq!(code, 0, "merging is decided (P8): {plan}");
    confirmed_apply(&db, &path, "erp")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("apply does not execute `merge`"));
    assert!(audit(&db).is_empty());
}

/// Tom has an account in both tenants and nothing else.
const TOM: &str = "  - id: acme.Tom\n    home: acme\n    accounts:\n      \
                   - { env: acme, status: active, name: Tom Two, email: tom@acme.example }\n      \
                   - { env: acme-lab, status: active, name: Tom Two, email: tom@acme.example }\n";

/// The audit entries that removed a user record.
fn user_removals(db: &Path) -> Vec<(String, String)> {
    audit(db)
        .into_iter()
        .filter(|e| e.change.action == "delete_user")
        .map(|e| (e.change.target, e.change.env))
        .collect()
}

/// D4 Q7: each item's impact sees the directory before the plan, where
/// neither of Tom's two accounts is his last; the plan as a whole takes
/// both, so his record goes, once, with the later item.
#[test]
fn d4_q7_a_plan_that_takes_a_users_last_two_accounts_removes_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "analytics", TOM);
    // The shipped pack deletes one account at a time (D8); this one deletes
    // in bulk and keeps its D4 clause.
    let pack = file(
        dir.path(),
        "bulk.policy",
        "rule main_admins_delete { permit delete when actor has role \"main_admin\" }\n\
         lifecycle delete {\n  orphaned user -> remove\n}\n",
    );
    let pack = pack.to_str().unwrap();
    let targets = file(dir.path(), "tom.csv", "user,env\nacme.Tom,acme\nacme.Tom,acme-lab\n");
    let args = ["--actor", "acme.Olivia", "--action", "delete", "--targets", targets.to_str().unwrap()];
    let (plan, path, code) = make_plan(dir.path(), &db, pack, &args);
    assert_eq!(code, 0, "{plan}");
    assert_eq!(plan["summary"]["remove_users"], serde_json::json!(["acme.Tom"]));
    assert_eq!(plan["items"][0]["impact"].get("removes_user"), None, "his account in acme-lab remains");
    assert_eq!(plan["items"][1]["impact"]["removes_user"], true, "the later item takes his last account");
    let warnings: Vec<&str> =
        plan["summary"]["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap()).collect();
    assert!(
        !warnings.contains(&"active_in_other_environments"),
        "he stays active nowhere (P7): {warnings:?}"
    );
    command("plan", &pack_dir(pack), &db)
        .args(["--reason", "r", "--format", "human"])
        .args(args)
        .assert()
        .success()
        .stdout(predicate::str::contains("users to be removed with their last account (D4): acme.Tom\n"));
    let after = apply(&db, &path, pack);
    assert!(after.accounts_of("acme.Tom").next().is_none());
    assert!(after.user("acme.Tom").is_none(), "nothing identifying Tom stays (D4)");
    assert_eq!(user_removals(&db), [("acme.Tom".to_owned(), "acme-lab".to_owned())]);
}

/// Q3 D1 D4: an invitation to an unknown address creates its user; revoking
/// it leaves that user with no account, so the user goes with it.
#[test]
fn q3_d4_revoking_an_invitation_that_created_its_user_removes_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "analytics", "");
    let address = "new.one@acme.example";
    let lab = ["--actor", "acme.Olivia", "--env", "acme-lab"];
    let invite: Vec<&str> = lab.into_iter().chain(["--emails", address]).collect();
    let (_, path, code) = make_plan(dir.path(), &db, "analytics", &invite);
    assert_eq!(code, 0);
    assert!(apply(&db, &path, "analytics").user(address).is_some(), "the invitation created the user");
    let (plan, path, code) =
        plan_users(dir.path(), &db, "analytics", ["acme.Olivia", "acme-lab", "revoke_invitation"], address);
    assert_eq!(code, 0, "{plan}");
    assert_eq!(plan["summary"]["remove_users"], serde_json::json!([address]));
    let after = apply(&db, &path, "analytics");
    assert!(after.account(address, "acme-lab").is_none(), "the invitation no longer works");
    assert!(after.user(address).is_none(), "and no user is left without an account");
    assert_eq!(user_removals(&db), [(address.to_owned(), "acme-lab".to_owned())]);
}

/// G5: a name edit is applied as planned, with its value, and audited.
#[test]
fn g5_a_name_edit_is_applied_with_its_value_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "erp", "");
    let targets = file(dir.path(), "names.csv", "user,env,value\n12345.Fresh,O12345AA,Fay Fresh-Baker\n");
    let args = ["--actor", "12345.Admin", "--action", "edit_name", "--targets", targets.to_str().unwrap()];
    let (plan, path, code) = make_plan(dir.path(), &db, "erp", &args);
    assert_eq!(code, 0, "{plan}");
    assert_eq!(plan["items"][0]["value"], "Fay Fresh-Baker");
    let after = apply(&db, &path, "erp");
    assert_eq!(after.account("12345.Fresh", "O12345AA").unwrap().name, "Fay Fresh-Baker");
    let entries = audit(&db);
    let outcomes: Vec<_> =
        entries.iter().map(|e| (e.change.target.as_str(), e.change.outcome.as_str())).collect();
    assert_eq!(outcomes, [("12345.Fresh", "edit_name")]);
}

/// Q3 G6: two plans invite the same address; once one is applied, the
/// other no longer matches the directory, and apply says which address
/// would now be denied instead of creating the account twice.
#[test]
fn q3_an_invitation_planned_before_the_directory_changed_is_refused_naming_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "analytics", "");
    let plans: Vec<PathBuf> = ["first", "second"]
        .into_iter()
        .map(|name| {
            let sub = dir.path().join(name);
            std::fs::create_dir(&sub).unwrap();
            // Two plans of their own, made a second apart: an identical
            // one would be the same plan, applied already.
            let now = if name == "first" { NOW.to_owned() } else { NOW.replace(":00Z", ":01Z") };
            let invite = ["--actor", "acme.Olivia", "--env", "acme-lab", "--emails", "new.one@acme.example"];
            let fixed = ["--reason", "ticket 42", "--now", &now];
            let (path, code) = save_plan(&sub, &pack_dir("analytics"), &db, &[&fixed[..], &invite].concat());
            let plan: Value = read_json(&path);
            assert_eq!(code, 0, "{plan}");
            path
        })
        .collect();
    apply(&db, &plans[0], "analytics");
    confirmed_apply(&db, &plans[1], "analytics").assert().code(3).stderr(predicate::str::contains(
        "the directory changed since the plan was made: `new.one@acme.example` in `acme-lab` is denied (the plan says invite)",
    ));
    let entries = audit(&db);
    assert_eq!(entries.len(), 1, "only the first invitation was applied");
}
