//! `steward apply` and `steward audit`: confirmed, checked, all or nothing,
//! audited; stale and edited plans refused; a killed apply leaves the
//! database untouched or fully applied; the preview equals what is applied.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use proptest::prelude::*;
use rusqlite::Connection;
use steward::Engine;
use steward::apply::{ApplyOptions, apply};
use steward::directory::Directory;
use steward::directory::generate::{GenerateOptions, generate};
use steward::directory::store::{ImportOptions, Store};
use steward::plan::{PlanRequest, Targets};

use crate::support::{
    LEAVER_OWNERS, NOW, apply_cmd, audit, database, example, example_file, file, import, pack_dir, policy,
    read_json, saved_plan, steward, steward_process, stored,
};

/// A database of the analytics example and a saved plan of `pack` (a
/// folder or a file) by Olivia to delete Leo.
fn plan_to_delete_leo(dir: &Path, pack: &Path) -> (PathBuf, PathBuf) {
    let db = database(dir, "analytics", "");
    let targets = file(dir, "targets.txt", "acme.Leo\n");
    let who = ["--actor", "acme.Olivia", "--action", "delete", "--env", "acme", "--reason", "left"];
    let plan = saved_plan(dir, pack, &db, &[&who[..], &["--targets", targets.to_str().unwrap()]].concat());
    (db, plan)
}

/// [`plan_to_delete_leo`] with the shipped analytics pack.
fn leaver_plan(dir: &Path) -> (PathBuf, PathBuf) {
    plan_to_delete_leo(dir, &pack_dir("analytics"))
}

/// `steward apply PLAN` with the analytics pack.
fn analytics_apply(db: &Path, plan: &Path) -> Command {
    apply_cmd(&pack_dir("analytics"), db, plan)
}

/// `--reassign ASSET=OWNER` for each of Leo's assets, as the policy allows.
fn with_owners(cmd: &mut Command) -> &mut Command {
    for (asset, owner) in LEAVER_OWNERS {
        cmd.arg("--reassign").arg(format!("{asset}={owner}"));
    }
    cmd
}

#[test]
fn c2_apply_refuses_without_confirmation_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    with_owners(&mut analytics_apply(&db, &plan))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--confirm"));
    assert!(stored(&db).account("acme.Leo", "acme").is_some());
}

#[test]
fn d3_d6_every_asset_needing_an_owner_must_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    analytics_apply(&db, &plan).arg("--confirm").assert().code(3).stderr(predicate::str::contains(
        "need a new owner: app-forecast, dc-warehouse, reload-nightly, space-leo, space-sales",
    ));
}

#[test]
fn d7_a_reassignment_the_policy_denies_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    let mut cmd = analytics_apply(&db, &plan);
    cmd.arg("--confirm");
    for (asset, owner) in LEAVER_OWNERS {
        let owner = if *asset == "dc-warehouse" { "acme.Bea" } else { owner };
        cmd.arg("--reassign").arg(format!("{asset}={owner}"));
    }
    // Bea is blocked: no candidate, so the name is refused before anything
    // is decided (#14).
    cmd.assert().code(3).stderr(predicate::str::contains(
        "`acme.Bea` cannot own `dc-warehouse`: only an active member of its environment",
    ));
    assert!(audit(&db).is_empty());
}

#[test]
fn q8_d6_apply_deletes_reassigns_revokes_removes_and_audits_each_change() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    with_owners(analytics_apply(&db, &plan).arg("--confirm"))
        .assert()
        .success()
        .stderr(predicate::str::starts_with("applied 1 of 1 item (10 changes, each in the audit log) to "));
    let store = Store::open(&db).unwrap();
    let directory = store.load().unwrap();
    assert!(directory.account("acme.Leo", "acme").is_none(), "deleted in this environment (P7)");
    assert!(directory.user("acme.Leo").is_none(), "his last account: the user goes too (D4)");
    assert_eq!(directory.asset("dc-warehouse").unwrap().owner.as_deref(), Some("acme.Dana"));
    assert!(directory.asset("key-leo").is_none(), "API key revoked");
    assert!(directory.asset("alert-revenue").is_none() && directory.asset("note-weekly").is_none());
    let entries = store.audit(None).unwrap();
    assert_eq!(entries.len(), 10);
    assert_eq!(entries.last().unwrap().change.action, "delete_user");
    assert!(entries.iter().all(|e| e.change.reason == "left" && e.change.actor == "acme.Olivia"));
    steward()
        .args(["audit", "verify", "--directory"])
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ok: 10 entries, the chain is intact\n"));
    steward()
        .args(["audit", "--directory"])
        .arg(&db)
        .args(["--user", "acme.Leo", "--format", "json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"outcome\": \"delete\""));
    // The same plan again: it was applied, and apply says where (#14).
    with_owners(analytics_apply(&db, &plan).arg("--confirm"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("this plan was applied already: audit entry 1, at "));
}

#[test]
fn an_edited_plan_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    let text =
        std::fs::read_to_string(&plan).unwrap().replace("\"reason\": \"left\"", "\"reason\": \"other\"");
    std::fs::write(&plan, text).unwrap();
    with_owners(analytics_apply(&db, &plan).arg("--confirm"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("does not match its digest"));
}

#[test]
fn a_plan_made_with_other_policies_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    with_owners(apply_cmd(&pack_dir("crm"), &db, &plan).arg("--confirm"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("policy set changed"));
}

#[test]
fn audit_tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    with_owners(analytics_apply(&db, &plan).arg("--confirm")).assert().success();
    let conn = Connection::open(&db).unwrap();
    // The log refuses edits outright...
    assert!(conn.execute("UPDATE audit SET reason = 'x' WHERE seq = 3", []).is_err());
    // ...so a tamperer drops the guard first; verify still finds it.
    conn.execute_batch("DROP TRIGGER audit_is_append_only_update; DROP TRIGGER audit_is_append_only_delete;")
        .unwrap();
    conn.execute("UPDATE audit SET reason = 'nothing to see' WHERE seq = 3", []).unwrap();
    steward()
        .args(["audit", "verify", "--directory"])
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("audit entry 3 was edited"));
    conn.execute("UPDATE audit SET reason = 'left' WHERE seq = 3", []).unwrap();
    conn.execute("DELETE FROM audit WHERE seq = 5", []).unwrap();
    steward()
        .args(["audit", "verify", "--directory"])
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("audit entry 6 does not follow entry 4"));
}

const BLOCK_POLICY: &str = "rule admins_block { permit block }\nlifecycle block { owns alert -> disable }\n";

#[test]
fn a_killed_apply_leaves_the_database_untouched_or_fully_applied() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    let policy = file(dir.path(), "block.policy", BLOCK_POLICY);
    let directory = generate(GenerateOptions { accounts: 6000, seed: 3 });
    let actor = directory.accounts()[0].user.clone();
    let env = directory.accounts()[0].env.clone();
    Store::open(&db).unwrap().import(&directory, "gen", ImportOptions::default()).unwrap();
    let active_before = directory.accounts_in(&env).filter(|a| a.status == "active").count();
    let args = ["--actor", &actor, "--action", "block", "--env", &env, "--reason", "bulk"];
    let plan = saved_plan(
        dir.path(),
        &policy,
        &db,
        &[&args[..], &["--where", "target.status == \"active\""]].concat(),
    );
    for delay in [0u64, 40, 120] {
        let mut child = steward_process()
            .arg("apply")
            .arg(&plan)
            .arg("--directory")
            .arg(&db)
            .arg("--policy")
            .arg(&policy)
            .arg("--confirm")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let store = Store::open(&db).unwrap();
        let now = store.load().unwrap();
        let active = now.accounts_in(&env).filter(|a| a.status == "active").count();
        let audited = store.audit(None).unwrap().len();
        let untouched = active == active_before && audited == 0;
        let applied = active == 0 && audited >= active_before;
        assert!(
            untouched || applied,
            "half applied after {delay} ms: {active} active, {audited} audit entries"
        );
        if applied {
            return;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]
    #[test]
    fn the_preview_is_what_is_applied(seed in any::<u64>(), accounts in 3usize..40) {
        let directory = generate(GenerateOptions { accounts, seed });
        let actor = directory.accounts()[0].user.clone();
        let mut store = Store::in_memory().unwrap();
        store.import(&directory, "gen", ImportOptions::default()).unwrap();
        let engine = Engine::new(policy(BLOCK_POLICY), store.load().unwrap());
        let plan = engine
            .plan(&PlanRequest {
                actor: actor.to_string(),
                action: Some("block".into()),
                targets: Targets::Where("target.kind != \"anonymous\"".into()),
                env: None,
                value: None,
                reason: "bulk".into(),
                now: NOW.parse().unwrap(),
                reassign: Default::default(),
            })
            .unwrap();
        apply(&mut store, policy(BLOCK_POLICY), &plan, &ApplyOptions::default()).unwrap();
        let after = store.load().unwrap();
        for item in &plan.items {
            let before = directory.account(&item.target, &item.env).unwrap();
            let now = after.account(&item.target, &item.env).unwrap();
            let expected = if item.outcome == "block" { "blocked" } else { before.status.as_str() };
            prop_assert_eq!(now.status.as_str(), expected, "{} in {}", item.target, item.env);
            if item.outcome == "block" {
                for alert in item.impact.as_ref().map(|i| i.disable.clone()).unwrap_or_default() {
                    prop_assert!(after.asset(&alert).unwrap().disabled, "{alert}");
                }
            }
        }
    }
}

/// The analytics pack with a default owner for everything reassigned: the
/// acting administrator (D7: main administrators may reassign anything).
fn pack_with_default_owner(dir: &Path) -> PathBuf {
    let pack = dir.join("pack");
    std::fs::create_dir(&pack).unwrap();
    let tenant = std::fs::read_to_string(pack_dir("analytics").join("tenant.policy")).unwrap();
    file(&pack, "tenant.policy", &tenant);
    file(
        &pack,
        "lifecycle.policy",
        "lifecycle delete {\n  owns space, app, script, data_connection, reload_schedule -> reassign to actor\n  owns api_key -> revoke\n  owns alert, notification, session -> remove\n}\n",
    );
    pack
}

#[test]
fn d7_assets_go_to_the_default_owner_the_policy_names_unless_apply_is_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_with_default_owner(dir.path());
    let (db, plan) = plan_to_delete_leo(dir.path(), &pack);
    let saved: serde_json::Value = read_json(&plan);
    assert_eq!(saved["items"][0]["impact"]["reassign"][0]["default_owner"], "acme.Olivia");
    apply_cmd(&pack, &db, &plan)
        .args(["--confirm", "--reassign", "dc-warehouse=acme.Dana"])
        .assert()
        .success();
    let after = stored(&db);
    assert_eq!(after.asset("space-sales").unwrap().owner.as_deref(), Some("acme.Olivia"));
    assert_eq!(after.asset("app-forecast").unwrap().owner.as_deref(), Some("acme.Olivia"));
    assert_eq!(after.asset("dc-warehouse").unwrap().owner.as_deref(), Some("acme.Dana"), "--reassign wins");
}

/// Plans `action` on Pia's pending invitation in the lab tenant and applies
/// it, in a folder of its own.
fn invitation(dir: &Path, actor: &str, action: &str) -> Directory {
    let dir = dir.join(action);
    std::fs::create_dir(&dir).unwrap();
    // Apply decides at its own clock: the invitation must still be open
    // when the test runs, not only at the plan's NOW.
    let db = dir.join("analytics.db");
    let open = example("analytics")
        .replace("invited_until: 2026-12-01T00:00:00Z", "invited_until: 2999-01-01T00:00:00Z");
    import(&file(&dir, "analytics.yaml", &open), &db);
    let targets = file(&dir, "pia.txt", "acme.Pia\n");
    let args = ["--actor", actor, "--action", action, "--env", "acme-lab", "--reason", "invitation"];
    let rest = ["--targets", targets.to_str().unwrap()];
    let plan = saved_plan(&dir, &pack_dir("analytics"), &db, &[&args[..], &rest].concat());
    analytics_apply(&db, &plan).arg("--confirm").assert().success();
    assert_eq!(audit(&db)[0].change.outcome, action);
    stored(&db)
}

#[test]
fn q3_d1_invitations_are_registered_resent_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let before: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();

    let registered = invitation(dir.path(), "acme.Pia", "register");
    let pia = registered.account("acme.Pia", "acme-lab").unwrap();
    assert_eq!(pia.status, "active");
    assert_eq!(pia.invited_until, None);

    let resent = invitation(dir.path(), "acme.Olivia", "resend_invitation");
    let pia = resent.account("acme.Pia", "acme-lab").unwrap();
    assert_eq!(pia.status, "pending");
    assert!(pia.invited_until.unwrap() > before, "renewed by invitation_validity (14 days by default)");

    let revoked = invitation(dir.path(), "acme.Olivia", "revoke_invitation");
    assert!(revoked.account("acme.Pia", "acme-lab").is_none(), "the invitation no longer works (Q3)");
}

/// Every extension a directory is read from as a store (`.db`, `.sqlite`,
/// `.sqlite3`) is one apply writes to: a `.sqlite` file loaded and planned
/// on was refused by apply.
#[test]
fn a_store_named_sqlite_is_applied_like_a_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("erp.sqlite");
    import(&example_file("erp"), &db);
    let pack = pack_dir("erp");
    let plan = saved_plan(
        dir.path(),
        &pack,
        &db,
        &["--actor", "12345.Admin", "--trigger", "leavers", "--reason", "left"],
    );
    apply_cmd(&pack, &db, &plan).arg("--confirm").assert().success();
    let leaver = stored(&db);
    let leaver = leaver.account("12345.Leaver", "O12345AA").unwrap();
    assert_eq!(leaver.status, "blocked");
}

/// A plan is decided again at apply's clock, not the file's (#15): an
/// invitation open at the plan's `--now` but expired since is not
/// registered; apply names the item and writes nothing (Q3).
#[test]
fn q3_an_invitation_that_expired_since_the_plan_is_not_registered() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "analytics", "");
    let targets = file(dir.path(), "pia.txt", "acme.Pia\n");
    let args = ["--actor", "acme.Pia", "--action", "register", "--env", "acme-lab", "--reason", "late"];
    // Open at NOW (it expires 2026-12-01), expired when the test runs.
    let plan = saved_plan(
        dir.path(),
        &pack_dir("analytics"),
        &db,
        &[&args[..], &["--now", NOW, "--targets", targets.to_str().unwrap()]].concat(),
    );
    analytics_apply(&db, &plan)
        .arg("--confirm")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("`acme.Pia` in `acme-lab` is denied (the plan says register)"));
    assert!(audit(&db).is_empty());
    assert_eq!(stored(&db).account("acme.Pia", "acme-lab").unwrap().status, "pending");
}

/// Every writer (apply, `sync --apply`, the gateway) tells a database
/// that is not there from a file of another kind, names the command that
/// makes one, exits 3 and creates nothing.
#[test]
fn writers_tell_a_missing_database_from_a_file_of_another_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (_, plan) = plan_to_delete_leo(dir.path(), &pack_dir("analytics"));
    let missing = dir.path().join("typo.db");
    let yaml = example_file("analytics");
    let pack = pack_dir("analytics");
    let writers: [(&str, Vec<&std::ffi::OsStr>); 3] = [
        ("apply", vec!["apply".as_ref(), plan.as_os_str(), "--confirm".as_ref()]),
        ("sync", vec!["sync".as_ref(), "--apply".as_ref()]),
        (
            "gateway",
            vec![
                "gateway".as_ref(),
                "--upstream".as_ref(),
                "http://127.0.0.1:9".as_ref(),
                "--env".as_ref(),
                "acme".as_ref(),
                "--actor".as_ref(),
                "acme.Olivia".as_ref(),
                "--token".as_ref(),
                "t".as_ref(),
            ],
        ),
    ];
    for (name, args) in &writers {
        for (db, says) in [(&missing, "does not exist"), (&yaml, "is not a directory database")] {
            let out = steward()
                .args(args)
                .arg("--policy")
                .arg(&pack)
                .arg("--directory")
                .arg(db)
                .env_remove("STEWARD_TOKEN")
                .assert()
                .code(3)
                .get_output()
                .stderr
                .clone();
            let text = String::from_utf8_lossy(&out);
            assert!(
                text.contains(says) && text.contains("steward import"),
                "{name} {}: {text}",
                db.display()
            );
        }
    }
    assert!(!missing.exists(), "nothing created");
}
