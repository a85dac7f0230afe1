//! `steward keygen` and `steward audit verify` against a tamperer (#15):
//! each attack is made through SQLite on a real database file, the way
//! someone who can write the file would, then verified as a process.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use predicates::prelude::*;
use rusqlite::{Connection, params};
use steward::digest::sha256_hex_of;
use steward::directory::audit::{Change, append, entries};
use steward::directory::store::{MIGRATIONS, Store};

use crate::support::{audit, database, file, steward, steward_in};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A log of 5 entries from two signing, anchoring applies (heads at 2 and
/// 5), with steward.yaml naming the key and the anchor.
struct Log {
    dir: tempfile::TempDir,
    db: PathBuf,
    public: PathBuf,
    anchor: PathBuf,
    /// What each apply printed on stdout.
    printed: String,
}

impl Log {
    fn new() -> Log {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path(), "analytics", "");
        file(
            dir.path(),
            "block.policy",
            "rule anyone_blocks { permit block }\nlifecycle block { owns alert -> disable }\n",
        );
        let out = steward_in(dir.path()).args(["keygen", "-o", "audit.key"]).assert().success();
        let public =
            file(dir.path(), "audit.pub", &String::from_utf8(out.get_output().stdout.clone()).unwrap());
        file(
            dir.path(),
            "steward.yaml",
            "directory: analytics.db\npolicies: [block.policy]\naudit: { signing_key: audit.key, anchor: anchor.jsonl }\n",
        );
        let mut log =
            Log { anchor: dir.path().join("anchor.jsonl"), dir, db, public, printed: String::new() };
        // Leo and his alert, then three more.
        log.block("acme", &["acme.Leo"]);
        log.block("acme", &["acme.Uma", "acme.Dana", "acme.Anders"]);
        log
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Plans blocking `users` in `env`, with steward.yaml, into plan.json.
    fn plan(&self, env: &str, users: &[&str]) {
        file(self.path(), "targets.txt", &users.join("\n"));
        let who = ["--actor", "acme.Olivia", "--action", "block", "--env", env, "--reason", "left"];
        steward_in(self.path())
            .arg("plan")
            .args(who)
            .args(["--targets", "targets.txt", "-o", "plan.json"])
            .assert()
            .success();
    }

    /// Plans and applies blocking `users` in `env`.
    fn block(&mut self, env: &str, users: &[&str]) {
        self.plan(env, users);
        let out = steward_in(self.path()).args(["apply", "plan.json", "--confirm"]).assert().success();
        self.printed.push_str(&String::from_utf8(out.get_output().stdout.clone()).unwrap());
    }

    /// `audit verify` with the key and the anchor of steward.yaml.
    fn verify(&self) -> assert_cmd::assert::Assert {
        steward_in(self.path()).args(["audit", "verify"]).assert()
    }

    /// `audit verify` with neither a key nor an anchor.
    fn verify_bare(&self) -> assert_cmd::assert::Assert {
        steward().args(["audit", "verify", "--directory"]).arg(&self.db).assert()
    }

    fn conn(&self) -> Connection {
        Connection::open(&self.db).unwrap()
    }
}

/// Runs `tamper` with the append-only triggers dropped, then puts them back
/// exactly as they were, so that the schema looks untouched.
fn unguarded(conn: &Connection, tamper: impl FnOnce(&Connection)) {
    let mut stmt = conn.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").unwrap();
    let triggers: Vec<(String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(triggers.len(), 4, "the log and its heads are guarded");
    for (name, _) in &triggers {
        conn.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
    }
    tamper(conn);
    for (_, sql) in &triggers {
        conn.execute_batch(sql).unwrap();
    }
}

/// Hashes the whole chain again, as steward hashes it, so that it is
/// consistent with itself after an edit.
fn rehash(conn: &Connection) {
    let mut prev = GENESIS.to_owned();
    for entry in entries(conn, None).unwrap() {
        let hash = chain_hash(&prev, &entry.change);
        conn.execute(
            "UPDATE audit SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
            params![entry.seq, prev, hash],
        )
        .unwrap();
        prev = hash;
    }
}

fn chain_hash(prev: &str, change: &Change) -> String {
    sha256_hex_of([prev.as_bytes(), &serde_json::to_vec(change).unwrap()])
}

/// Points every head in the database at the entry now at its seq, keeping
/// its signature.
fn rewrite_heads(conn: &Connection) {
    conn.execute(
        "UPDATE audit_heads SET hash = (SELECT hash FROM audit WHERE audit.seq = audit_heads.seq)",
        [],
    )
    .unwrap();
}

/// A change as an apply would record it.
fn change(target: &str) -> Change {
    Change {
        at: "2026-11-23T10:00:00Z".parse().unwrap(),
        actor: "acme.Olivia".into(),
        action: "block".into(),
        target: target.into(),
        env: "acme".into(),
        outcome: "block".into(),
        reason: "left".into(),
        plan_digest: String::new(),
    }
}

/// Appends an entry with a valid hash after the last one, through
/// steward's own code, as anyone holding its source could.
fn forge_entry(conn: &Connection) -> i64 {
    append(conn, &change("acme.Pia")).unwrap();
    conn.query_row("SELECT max(seq) FROM audit", [], |r| r.get(0)).unwrap()
}

fn mentions(text: &str) -> predicates::str::ContainsPredicate {
    predicate::str::contains(text)
}

#[test]
fn an_untouched_log_verifies_with_its_key_and_anchor() {
    let log = Log::new();
    let anchor = std::fs::read_to_string(&log.anchor).unwrap();
    assert_eq!(anchor.lines().count(), 2, "one line per apply");
    assert_eq!(log.printed, anchor, "apply prints the head it anchors");
    let key = log
        .conn()
        .query_row("SELECT key FROM audit_heads WHERE seq = 5", [], |r| r.get::<_, String>(0))
        .unwrap();
    log.verify().code(0).stdout(
        predicate::str::starts_with("ok: 5 entries, the chain is intact\n")
            .and(mentions("ok: the audit tables and triggers are the ones steward creates\n"))
            .and(mentions(&format!("ok: 2 heads, 2 signed by the key {key}; the newest seals entry 5\n")))
            .and(mentions("(2 heads) matches the log; the newest seals entry 5\n"))
            .and(mentions("unproven").not()),
    );
    // The same from anywhere, with the public key as keygen printed it.
    steward()
        .args(["audit", "verify", "--directory"])
        .arg(&log.db)
        .arg("--public-key")
        .arg(&log.public)
        .arg("--anchor")
        .arg(&log.anchor)
        .assert()
        .code(0)
        .stdout(mentions("2 signed by the key"));
    // Without either, it says what it cannot prove.
    log.verify_bare()
        .code(0)
        .stdout(mentions("ok: 5 entries").and(mentions("unproven: without a public key or an anchor")));
}

#[test]
fn dropped_or_changed_triggers_are_found() {
    let log = Log::new();
    let conn = log.conn();
    conn.execute_batch(
        "DROP TRIGGER audit_is_append_only_delete; DROP TRIGGER audit_heads_are_append_only_update;",
    )
    .unwrap();
    log.verify_bare().code(1).stderr(
        mentions("trigger `audit_is_append_only_delete` is missing")
            .and(mentions("trigger `audit_heads_are_append_only_update` is missing")),
    );
    // Put back as one that lets everything through, and one of its own.
    conn.execute_batch(
        "CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit BEGIN SELECT 1; END;
         CREATE TRIGGER audit_heads_are_append_only_update BEFORE UPDATE ON audit_heads
             BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
         CREATE TRIGGER quietly AFTER INSERT ON accounts BEGIN DELETE FROM audit WHERE seq = 1; END;",
    )
    .unwrap();
    log.verify_bare().code(1).stderr(
        mentions("trigger `audit_is_append_only_delete` was changed")
            .and(mentions("trigger `quietly` is not one steward creates"))
            .and(mentions("audit_heads_are_append_only_update").not()),
    );
}

#[test]
fn deleting_the_last_entries_is_found() {
    for deleted in [1, 3, 5] {
        let left = 5 - deleted;
        // Only the entries: the heads in the database say so.
        let log = Log::new();
        unguarded(&log.conn(), |c| {
            c.execute("DELETE FROM audit WHERE seq > ?1", [left]).unwrap();
        });
        log.verify_bare().code(1).stderr(mentions(&format!(
            "the log ends at entry {left} but a head in the database seals entry 5"
        )));
        // The entries and the heads that seal them: the anchor says so.
        let log = Log::new();
        unguarded(&log.conn(), |c| {
            c.execute("DELETE FROM audit WHERE seq > ?1", [left]).unwrap();
            c.execute("DELETE FROM audit_heads WHERE seq > ?1", [left]).unwrap();
        });
        log.verify().code(1).stderr(mentions(&format!(
            "the log ends at entry {left} but line 2 of the anchor seals entry 5"
        )));
    }
}

#[test]
fn an_edited_entry_with_the_chain_hashed_again_is_found() {
    let edit = |c: &Connection| {
        c.execute("UPDATE audit SET reason = 'nothing to see' WHERE seq = 2", []).unwrap();
        rehash(c);
    };
    // The chain agrees with itself, the head in the database does not.
    let log = Log::new();
    unguarded(&log.conn(), edit);
    log.verify_bare().code(1).stderr(
        mentions("audit entry 1 is not the one").not().and(mentions(
            "audit entry 5 is not the one a head in the database seals: the log was rewritten",
        )),
    );
    // The heads rewritten too: without a key or an anchor nothing can
    // tell, and verify says that it cannot...
    let log = Log::new();
    unguarded(&log.conn(), |c| {
        edit(c);
        rewrite_heads(c);
    });
    log.verify_bare().code(0).stdout(mentions("unproven: without a public key or an anchor"));
    // ...while the signature and the anchor do.
    log.verify().code(1).stderr(
        mentions("the signature of a head in the database (entry 5) is not the key")
            .and(mentions("audit entry 5 is not the one line 2 of the anchor seals")),
    );
}

#[test]
fn a_deleted_entry_with_the_rest_renumbered_and_hashed_again_is_found() {
    let renumber = |c: &Connection| {
        c.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
        c.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 2", []).unwrap();
        rehash(c);
    };
    let log = Log::new();
    unguarded(&log.conn(), renumber);
    log.verify_bare()
        .code(1)
        .stderr(mentions("the log ends at entry 4 but a head in the database seals entry 5"));
    // The last head moved to the new end, with its signature.
    let log = Log::new();
    unguarded(&log.conn(), |c| {
        renumber(c);
        c.execute("UPDATE audit_heads SET seq = 4 WHERE seq = 5", []).unwrap();
        rewrite_heads(c);
    });
    log.verify().code(1).stderr(
        mentions("the signature of a head in the database (entry 4) is not the key")
            .and(mentions("the log ends at entry 4 but line 2 of the anchor seals entry 5")),
    );
}

#[test]
fn a_forged_entry_with_a_valid_hash_is_found() {
    // Inserting needs no trigger dropped.
    let log = Log::new();
    let seq = forge_entry(&log.conn());
    log.verify_bare()
        .code(1)
        .stderr(mentions(&format!("audit entry {seq} is sealed by no head in the database")));
    // With a head of its own, unsigned...
    let conn = log.conn();
    let hash: String = conn.query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0)).unwrap();
    conn.execute("INSERT INTO audit_heads (seq, hash) VALUES (?1, ?2)", params![seq, hash]).unwrap();
    log.verify().code(1).stderr(
        mentions("the head at entry 6 is not signed, though the one at entry 5 is (a head in the database)")
            .and(mentions("audit entry 6 is newer than the anchor's last head")),
    );
    // ...and an unsigned line for it appended to the anchor: with the key,
    // a line after a signed one must be signed as well.
    let line = format!("{{\"seq\":{seq},\"hash\":\"{hash}\"}}\n");
    std::fs::OpenOptions::new().append(true).open(&log.anchor).unwrap().write_all(line.as_bytes()).unwrap();
    log.verify().code(1).stderr(mentions(
        "the head at entry 6 is not signed, though the one at entry 5 is (line 3 of the anchor)",
    ));
    // ...or signed with another key.
    let other = Log::new();
    let seq = forge_entry(&other.conn());
    let (key, signature): (String, String) = log
        .conn()
        .query_row("SELECT key, signature FROM audit_heads WHERE seq = 2", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    let conn = other.conn();
    let hash: String = conn.query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0)).unwrap();
    conn.execute(
        "INSERT INTO audit_heads (seq, hash, key, signature) VALUES (?1, ?2, ?3, ?4)",
        params![seq, hash, key, signature],
    )
    .unwrap();
    other
        .verify()
        .code(1)
        .stderr(mentions("the signature of a head in the database (entry 6) is not the key"));
}

#[test]
fn keygen_writes_a_private_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit.key");
    steward()
        .arg("keygen")
        .arg("-o")
        .arg(&key)
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("-----BEGIN PUBLIC KEY-----\n"))
        .stderr(mentions("keep it secret"));
    let written = std::fs::read_to_string(&key).unwrap();
    assert!(written.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    steward()
        .arg("keygen")
        .arg("-o")
        .arg(&key)
        .assert()
        .code(1)
        .stderr(mentions("already exists: a signing key is never overwritten"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), written);
}

#[test]
fn a_key_or_anchor_that_cannot_be_read_is_bad_input() {
    let log = Log::new();
    let verify = || {
        let mut cmd = steward();
        cmd.args(["audit", "verify", "--directory"]).arg(&log.db);
        cmd
    };
    verify()
        .args(["--public-key", "missing.pub"])
        .assert()
        .code(3)
        .stderr(mentions("cannot read `missing.pub`"));
    let not_a_key = file(log.path(), "not.pub", "hello\n");
    verify()
        .arg("--public-key")
        .arg(&not_a_key)
        .assert()
        .code(3)
        .stderr(mentions("is not an Ed25519 public key"));
    let first = std::fs::read_to_string(&log.anchor).unwrap();
    let anchor = file(log.path(), "bad.jsonl", &format!("{first}{{\"seq\": 5, \"hash\": 7}}\n"));
    verify()
        .arg("--anchor")
        .arg(&anchor)
        .assert()
        .code(3)
        .stderr(mentions("bad.jsonl` line 3, column").and(mentions("not an audit head")));
    // An apply whose key cannot be read applies nothing.
    log.plan("acme-lab", &["acme.Olivia"]);
    std::fs::remove_file(log.path().join("audit.key")).unwrap();
    let entries = audit(&log.db).len();
    steward_in(log.path())
        .args(["apply", "plan.json", "--confirm"])
        .assert()
        .code(3)
        .stderr(mentions("audit.key"));
    assert_eq!(audit(&log.db).len(), entries);
}

#[test]
fn a_log_of_an_older_schema_is_sealed_by_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let conn = Connection::open(&db).unwrap();
    for sql in &MIGRATIONS[..5] {
        conn.execute_batch(sql).unwrap();
    }
    conn.execute_batch("PRAGMA user_version = 5").unwrap();
    append(&conn, &change("acme.Leo")).unwrap();
    append(&conn, &change("acme.Uma")).unwrap();
    drop(conn);
    let verified = Store::open(&db).unwrap().verify_audit(Default::default()).unwrap();
    assert_eq!((verified.entries, verified.heads, verified.newest_head), (2, 1, Some(2)));
    assert_eq!(verified.findings, vec![]);
    steward().args(["audit", "verify", "--directory"]).arg(&db).assert().code(0);
}

#[test]
fn sync_apply_signs_and_anchors_its_head_too() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = file(
        dir.path(),
        "d.yaml",
        "environments:
  - { id: H, license: \"1\", kind: production }
  - { id: C, license: \"2\", kind: production }
users:
  - id: 1.Gwen
    home: H
    guest_license: true
    accounts:
      - { env: H, status: active, name: Gwen New, email: new@p.example }
      - { env: C, status: active, kind: guest, name: Gwen Old, email: old@p.example }
",
    );
    crate::support::import(&yaml, &dir.path().join("d.db"));
    steward_in(dir.path()).args(["keygen", "-o", "audit.key"]).assert().success();
    file(
        dir.path(),
        "steward.yaml",
        "directory: d.db\naudit: { signing_key: audit.key, anchor: anchor.jsonl }\n",
    );
    steward_in(dir.path())
        .args(["sync", "--apply"])
        .assert()
        .success()
        .stderr(mentions("audit head: {\"seq\":2,"));
    let anchor = std::fs::read_to_string(dir.path().join("anchor.jsonl")).unwrap();
    assert!(anchor.starts_with("{\"seq\":2,") && anchor.lines().count() == 1, "{anchor}");
    steward_in(dir.path())
        .args(["audit", "verify"])
        .assert()
        .code(0)
        .stdout(mentions("1 signed by the key").and(mentions("(1 head) matches the log")));
}
