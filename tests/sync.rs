//! The nightly sync of guests' names and e-mail addresses (G5, G6).

use steward::directory::store::Store;
use steward::sync::sync;

use crate::support::{file, import, load, parse, stdout_json, steward};

const DIRECTORY: &str = r#"
environments:
  - { id: H, license: "12345", kind: production }
  - { id: HT, license: "12345", kind: test }
  - { id: C, license: "98765", kind: production }
  - { id: D, license: "55555", kind: production }
users:
  - id: 12345.Gwen
    home: H
    guest_license: true
    desktop_access: true
    accounts:
      - { env: H, status: active, name: Gwen New, email: new@p.example }
      - { env: HT, status: active, name: Gwen In Test, email: test@p.example }
      - { env: C, status: active, kind: guest, name: Gwen Old, email: old@p.example }
      - { env: D, status: active, kind: guest, name: Gwen Old, email: old@p.example }
  - id: 12345.Tess
    home: HT
    guest_license: true
    accounts:
      - { env: HT, status: active, name: Tess Renamed, email: tess@p.example }
      - { env: C, status: active, kind: guest, name: Tess, email: tess@p.example }
  - id: 98765.Xavi
    home: C
    accounts:
      - { env: C, status: active, name: Xavi, email: NEW@p.example }
"#;

#[test]
fn g5_home_production_flows_to_guest_accounts_and_test_environments_never_do() {
    let report = sync(&parse(DIRECTORY), &steward::policy::declare::standard());
    let changes: Vec<(String, String, &str, Option<String>)> =
        report.changes.iter().map(|c| (c.user.clone(), c.env.clone(), c.field, c.to.clone())).collect();
    assert_eq!(
        changes,
        [
            ("12345.Gwen".to_owned(), "C".to_owned(), "name", Some("Gwen New".to_owned())),
            ("12345.Gwen".to_owned(), "D".to_owned(), "name", Some("Gwen New".to_owned())),
            ("12345.Gwen".to_owned(), "D".to_owned(), "email", Some("new@p.example".to_owned())),
        ]
    );
    assert!(
        !report.changes.iter().any(|c| c.to.as_deref() == Some("Gwen In Test")),
        "nothing flows from test"
    );
    assert!(
        !report.changes.iter().any(|c| c.user == "12345.Tess"),
        "a home in a test environment is no source"
    );
}

#[test]
fn g6_an_address_held_by_another_account_there_is_a_conflict_not_a_change() {
    let report = sync(&parse(DIRECTORY), &steward::policy::declare::standard());
    assert_eq!(report.conflicts.len(), 1);
    let conflict = &report.conflicts[0];
    assert_eq!(
        (conflict.user.as_str(), conflict.env.as_str(), conflict.held_by.as_str()),
        ("12345.Gwen", "C", "98765.Xavi")
    );
    assert!(!report.changes.iter().any(|c| c.env == "C" && c.field == "email"));
}

#[test]
fn sync_apply_writes_the_changes_in_one_audited_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = file(dir.path(), "d.yaml", DIRECTORY);
    let db = dir.path().join("d.db");
    import(&yaml, &db);
    let out = steward().args(["sync", "--format", "json", "--directory"]).arg(&db).assert().success();
    let json = stdout_json(out.get_output());
    assert_eq!(json["changes"].as_array().unwrap().len(), 3);
    assert_eq!(json["conflicts"][0]["held_by"], "98765.Xavi");
    steward().args(["sync", "--apply", "--directory"]).arg(&db).assert().success();
    let after = load(&db);
    assert_eq!(after.account("12345.Gwen", "D").unwrap().email.as_deref(), Some("new@p.example"));
    assert_eq!(after.account("12345.Gwen", "C").unwrap().email.as_deref(), Some("old@p.example"));
    assert_eq!(after.account("12345.Gwen", "C").unwrap().name, "Gwen New");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.audit(None).unwrap().len(), 3);
    let verified = store.verify_audit(Default::default()).unwrap();
    assert_eq!((verified.entries, verified.findings), (3, vec![]));
    // Nothing left to do the second night.
    assert!(sync(&after, &steward::policy::declare::standard()).changes.is_empty());
    // A YAML file is reported on, never written.
    steward().args(["sync", "--apply", "--directory"]).arg(&yaml).assert().code(3);
}

/// `sync --apply` decides under the database's write lock: a writer that
/// holds it and deletes a guest account meanwhile is waited for, and the
/// sync neither writes that account nor logs a change to it (G5, #15).
#[test]
fn sync_apply_decides_after_a_writer_that_held_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    import(&file(dir.path(), "d.yaml", DIRECTORY), &db);
    let mut writer = rusqlite::Connection::open(&db).unwrap();
    let tx = writer.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    tx.execute("DELETE FROM accounts WHERE user = '12345.Gwen' AND env = 'D'", []).unwrap();
    let sync = crate::support::steward_process()
        .args(["sync", "--apply", "--format", "json", "--directory"])
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Long enough for the sync to start and meet the lock.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    tx.commit().unwrap();
    let output = sync.wait_with_output().unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let envs: Vec<&str> =
        report["changes"].as_array().unwrap().iter().map(|c| c["env"].as_str().unwrap()).collect();
    assert!(!envs.contains(&"D"), "{report}");
    let logged = Store::open(&db).unwrap().audit(None).unwrap();
    assert!(logged.iter().all(|e| e.change.env != "D"), "{logged:?}");
    assert_eq!(logged.len(), envs.len());
}

/// Two guests whose home addresses differ only in case are not both given
/// it in one environment: the second is a conflict, so `sync --apply`
/// never meets the unique index and the other changes land (G5, G6).
#[test]
fn g6_one_address_is_given_to_one_guest_per_sync() {
    let text = r#"
environments:
  - { id: H1, license: "1", kind: production }
  - { id: H2, license: "2", kind: production }
  - { id: C, license: "3", kind: production }
users:
  - id: x
    home: H1
    accounts:
      - { env: H1, status: active, name: X, email: same@ex.example }
      - { env: C, status: active, kind: guest, name: X, email: x@old.example }
  - id: y
    home: H2
    accounts:
      - { env: H2, status: active, name: Y New, email: SAME@ex.example }
      - { env: C, status: active, kind: guest, name: Y, email: y@old.example }
"#;
    let report = sync(&parse(text), &steward::policy::declare::standard());
    let emails: Vec<&str> =
        report.changes.iter().filter(|c| c.field == "email").map(|c| c.user.as_str()).collect();
    assert_eq!(emails, ["x"]);
    assert_eq!(report.conflicts.len(), 1);
    assert_eq!((report.conflicts[0].user.as_str(), report.conflicts[0].held_by.as_str()), ("y", "x"));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    import(&file(dir.path(), "d.yaml", text), &db);
    steward().args(["sync", "--apply", "--directory"]).arg(&db).assert().success();
    assert_eq!(load(&db).account("y", "C").unwrap().name, "Y New");
}
