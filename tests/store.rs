//! The SQLite store: round trips, all-or-nothing imports, migrations, and
//! decisions read through the store equal those over the in-memory directory.

use proptest::prelude::*;
use rusqlite::Connection;
use steward::directory::export::to_yaml;
use steward::directory::generate::{GenerateOptions, generate};
use steward::directory::store::{ImportOptions, MIGRATIONS, SCHEMA_VERSION, Store};
use steward::directory::{Error, yaml};

use crate::support::{ask, example_file, file, import, load, pack, steward};

#[test]
fn yaml_to_database_and_back_is_the_same_directory() {
    for name in crate::support::PACKS {
        let schema =
            steward::policy::PolicySet::load(&[crate::support::pack_dir(name)]).unwrap().set.schema().clone();
        let original = steward::directory::load(&example_file(name), &schema).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        Store::open(&db).unwrap().import(&original, name, ImportOptions::default()).unwrap();
        let loaded = steward::directory::load(&db, &schema).unwrap();
        assert_eq!(loaded.clone().into_parts(), original.clone().into_parts(), "{name}");
        let exported = yaml::parse("export.yaml", &to_yaml(&loaded, &schema).unwrap(), &schema).unwrap();
        assert_eq!(exported.into_parts(), original.into_parts(), "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn random_directories_round_trip(accounts in 1usize..60, seed in any::<u64>()) {
        let original = generate(GenerateOptions { accounts, seed });
        let mut store = Store::in_memory().unwrap();
        store.import(&original, "generated", ImportOptions::default()).unwrap();
        // Held to the standard schema as a load for a policy set is: its
        // declared dates are text in the JSON of `attrs`.
        let loaded = steward::directory::conform::directory(&steward::policy::declare::standard(), store.load().unwrap()).unwrap();
        prop_assert_eq!(loaded.into_parts(), original.clone().into_parts());
        let exported = yaml::parse("export.yaml", &to_yaml(&original, &steward::policy::declare::standard()).unwrap(), &steward::policy::declare::standard()).unwrap();
        prop_assert_eq!(exported.into_parts(), original.into_parts());
    }
}

#[test]
fn a_failed_import_leaves_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let erp = load(&example_file("erp"));
    let mut store = Store::open(&db).unwrap();
    store.import(&erp, "erp", ImportOptions::default()).unwrap();
    // Appending the same directory again collides on every id.
    let err = store.import(&erp, "erp", ImportOptions { append: true, model: None }).unwrap_err();
    assert!(err.to_string().contains("environment `O12345AA`"), "{err}");
    assert_eq!(load(&db).into_parts(), erp.clone().into_parts());
    // A replacing import with a dangling owner fails at commit and changes nothing.
    let mut parts = load(&example_file("analytics")).into_parts();
    parts.assets[0].owner = Some("nobody".into());
    let broken = steward::directory::Directory::new(parts);
    assert!(store.import(&broken, "broken", ImportOptions::default()).is_err());
    assert_eq!(load(&db).into_parts(), erp.into_parts());
}

#[test]
fn the_database_enforces_unique_emails_per_environment_g6() {
    let mut parts = load(&example_file("crm")).into_parts();
    let email = parts.accounts[0].email.clone();
    let env = parts.accounts[0].env.clone();
    let other = parts.accounts.iter_mut().find(|a| a.env == env && a.email != email).unwrap();
    other.email = email.map(|e| e.to_uppercase());
    let mut store = Store::in_memory().unwrap();
    let err = store
        .import(&steward::directory::Directory::new(parts), "dup", ImportOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("e-mail address is already used"), "{err}");
}

/// A version-1 database of one account in `dir`: migrations are append-only,
/// so the first one is exactly the schema the first release wrote.
fn version_one_database(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("old.db");
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(MIGRATIONS[0]).unwrap();
    conn.execute_batch(
        "INSERT INTO environments VALUES ('E', 'L', 'production', 'invitations', 0, 0, '{}');
         INSERT INTO users VALUES ('u', 'E', 0, 0, NULL, NULL, '{}');
         INSERT INTO accounts VALUES ('u', 'E', 'active', 'normal', 'U', NULL, '[]', 0, NULL, '{}');
         PRAGMA user_version = 1;",
    )
    .unwrap();
    db
}

#[test]
fn an_older_schema_is_migrated_and_its_data_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = version_one_database(dir.path());
    let store = Store::open(&db).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.load().unwrap().accounts().len(), 1);
    assert_eq!(store.last_import().unwrap(), None);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    Connection::open(&db).unwrap().execute_batch("PRAGMA user_version = 99;").unwrap();
    match Store::open(&db) {
        Err(Error::NewerSchema { found: 99, .. }) => {}
        other => panic!("expected NewerSchema, got {other:?}"),
    }
}

#[test]
fn decisions_through_the_store_equal_decisions_in_memory() {
    let memory = load(&example_file("analytics"));
    let mut store = Store::in_memory().unwrap();
    store.import(&memory, "analytics", ImportOptions::default()).unwrap();
    let policies = pack("analytics");
    let users: Vec<String> = memory.users().iter().map(|u| u.id.to_string()).collect();
    let mut compared = 0;
    for actor in &users {
        for target in &users {
            for action in ["block", "delete", "unblock", "remove_role"] {
                let request = ask(actor, action, target, "acme");
                let a = policies.decide(&request, &memory).map(|d| policies.report(&request, &d));
                let b = policies.decide(&request, &store).map(|d| policies.report(&request, &d));
                assert_eq!(a, b, "{actor} {action} {target}");
                compared += 1;
            }
        }
    }
    assert!(compared > 100);
}

#[test]
fn import_and_export_as_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("erp.db");
    let yaml_out = dir.path().join("erp.yaml");
    import(&example_file("erp"), &db);
    steward().arg("export").arg(&db).arg("-o").arg(&yaml_out).assert().success();
    let again = load(&yaml_out);
    assert_eq!(again.into_parts(), load(&example_file("erp")).into_parts());
    // An invalid file is refused with its location, and nothing is written.
    let bad = file(
        dir.path(),
        "bad.yaml",
        "environments:\n  - { id: E, license: L, kind: production, colour: red }\n",
    );
    let fresh = dir.path().join("fresh.db");
    steward()
        .arg("import")
        .arg(&bad)
        .arg("-o")
        .arg(&fresh)
        .assert()
        .code(3)
        .stderr(predicates::str::contains("unknown key `colour`"))
        .stderr(predicates::str::contains("bad.yaml:2:"));
    assert!(!fresh.exists());
}

/// Opening a database of an older schema migrates it, which takes a while
/// at a million accounts: the CLI says so first, once.
#[test]
fn the_cli_says_before_it_migrates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = version_one_database(dir.path());
    let users = || {
        let out = steward().args(["users", "--directory", db.to_str().unwrap()]).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let first = users();
    assert!(first.contains(&format!("has schema 1; migrating it to schema {SCHEMA_VERSION}")), "{first}");
    let second = users();
    assert!(!second.contains("migrating"), "migrated once: {second}");
}

/// Reading a database never makes one: `show`, `users`, `decide` and the
/// commands that apply refuse an empty file, a file that is not SQLite and
/// another program's database, naming the file and saying how to make one,
/// and leave the file as it was.
#[test]
fn reading_an_empty_or_foreign_file_writes_nothing_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let empty = file(dir.path(), "empty.db", "");
    let text = file(dir.path(), "notes.db", "not a database\n");
    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let cases = [
        (&empty, "the file is empty"),
        (&text, "it is not a SQLite database"),
        (&foreign, "it is a SQLite database without a directory in it"),
    ];
    for (db, reason) in cases {
        let before = std::fs::read(db).unwrap();
        let path = db.to_str().unwrap();
        let pack = crate::support::pack_dir("erp");
        let commands: [Vec<&str>; 4] = [
            vec!["show", "--directory", path],
            vec!["users", "--directory", path],
            vec![
                "decide",
                "--policy",
                pack.to_str().unwrap(),
                "--directory",
                path,
                "--actor",
                "a",
                "--action",
                "block",
                "--target",
                "b",
                "--env",
                "E",
            ],
            vec!["audit", "verify", "--directory", path],
        ];
        for args in commands {
            let out = steward().args(&args).output().unwrap();
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("`{path}` is not a directory database: {reason}")),
                "{args:?}: {stderr}"
            );
            assert!(
                stderr.contains(&format!("steward import DIRECTORY.yaml -o {path}")),
                "{args:?}: {stderr}"
            );
            assert_eq!(std::fs::read(db).unwrap(), before, "{args:?} changed {path}");
        }
    }
    // Importing into an empty file is how a database is made.
    import(&example_file("crm"), &empty);
    assert_eq!(load(&empty).into_parts(), load(&example_file("crm")).into_parts());
}

/// Export then import reproduces the directory at a size the parser's
/// default limits refused (250,000 nodes: about 4,000 accounts), as YAML
/// and as JSON.
#[test]
fn a_large_database_exported_imports_again_as_yaml_and_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    steward().args(["gen", "--accounts", "5000", "-o", db.to_str().unwrap()]).assert().success();
    let exported = dir.path().join("g.yaml");
    steward().arg("export").arg(&db).arg("-o").arg(&exported).assert().success();
    let again = dir.path().join("again.db");
    import(&exported, &again);
    let original = load(&db).into_parts();
    assert_eq!(original.accounts.len(), 5000);
    assert_eq!(load(&again).into_parts(), original);
    // `-o g.json` writes JSON, which reads back as the same directory.
    let json = dir.path().join("g.json");
    steward().arg("export").arg(&db).arg("-o").arg(&json).assert().success();
    let text = std::fs::read_to_string(&json).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["users"].as_array().unwrap().len(), original.users.len());
    let from_json = dir.path().join("json.db");
    import(&json, &from_json);
    assert_eq!(load(&from_json).into_parts(), original);
}
