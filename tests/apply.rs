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
use steward::directory::generate::{GenerateOptions, generate};
use steward::directory::model::Status;
use steward::directory::store::{ImportOptions, Store};
use steward::plan::{PlanRequest, Targets};
use steward::policy::{PolicySet, Sources};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn steward() -> Command {
    Command::cargo_bin("steward").unwrap()
}

/// A database of the analytics example and a saved plan to delete Leo.
fn leaver_plan(dir: &Path) -> (PathBuf, PathBuf) {
    let db = dir.join("a.db");
    let plan = dir.join("plan.json");
    let targets = dir.join("targets.txt");
    std::fs::write(&targets, "acme.Leo\n").unwrap();
    steward().arg("import").arg(root().join("examples/analytics.yaml")).arg("-o").arg(&db).assert().success();
    steward()
        .args(["plan", "--policy"])
        .arg(root().join("policies/analytics"))
        .arg("--directory")
        .arg(&db)
        .args(["--actor", "acme.Olivia", "--action", "delete", "--env", "acme", "--reason", "left"])
        .arg("--targets")
        .arg(&targets)
        .arg("-o")
        .arg(&plan)
        .assert()
        .success();
    (db, plan)
}

fn apply_cmd(db: &Path, plan: &Path) -> Command {
    let mut cmd = steward();
    cmd.arg("apply")
        .arg(plan)
        .arg("--directory")
        .arg(db)
        .arg("--policy")
        .arg(root().join("policies/analytics"));
    cmd
}

const OWNERS: &[&str] = &[
    "space-sales=acme.Olivia",
    "space-leo=acme.Olivia",
    "app-forecast=acme.Anders",
    "dc-warehouse=acme.Dana",
    "reload-nightly=acme.Uma",
];

fn with_owners(cmd: &mut Command) -> &mut Command {
    for owner in OWNERS {
        cmd.args(["--reassign", owner]);
    }
    cmd
}

#[test]
fn c2_apply_refuses_without_confirmation_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    with_owners(&mut apply_cmd(&db, &plan)).assert().code(1).stderr(predicate::str::contains("--confirm"));
    assert!(Store::open(&db).unwrap().load().unwrap().account("acme.Leo", "acme").is_some());
}

#[test]
fn d3_d6_every_asset_needing_an_owner_must_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    apply_cmd(&db, &plan).arg("--confirm").assert().code(3).stderr(predicate::str::contains(
        "need a new owner: app-forecast, dc-warehouse, reload-nightly, space-leo, space-sales",
    ));
}

#[test]
fn d7_a_reassignment_the_policy_denies_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    let mut cmd = apply_cmd(&db, &plan);
    cmd.arg("--confirm");
    for owner in OWNERS {
        let owner = if owner.starts_with("dc-warehouse") { "dc-warehouse=acme.Bea" } else { owner };
        cmd.args(["--reassign", owner]);
    }
    cmd.assert().code(3).stderr(predicate::str::contains("new_owner_is_active"));
    assert!(Store::open(&db).unwrap().audit(None).unwrap().is_empty());
}

#[test]
fn q8_d6_apply_deletes_reassigns_revokes_removes_and_audits_each_change() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    with_owners(apply_cmd(&db, &plan).arg("--confirm"))
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
        .stdout("ok: 10 entries, the chain is intact\n");
    steward()
        .args(["audit", "--directory"])
        .arg(&db)
        .args(["--user", "acme.Leo", "--format", "json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"outcome\": \"delete\""));
    // The same plan again: the directory changed, and apply says what.
    with_owners(apply_cmd(&db, &plan).arg("--confirm"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("the directory changed since the plan was made"));
}

#[test]
fn an_edited_plan_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    let text =
        std::fs::read_to_string(&plan).unwrap().replace("\"reason\": \"left\"", "\"reason\": \"other\"");
    std::fs::write(&plan, text).unwrap();
    with_owners(apply_cmd(&db, &plan).arg("--confirm"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("does not match its digest"));
}

#[test]
fn a_plan_made_with_other_policies_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    let mut cmd = steward();
    cmd.arg("apply").arg(&plan).arg("--directory").arg(&db).arg("--policy").arg(root().join("policies/crm"));
    with_owners(cmd.arg("--confirm")).assert().code(3).stderr(predicate::str::contains("policy set changed"));
}

#[test]
fn audit_tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plan) = leaver_plan(dir.path());
    with_owners(apply_cmd(&db, &plan).arg("--confirm")).assert().success();
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
    let policy = dir.path().join("block.policy");
    let plan = dir.path().join("plan.json");
    std::fs::write(&policy, BLOCK_POLICY).unwrap();
    let directory = generate(GenerateOptions { accounts: 6000, seed: 3 });
    let actor = directory.accounts()[0].user.clone();
    let env = directory.accounts()[0].env.clone();
    Store::open(&db).unwrap().import(&directory, "gen", ImportOptions::default()).unwrap();
    let active_before = directory.accounts_in(&env).filter(|a| a.status == Status::Active).count();
    steward()
        .args(["plan", "--policy"])
        .arg(&policy)
        .arg("--directory")
        .arg(&db)
        .args(["--actor", &actor, "--action", "block", "--env", &env, "--reason", "bulk"])
        .args(["--where", "target.status == \"active\"", "-o"])
        .arg(&plan)
        .assert()
        .success();
    for delay in [0u64, 40, 120] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("steward"))
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
        let active = now.accounts_in(&env).filter(|a| a.status == Status::Active).count();
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

fn block_set() -> PolicySet {
    let mut sources = Sources::new();
    sources.add("block.policy", BLOCK_POLICY);
    PolicySet::from_sources(sources).unwrap().set
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]
    #[test]
    fn the_preview_is_what_is_applied(seed in any::<u64>(), accounts in 3usize..40) {
        let directory = generate(GenerateOptions { accounts, seed });
        let actor = directory.accounts()[0].user.clone();
        let mut store = Store::in_memory().unwrap();
        store.import(&directory, "gen", ImportOptions::default()).unwrap();
        let engine = Engine::new(block_set(), store.load().unwrap());
        let plan = engine
            .plan(&PlanRequest {
                actor: actor.to_string(),
                action: Some("block".into()),
                targets: Targets::Where("target.kind != \"anonymous\"".into()),
                env: None,
                value: None,
                reason: "bulk".into(),
                now: "2026-11-23T09:00:00Z".parse().unwrap(),
            })
            .unwrap();
        apply(&mut store, block_set(), &plan, &ApplyOptions::default()).unwrap();
        let after = store.load().unwrap();
        for item in &plan.items {
            let before = directory.account(&item.target, &item.env).unwrap();
            let now = after.account(&item.target, &item.env).unwrap();
            let expected = if item.outcome == "block" { Status::Blocked } else { before.status };
            prop_assert_eq!(now.status, expected, "{} in {}", item.target, item.env);
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
    let tenant = std::fs::read_to_string(root().join("policies/analytics/tenant.policy")).unwrap();
    std::fs::write(pack.join("tenant.policy"), tenant).unwrap();
    std::fs::write(
        pack.join("lifecycle.policy"),
        "lifecycle delete {\n  owns space, app, script, data_connection, reload_schedule -> reassign to actor\n  owns api_key -> revoke\n  owns alert, notification, session -> remove\n}\n",
    )
    .unwrap();
    pack
}

#[test]
fn d7_assets_go_to_the_default_owner_the_policy_names_unless_apply_is_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let pack = pack_with_default_owner(dir.path());
    let db = dir.path().join("a.db");
    let plan = dir.path().join("plan.json");
    let targets = dir.path().join("t.txt");
    std::fs::write(&targets, "acme.Leo\n").unwrap();
    steward().arg("import").arg(root().join("examples/analytics.yaml")).arg("-o").arg(&db).assert().success();
    steward()
        .arg("plan")
        .arg("--policy")
        .arg(&pack)
        .arg("--directory")
        .arg(&db)
        .args([
            "--actor",
            "acme.Olivia",
            "--action",
            "delete",
            "--env",
            "acme",
            "--reason",
            "left",
            "--targets",
        ])
        .arg(&targets)
        .arg("-o")
        .arg(&plan)
        .assert()
        .success();
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(saved["items"][0]["impact"]["reassign"][0]["default_owner"], "acme.Olivia");
    steward()
        .arg("apply")
        .arg(&plan)
        .arg("--directory")
        .arg(&db)
        .arg("--policy")
        .arg(&pack)
        .args(["--confirm", "--reassign", "dc-warehouse=acme.Dana"])
        .assert()
        .success();
    let after = Store::open(&db).unwrap().load().unwrap();
    assert_eq!(after.asset("space-sales").unwrap().owner.as_deref(), Some("acme.Olivia"));
    assert_eq!(after.asset("app-forecast").unwrap().owner.as_deref(), Some("acme.Olivia"));
    assert_eq!(after.asset("dc-warehouse").unwrap().owner.as_deref(), Some("acme.Dana"), "--reassign wins");
}

/// Plans `action` on Pia's pending invitation in the lab tenant and applies it.
fn invitation(dir: &Path, actor: &str, action: &str) -> steward::directory::Directory {
    let db = dir.join(format!("{action}.db"));
    let plan = dir.join(format!("{action}.json"));
    let targets = dir.join("pia.txt");
    std::fs::write(&targets, "acme.Pia\n").unwrap();
    steward().arg("import").arg(root().join("examples/analytics.yaml")).arg("-o").arg(&db).assert().success();
    steward()
        .arg("plan")
        .arg("--policy")
        .arg(root().join("policies/analytics"))
        .arg("--directory")
        .arg(&db)
        .args(["--actor", actor, "--action", action, "--env", "acme-lab", "--reason", "invitation"])
        .args(["--now", "2026-11-23T09:00:00Z", "--targets"])
        .arg(&targets)
        .arg("-o")
        .arg(&plan)
        .assert()
        .success();
    let mut cmd = apply_cmd(&db, &plan);
    cmd.arg("--confirm").assert().success();
    let store = Store::open(&db).unwrap();
    assert_eq!(store.audit(None).unwrap()[0].change.outcome, action);
    store.load().unwrap()
}

#[test]
fn q3_d1_invitations_are_registered_resent_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let before: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();

    let registered = invitation(dir.path(), "acme.Pia", "register");
    let pia = registered.account("acme.Pia", "acme-lab").unwrap();
    assert_eq!(pia.status, Status::Active);
    assert_eq!(pia.invited_until, None);

    let resent = invitation(dir.path(), "acme.Olivia", "resend_invitation");
    let pia = resent.account("acme.Pia", "acme-lab").unwrap();
    assert_eq!(pia.status, Status::Pending);
    assert!(pia.invited_until.unwrap() > before, "renewed by invitation_validity (14 days by default)");

    let revoked = invitation(dir.path(), "acme.Olivia", "revoke_invitation");
    assert!(revoked.account("acme.Pia", "acme-lab").is_none(), "the invitation no longer works (Q3)");
}
