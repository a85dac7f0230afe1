//! The directory in SQLite: the embedded store for large directories and
//! for everything that changes them.
//!
//! A `.db` file is opened in place (WAL mode, foreign keys on); its schema
//! is versioned by `PRAGMA user_version` and migrated forward on open. An
//! import is one transaction: it lands whole or not at all. The database
//! enforces what the YAML loader checks too (ids, owners with accounts,
//! unique e-mail per environment, G6), so a `.db` written by hand or by
//! another tool cannot hold what a YAML file could not.

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use super::audit::{Head, Signer, Verified, VerifyOptions};
use super::entities::{Entities, Lookup, LookupError};
use super::error::Error;
use super::index::{Hints, IdIndex, NO_HINT};
use super::memory::{AccountIndexes, asset_id};
use super::model::{Account, Asset, Attrs, Environment, Id, Reference, User};
use super::{Directory, DirectoryParts};

/// The schema, one migration per version; version N is `MIGRATIONS[N - 1]`.
/// Append only: a released migration never changes, so applying the first N
/// gives exactly the schema version N had (the migration tests rely on it).
pub const MIGRATIONS: &[&str] = &[
    // 1: the directory.
    r#"
    CREATE TABLE environments (
        id TEXT PRIMARY KEY,
        license TEXT NOT NULL,
        kind TEXT NOT NULL,
        identity TEXT NOT NULL,
        idp_active INTEGER NOT NULL,
        anonymous_access INTEGER NOT NULL,
        attrs TEXT NOT NULL
    );
    CREATE INDEX environments_by_license ON environments(license);
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        home TEXT NOT NULL REFERENCES environments(id) DEFERRABLE INITIALLY DEFERRED,
        guest_license INTEGER NOT NULL,
        desktop_access INTEGER NOT NULL,
        employment_end TEXT,
        idp_subject TEXT,
        attrs TEXT NOT NULL
    );
    CREATE INDEX users_by_idp_subject ON users(idp_subject);
    CREATE TABLE accounts (
        user TEXT NOT NULL REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED,
        env TEXT NOT NULL REFERENCES environments(id) DEFERRABLE INITIALLY DEFERRED,
        status TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT,
        roles TEXT NOT NULL,
        portal INTEGER NOT NULL,
        invited_until TEXT,
        attrs TEXT NOT NULL,
        UNIQUE (user, env)
    );
    CREATE INDEX accounts_by_env ON accounts(env);
    CREATE UNIQUE INDEX accounts_unique_email ON accounts(env, lower(email)) WHERE email IS NOT NULL;
    CREATE TABLE assets (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        env TEXT NOT NULL REFERENCES environments(id) DEFERRABLE INITIALLY DEFERRED,
        owner TEXT,
        space_type TEXT,
        space TEXT REFERENCES assets(id) DEFERRABLE INITIALLY DEFERRED,
        attrs TEXT NOT NULL,
        FOREIGN KEY (owner, env) REFERENCES accounts(user, env) DEFERRABLE INITIALLY DEFERRED
    );
    CREATE INDEX assets_by_owner ON assets(owner, env);
    CREATE INDEX assets_by_space ON assets(space);
    CREATE TABLE asset_uses (
        asset TEXT NOT NULL REFERENCES assets(id) DEFERRABLE INITIALLY DEFERRED,
        position INTEGER NOT NULL,
        uses TEXT NOT NULL REFERENCES assets(id) DEFERRABLE INITIALLY DEFERRED,
        PRIMARY KEY (asset, position)
    );
    CREATE INDEX asset_uses_by_used ON asset_uses(uses);
    CREATE TABLE record_references (
        tbl TEXT NOT NULL,
        env TEXT NOT NULL,
        user TEXT NOT NULL,
        rows INTEGER NOT NULL,
        FOREIGN KEY (user, env) REFERENCES accounts(user, env) DEFERRABLE INITIALLY DEFERRED
    );
    CREATE INDEX record_references_by_account ON record_references(user, env);
    "#,
    // 2: a record of every import, for `steward show` and plan digests.
    r#"
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        source TEXT NOT NULL,
        mode TEXT NOT NULL,
        accounts INTEGER NOT NULL
    );
    "#,
    // 3: applied plans: assets can be disabled (Q4), and every change is
    // written to an append-only, hash-chained audit log (C2, Q8, D6).
    r#"
    ALTER TABLE assets ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        env TEXT NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT NOT NULL,
        plan_digest TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_by_target ON audit(target);
    CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    "#,
    // 4: a generation, raised by every import and apply in its own
    // transaction, so that two read transactions can tell whether they see
    // the same directory (a load reads on two connections at once).
    r#"
    CREATE TABLE generation (n INTEGER NOT NULL);
    INSERT INTO generation (n) VALUES (0);
    "#,
    // 5: row hints. Beside the ids that link an asset to its owner and its
    // space, and a reference to its account, the rowid of the row they
    // name, so that a load finds it by position instead of hashing the id.
    // A hint is only ever a guess: it is checked against the ids before it
    // is used, and the id looked up when it is stale or missing, so nothing depends on
    // it being right (no trigger keeps it; imports and apply write it).
    r#"
    ALTER TABLE assets ADD COLUMN owner_row INTEGER;
    ALTER TABLE assets ADD COLUMN space_row INTEGER;
    ALTER TABLE record_references ADD COLUMN account_row INTEGER;
    UPDATE assets SET owner_row =
        (SELECT a.rowid FROM accounts a WHERE a.user = assets.owner AND a.env = assets.env)
        WHERE owner IS NOT NULL;
    UPDATE assets SET space_row = (SELECT s.rowid FROM assets s WHERE s.id = assets.space)
        WHERE space IS NOT NULL;
    UPDATE record_references SET account_row =
        (SELECT a.rowid FROM accounts a WHERE a.user = record_references.user AND a.env = record_references.env);
    "#,
    // 6: the audit log's heads (#15). Every apply seals the last entry it
    // appended (its seq and hash), signed when a key is configured, so that
    // what the chain proves can be checked against a key and an anchor
    // outside this file. Append-only like the log. A log of an older
    // schema is sealed as it is, unsigned.
    r#"
    CREATE TABLE audit_heads (
        seq INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        key TEXT,
        signature TEXT
    );
    CREATE TRIGGER audit_heads_are_append_only_update BEFORE UPDATE ON audit_heads
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_heads_are_append_only_delete BEFORE DELETE ON audit_heads
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    INSERT INTO audit_heads (seq, hash) SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1;
    "#,
    // 7: the schema (the declared model) each import was read for (#16).
    r#"
    ALTER TABLE imports ADD COLUMN model TEXT;
    "#,
    // 8: the attributes of the source systems are the standard schema's
    // declared attributes (#16): the columns move into `attrs`, each
    // written only where it is not its default, as an import writes it.
    r#"
    UPDATE environments SET attrs = json_set(attrs, '$.identity', identity) WHERE identity <> 'invitations';
    UPDATE environments SET attrs = json_set(attrs, '$.idp_active', json('true')) WHERE idp_active;
    UPDATE environments SET attrs = json_set(attrs, '$.anonymous_access', json('true')) WHERE anonymous_access;
    UPDATE users SET attrs = json_set(attrs, '$.guest_license', json('true')) WHERE guest_license;
    UPDATE users SET attrs = json_set(attrs, '$.desktop_access', json('true')) WHERE desktop_access;
    UPDATE users SET attrs = json_set(attrs, '$.employment_end', employment_end) WHERE employment_end IS NOT NULL;
    UPDATE users SET attrs = json_set(attrs, '$.idp_subject', idp_subject) WHERE idp_subject IS NOT NULL;
    UPDATE accounts SET attrs = json_set(attrs, '$.portal', json('true')) WHERE portal;
    DROP INDEX users_by_idp_subject;
    ALTER TABLE environments DROP COLUMN identity;
    ALTER TABLE environments DROP COLUMN idp_active;
    ALTER TABLE environments DROP COLUMN anonymous_access;
    ALTER TABLE users DROP COLUMN guest_license;
    ALTER TABLE users DROP COLUMN desktop_access;
    ALTER TABLE users DROP COLUMN employment_end;
    ALTER TABLE users DROP COLUMN idp_subject;
    ALTER TABLE accounts DROP COLUMN portal;
    "#,
];

/// Raises the generation: every write transaction does it before it commits.
const NEXT_GENERATION: &str = "UPDATE generation SET n = n + 1";

/// The indexes that serve lookups but no constraint the import relies on
/// row by row; a replacing import drops them and builds them at the end.
/// Must match the schema above (the unique e-mail index is rebuilt too, and
/// still refuses duplicates, G6).
const DROP_SECONDARY_INDEXES: &str = "
    DROP INDEX environments_by_license; DROP INDEX accounts_by_env;
    DROP INDEX accounts_unique_email; DROP INDEX assets_by_owner; DROP INDEX assets_by_space;
    DROP INDEX asset_uses_by_used; DROP INDEX record_references_by_account;";

const CREATE_SECONDARY_INDEXES: &str = "
    CREATE INDEX environments_by_license ON environments(license);
    CREATE INDEX accounts_by_env ON accounts(env);
    CREATE UNIQUE INDEX accounts_unique_email ON accounts(env, lower(email)) WHERE email IS NOT NULL;
    CREATE INDEX assets_by_owner ON assets(owner, env);
    CREATE INDEX assets_by_space ON assets(space);
    CREATE INDEX asset_uses_by_used ON asset_uses(uses);
    CREATE INDEX record_references_by_account ON record_references(user, env);";

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How [`Store::import`] treats what is already stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Add to the stored directory instead of replacing it; an id that
    /// exists already is an error.
    pub append: bool,
    /// The digest of the schema the directory was read for
    /// (`Schema::digest`), recorded with the import.
    pub model: Option<String>,
}

pub use super::mutation::{AccountField, Mutation};

/// The database as a write transaction sees it, with the write lock held
/// ([`Store::write_locked`]).
#[derive(Debug)]
pub struct Locked<'a> {
    conn: &'a Connection,
    path: &'a Path,
}

impl Locked<'_> {
    /// The generation of the directory the transaction sees.
    pub fn generation(&self) -> Result<i64, Error> {
        generation(self.conn).map_err(|e| store_error(self.path, e))
    }

    /// The first audit entry of the plan of `digest`, with its time: the
    /// plan was applied.
    pub fn first_entry_of_plan(&self, digest: &str) -> Result<Option<(i64, String)>, Error> {
        self.conn
            .query_row(
                "SELECT seq, at FROM audit WHERE plan_digest = ?1 ORDER BY seq LIMIT 1",
                [digest],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| store_error(self.path, e))
    }
}

/// A directory in SQLite.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Signs the audit log's head after each apply.
    signer: Option<Signer>,
}

/// The schema version of the database at `path` when opening it would
/// migrate it (an existing directory of an older schema), so that a caller
/// can say so before a migration that takes a while; `None` for a current,
/// a newer, a new or an unreadable file (opening says what is wrong).
pub fn pending_migration(path: &Path) -> Option<i64> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).ok()?;
    (1..SCHEMA_VERSION).contains(&version).then_some(version)
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let conn = Connection::open(path).map_err(|e| store_error(path, e))?;
        let store = Store { conn, path: path.to_path_buf(), signer: None };
        store.configure(true)?;
        Ok(store)
    }

    /// Opens the steward database at `path` to read it or apply to it:
    /// never creates one. A missing file, an empty one, one that is not
    /// SQLite, and a SQLite database without steward's tables (another
    /// program's) are refused before anything is written to them; a
    /// database of an older schema is migrated, as [`Store::open`] does.
    pub fn open_existing(path: &Path) -> Result<Self, Error> {
        let not_a_directory =
            |reason: &str| Error::NotADirectory { path: path.to_path_buf(), reason: reason.into() };
        match std::fs::metadata(path) {
            Err(source) => return Err(Error::Io { path: path.to_path_buf(), source }),
            Ok(meta) if meta.len() == 0 => return Err(not_a_directory("the file is empty")),
            Ok(_) => {}
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| store_error(path, e))?;
        let version = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0));
        let tables = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('environments', 'users', 'accounts')",
            [],
            |r| r.get::<_, i64>(0),
        );
        match (version, tables) {
            (Ok(_), Ok(3)) => {}
            (Ok(_), Ok(_)) => {
                return Err(not_a_directory("it is a SQLite database without a directory in it"));
            }
            (Err(_), _) | (_, Err(_)) => return Err(not_a_directory("it is not a SQLite database")),
        }
        let store = Store { conn, path: path.to_path_buf(), signer: None };
        store.configure(true)?;
        Ok(store)
    }

    /// An empty database in memory (tests, YAML directories that need SQL).
    pub fn in_memory() -> Result<Self, Error> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| store_error(&path, e))?;
        let store = Store { conn, path, signer: None };
        store.configure(false)?;
        Ok(store)
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64, Error> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        store_error(&self.path, e)
    }

    fn configure(&self, file: bool) -> Result<(), Error> {
        if file {
            self.conn
                .pragma_update(None, "journal_mode", "WAL")
                .and_then(|()| self.conn.pragma_update(None, "synchronous", "NORMAL"))
                .map_err(|e| self.err(e))?;
        }
        self.conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| self.err(e))?;
        self.migrate()
    }

    fn migrate(&self) -> Result<(), Error> {
        let version = self.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let start = usize::try_from(version).unwrap_or(0);
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
            let next = index + 1;
            let batch = format!("BEGIN; {sql}; PRAGMA user_version = {next}; COMMIT;");
            if let Err(e) = self.conn.execute_batch(&batch) {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(self.err(e));
            }
        }
        Ok(())
    }

    /// Stores `directory` in one transaction: all of it or, on any error,
    /// nothing (the database is left as it was). `source` names where it
    /// came from, for the import record.
    pub fn import(
        &mut self,
        directory: &Directory,
        source: &str,
        options: ImportOptions,
    ) -> Result<(), Error> {
        let path = self.path.clone();
        // A bulk load is faster with a large page cache, and with the
        // secondary indexes built once at the end rather than row by row.
        self.conn.pragma_update(None, "cache_size", -262_144).map_err(|e| store_error(&path, e))?;
        let tx = self.conn.transaction().map_err(|e| store_error(&path, e))?;
        if !options.append {
            tx.execute_batch(
                "DELETE FROM record_references; DELETE FROM asset_uses; DELETE FROM assets;
                 DELETE FROM accounts; DELETE FROM users; DELETE FROM environments;",
            )
            .map_err(|e| store_error(&path, e))?;
            tx.execute_batch(DROP_SECONDARY_INDEXES).map_err(|e| store_error(&path, e))?;
        }
        insert_all(&tx, directory).map_err(|failure| failure.into_error(&path))?;
        if !options.append {
            tx.execute_batch(CREATE_SECONDARY_INDEXES).map_err(|e| {
                ImportFailure { what: "the imported accounts".into(), error: e }.into_error(&path)
            })?;
        }
        tx.execute(
            "INSERT INTO imports (at, source, mode, accounts, model) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                Timestamp::now().to_string(),
                source,
                if options.append { "append" } else { "replace" },
                directory.accounts().len() as i64,
                options.model
            ],
        )
        .map_err(|e| store_error(&path, e))?;
        tx.execute(NEXT_GENERATION, []).map_err(|e| store_error(&path, e))?;
        // Deferred foreign keys are checked here: a dangling reference
        // fails the whole import.
        tx.commit().map_err(|e| store_error(&path, e))
    }

    /// Reads the whole directory, in the order it was stored, as one
    /// consistent snapshot.
    ///
    /// A database file is read on two cores: a second, read-only connection
    /// reads the first assets in a thread of its own while this one reads
    /// everything else and then the last assets, split so that both take
    /// about as long ([`asset_split`]). Both read in a transaction, and their rows are used
    /// together only when they show the same generation (no import or apply
    /// came between them); otherwise all the assets are read again here, in
    /// this snapshot.
    pub fn load(&self) -> Result<Directory, Error> {
        // Rolled back on drop: a load only reads.
        let snapshot = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        read_directory(&self.path, &snapshot)
    }

    /// Decides a change with the database's write lock held from the first
    /// read to the commit (`BEGIN IMMEDIATE`): `decide` is given the stored
    /// directory and the connection, and returns the mutations and audit
    /// entries to write, which are executed in the same transaction. A
    /// second writer waits for the lock (up to `busy`), then sees the
    /// first one's changes: nothing can change between the check and the
    /// write. An error from `decide` writes nothing.
    pub fn write_locked<T, E>(
        &mut self,
        busy: std::time::Duration,
        decide: impl FnOnce(Directory, &Locked<'_>) -> Result<(Vec<Mutation>, Vec<super::audit::Change>, T), E>,
    ) -> Result<(T, Option<super::audit::Head>), E>
    where
        E: From<Error>,
    {
        let path = self.path.clone();
        let e = |e| store_error(&path, e);
        self.conn.busy_timeout(busy).map_err(e)?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(e)?;
        let directory = read_directory(&path, &tx)?;
        let (mutations, audit, out) = decide(directory, &Locked { conn: &tx, path: &path })?;
        let head = execute(&tx, &mutations, &audit, self.signer.as_ref()).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok((out, head))
    }

    /// [`Store::write_locked`] for a writer that keeps the directory in
    /// memory between its writes (the SCIM gateway): the stored directory is
    /// read only when its generation is not `known` (another writer came
    /// between), and `decide` is given `None` when the caller's copy is the
    /// stored one. Returns the generation after the commit, which is the
    /// caller's copy's once it applied the same mutations.
    pub fn write_locked_since<T, E>(
        &mut self,
        busy: std::time::Duration,
        known: Option<i64>,
        decide: impl FnOnce(
            Option<Directory>,
            &Locked<'_>,
        ) -> Result<(Vec<Mutation>, Vec<super::audit::Change>, T), E>,
    ) -> Result<(T, Option<super::audit::Head>, i64), E>
    where
        E: From<Error>,
    {
        let path = self.path.clone();
        let e = |e| store_error(&path, e);
        self.conn.busy_timeout(busy).map_err(e)?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(e)?;
        let stored = generation(&tx).map_err(e)?;
        let directory = if known == Some(stored) { None } else { Some(read_directory(&path, &tx)?) };
        let (mutations, audit, out) = decide(directory, &Locked { conn: &tx, path: &path })?;
        let head = execute(&tx, &mutations, &audit, self.signer.as_ref()).map_err(e)?;
        let after = generation(&tx).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok((out, head, after))
    }

    /// [`Store::load`], with the generation of the snapshot it read (for
    /// [`Store::write_locked_since`]).
    pub fn load_at(&self) -> Result<(Directory, i64), Error> {
        let snapshot = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let seen = generation(&snapshot).map_err(|e| self.err(e))?;
        Ok((read_directory(&self.path, &snapshot)?, seen))
    }

    /// The last import: when, from where, replace or append.
    pub fn last_import(&self) -> Result<Option<(String, String, String)>, Error> {
        self.conn
            .query_row("SELECT at, source, mode FROM imports ORDER BY id DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The digest of the schema the last import was read for, when it
    /// recorded one.
    pub fn imported_model(&self) -> Result<Option<String>, Error> {
        self.conn
            .query_row("SELECT model FROM imports ORDER BY id DESC LIMIT 1", [], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// Signs the audit log's head after each [`Store::apply`] with `signer`.
    pub fn set_signer(&mut self, signer: Option<Signer>) {
        self.signer = signer;
    }

    /// Executes `mutations` and appends `audit` entries in ONE transaction:
    /// everything or, on any error, nothing. The log's new head is sealed
    /// in the same transaction (signed when the store has a signer) and
    /// returned; `None` when nothing was appended.
    pub fn apply(
        &mut self,
        mutations: &[Mutation],
        audit: &[super::audit::Change],
    ) -> Result<Option<Head>, Error> {
        let path = self.path.clone();
        let e = |e| store_error(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        let head = execute(&tx, mutations, audit, self.signer.as_ref()).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(head)
    }

    /// The audit log, in order; only entries about `user` when given.
    pub fn audit(&self, user: Option<&str>) -> Result<Vec<super::audit::Entry>, Error> {
        super::audit::entries(&self.conn, user).map_err(|e| self.err(e))
    }

    /// Checks the audit log: its hash chain, the schema that guards it
    /// (against a database made by this build), its heads, and what
    /// `options` adds (a public key, an anchor).
    pub fn verify_audit(&self, options: VerifyOptions<'_>) -> Result<Verified, Error> {
        let fresh = Store::in_memory()?;
        let expected = super::audit::schema(&fresh.conn).map_err(|e| fresh.err(e))?;
        super::audit::verify(&self.conn, &expected, options).map_err(|e| self.err(e))
    }

    fn lookup<T>(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
        row: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, LookupError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(lookup_error)?;
        stmt.query_row(args, row).optional().map_err(lookup_error)
    }
}

impl Entities for Store {
    fn environment(&self, id: &str) -> Lookup<'_, Environment> {
        Ok(self.lookup("SELECT * FROM environments WHERE id = ?1", &[&id], environment_row)?.map(Cow::Owned))
    }

    fn user(&self, id: &str) -> Lookup<'_, User> {
        Ok(self.lookup("SELECT * FROM users WHERE id = ?1", &[&id], user_row)?.map(Cow::Owned))
    }

    fn account(&self, user: &str, env: &str) -> Lookup<'_, Account> {
        Ok(self
            .lookup("SELECT * FROM accounts WHERE user = ?1 AND env = ?2", &[&user, &env], account_row)?
            .map(Cow::Owned))
    }

    fn asset(&self, id: &str) -> Lookup<'_, Asset> {
        let Some(mut asset) = self.lookup("SELECT * FROM assets WHERE id = ?1", &[&id], asset_row)? else {
            return Ok(None);
        };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT uses FROM asset_uses WHERE asset = ?1 ORDER BY position")
            .map_err(lookup_error)?;
        asset.uses = stmt
            .query_map([id], |r| self::id(r, 0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<Id>>>())
            .map_err(lookup_error)?;
        Ok(Some(Cow::Owned(asset)))
    }

    fn for_each_account(
        &self,
        env: &str,
        visit: &mut dyn FnMut(&Account) -> ControlFlow<()>,
    ) -> Result<(), LookupError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM accounts WHERE env = ?1 ORDER BY rowid")
            .map_err(lookup_error)?;
        let mut rows = stmt.query([env]).map_err(lookup_error)?;
        while let Some(row) = rows.next().map_err(lookup_error)? {
            let account = account_row(row).map_err(lookup_error)?;
            if visit(&account).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// Every row of a statement without parameters.
/// A text column as an [`Id`], read in place: no `String` in between.
fn id(r: &Row<'_>, column: usize) -> rusqlite::Result<Id> {
    Ok(Id::from(r.get_ref(column)?.as_str()?))
}

/// A nullable text column as an [`Id`].
fn optional_id(r: &Row<'_>, column: usize) -> rusqlite::Result<Option<Id>> {
    Ok(r.get_ref(column)?.as_str_or_null()?.map(Id::from))
}

/// The generation of the directory this connection sees.
fn generation(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT n FROM generation", [], |r| r.get(0))
}

/// Environments, users, accounts and references, in the order stored,
/// with the accounts' rowids and the references' row hints.
fn read_all_but_assets(conn: &Connection) -> rusqlite::Result<(DirectoryParts, StoredRows)> {
    let rows = |table: &str| rows_of(conn, table);
    let accounts = rows("accounts")?;
    let mut stored = StoredRows {
        accounts: Vec::with_capacity(accounts.capacity::<Account>(i64::MIN, i64::MAX)),
        ..StoredRows::default()
    };
    let parts = DirectoryParts {
        environments: rows("environments")?
            .read("SELECT * FROM environments ORDER BY rowid", environment_row)?,
        users: rows("users")?.read("SELECT * FROM users ORDER BY rowid", user_row)?,
        accounts: accounts.read("SELECT *, rowid FROM accounts ORDER BY rowid", |r| {
            stored.accounts.push(r.get(ACCOUNT_COLUMNS)?);
            account_row(r)
        })?,
        assets: Vec::new(),
        references: rows("record_references")?.read(
            "SELECT tbl, env, user, rows, account_row FROM record_references ORDER BY rowid",
            |r| {
                stored.reference_accounts.push(hint(r, 4)?);
                Ok(Reference {
                    table: id(r, 0)?,
                    env: id(r, 1)?,
                    user: id(r, 2)?,
                    rows: r.get::<_, i64>(3)?.max(0) as u64,
                })
            },
        )?,
    };
    Ok((parts, stored))
}

/// The columns of `accounts` that [`account_row`] reads; a load reads the
/// rowid after them.
const ACCOUNT_COLUMNS: usize = 9;

/// The columns of `assets` before the row hints, those [`asset_row`] reads.
const ASSET_COLUMNS: usize = 8;

/// A row hint that is NULL: no row has this rowid after an import.
const NO_ROW: i64 = i64::MIN;

/// A row hint; anything but an integer (a database edited by hand) is no
/// hint: a hint may slow a load down, never make it fail.
fn hint(r: &Row<'_>, column: usize) -> rusqlite::Result<i64> {
    Ok(r.get_ref(column)?.as_i64_or_null().ok().flatten().unwrap_or(NO_ROW))
}

/// What a load reads besides the entities: rowids, to turn row hints into
/// positions, and the hints themselves (migration 5), in load order.
#[derive(Debug, Default)]
struct StoredRows {
    /// Per account: its rowid.
    accounts: Vec<i64>,
    /// Per reference: the rowid of its account, as hinted.
    reference_accounts: Vec<i64>,
}

/// Assets as read, in rowid order, with their rowids and row hints.
#[derive(Debug, Default)]
struct AssetRows {
    assets: Vec<Asset>,
    rowids: Vec<i64>,
    owners: Vec<i64>,
    spaces: Vec<i64>,
}

impl AssetRows {
    fn with_capacity(capacity: usize) -> Self {
        AssetRows {
            assets: Vec::with_capacity(capacity),
            rowids: Vec::with_capacity(capacity),
            owners: Vec::with_capacity(capacity),
            spaces: Vec::with_capacity(capacity),
        }
    }

    fn append(&mut self, other: &mut AssetRows) {
        self.assets.append(&mut other.assets);
        self.rowids.append(&mut other.rowids);
        self.owners.append(&mut other.owners);
        self.spaces.append(&mut other.spaces);
    }
}

/// Positions of a table's rows by rowid, from its rowids in load order
/// (ascending). After an import they run without gaps, and a position is
/// an offset from the first; after rows were deleted, a binary search.
struct RowPositions<'r>(&'r [i64]);

impl RowPositions<'_> {
    /// The position of the row with `rowid`, or [`NO_HINT`] when there is none.
    fn of(&self, rowid: i64) -> u32 {
        let Some(&first) = self.0.first() else { return NO_HINT };
        let offset = usize::try_from(rowid.wrapping_sub(first)).ok();
        let position = match offset.and_then(|o| self.0.get(o).map(|&r| (o, r))) {
            Some((o, r)) if r == rowid => Some(o),
            _ => self.0.binary_search(&rowid).ok(),
        };
        position.and_then(|p| u32::try_from(p).ok()).unwrap_or(NO_HINT)
    }

    fn all(&self, rowids: &[i64]) -> Vec<u32> {
        rowids.iter().map(|&r| self.of(r)).collect()
    }
}

/// A table's rowid range, to size what is read from it: a vector of a
/// million entities grown by doubling is copied and faulted in twice over.
#[derive(Debug, Clone, Copy)]
struct Rows<'c> {
    conn: &'c Connection,
    first: i64,
    last: i64,
    /// The database's size in bytes (see [`Rows::capacity`]).
    file: i64,
}

fn rows_of<'c>(conn: &'c Connection, table: &str) -> rusqlite::Result<Rows<'c>> {
    // Two queries: SQLite answers a lone min() or max() from the end of
    // the table's b-tree, but scans the whole table for both at once.
    let end = |sql: &str| conn.query_row(&format!("SELECT {sql} FROM {table}"), [], |r| r.get::<_, i64>(0));
    let (first, last) = (end("coalesce(min(rowid), 1)")?, end("coalesce(max(rowid), 0)")?);
    let pragma = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
    let file = pragma("page_count")?.saturating_mul(pragma("page_size")?);
    Ok(Rows { conn, first, last, file })
}

impl Rows<'_> {
    /// Room for the `T`s of the rows with `after < rowid <= upto`. A
    /// hand-made database may hold a rowid far beyond its row count, so the
    /// room is also bounded by the file: twice its size in `T`s, more than
    /// its rows take in memory. Past that, a vector grows as usual.
    fn capacity<T>(&self, after: i64, upto: i64) -> usize {
        let span = upto.min(self.last).saturating_sub(after.max(self.first.saturating_sub(1)));
        let fits = self.file.saturating_mul(2) / i64::try_from(size_of::<T>().max(1)).unwrap_or(i64::MAX);
        usize::try_from(span.clamp(0, fits)).unwrap_or(0)
    }

    /// Every row of `sql` (no parameters), decoded by `row`.
    fn read<T>(
        &self,
        sql: &str,
        row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>> {
        let mut stmt = self.conn.prepare(sql)?;
        let mut out = Vec::with_capacity(self.capacity::<T>(i64::MIN, i64::MAX));
        for item in stmt.query_map([], row)? {
            out.push(item?);
        }
        Ok(out)
    }
}

/// The rowid at which the assets are split between the two connections:
/// the second reads those up to it, the first everything else and then the
/// assets after it, so that both take about as long (rowids as row counts:
/// cheap, and close enough after an import).
fn asset_split(conn: &Connection) -> rusqlite::Result<i64> {
    let mut others = 0;
    for table in ["users", "accounts", "record_references"] {
        others = rows_of(conn, table)?.last.saturating_add(others);
    }
    let assets = rows_of(conn, "assets")?.last;
    // An asset row takes longer to read than a user, account or reference
    // row: 0.83 against 0.50 µs at a million accounts (ten columns, three
    // of them ids, and its row hints).
    let others_as_assets = others.saturating_mul(OTHER_ROW_COST) / ASSET_ROW_COST;
    Ok((assets.saturating_add(others_as_assets) / 2).min(assets))
}

/// What reading a row costs, relatively, for [`asset_split`].
const ASSET_ROW_COST: i64 = 5;
const OTHER_ROW_COST: i64 = 3;

/// The assets up to rowid `split`, on a read-only connection of their own,
/// in a read transaction, with the generation that transaction sees. Their
/// vectors have room for every asset: the others are appended to them.
fn read_first_assets_beside(path: &Path, split: i64) -> rusqlite::Result<(i64, AssetRows)> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    let snapshot = conn.unchecked_transaction()?;
    let seen = generation(&snapshot)?;
    let mut assets =
        AssetRows::with_capacity(rows_of(&snapshot, "assets")?.capacity::<Asset>(i64::MIN, i64::MAX));
    read_asset_rows(&snapshot, i64::MIN, split, &mut assets)?;
    Ok((seen, assets))
}

/// The assets with `after < rowid <= upto`, in the order stored, without
/// what they use (see [`read_uses_in_stored_order`]).
fn assets_between(conn: &Connection, after: i64, upto: i64) -> rusqlite::Result<AssetRows> {
    let mut assets = AssetRows::with_capacity(rows_of(conn, "assets")?.capacity::<Asset>(after, upto));
    read_asset_rows(conn, after, upto, &mut assets)?;
    Ok(assets)
}

/// Appends the assets with `after < rowid <= upto` to `assets`.
fn read_asset_rows(conn: &Connection, after: i64, upto: i64, assets: &mut AssetRows) -> rusqlite::Result<()> {
    let mut stmt =
        conn.prepare("SELECT *, rowid FROM assets WHERE rowid > ?1 AND rowid <= ?2 ORDER BY rowid")?;
    let mut rows = stmt.query([after, upto])?;
    while let Some(r) = rows.next()? {
        assets.assets.push(asset_row(r)?);
        assets.owners.push(hint(r, ASSET_COLUMNS)?);
        assets.spaces.push(hint(r, ASSET_COLUMNS + 1)?);
        assets.rowids.push(r.get(ASSET_COLUMNS + 2)?);
    }
    Ok(())
}

/// What each asset uses, as (asset position, used id), reading the rows in
/// the order they were stored. An import writes an asset's rows right after
/// the asset, in position order, so each row's asset is the one at hand or
/// further on: found by walking forward, not by hashing its id (a million
/// random lookups). None when the rows are in any other order (an asset's
/// rows apart or out of position order, an asset behind the walk): then
/// they must be read by position.
fn read_uses_in_stored_order(
    conn: &Connection,
    assets: &[Asset],
) -> rusqlite::Result<Option<Vec<(usize, Id)>>> {
    let mut stmt = conn.prepare("SELECT asset, position, uses FROM asset_uses ORDER BY rowid")?;
    let mut rows = stmt.query([])?;
    let mut uses =
        Vec::with_capacity(rows_of(conn, "asset_uses")?.capacity::<(usize, Id)>(i64::MIN, i64::MAX));
    let (mut at, mut last): (usize, Option<(usize, i64)>) = (0, None);
    while let Some(row) = rows.next()? {
        let asset = text(row, 0)?;
        let position: i64 = row.get(1)?;
        let Some(found) = assets.get(at..).and_then(|rest| rest.iter().position(|a| a.id == asset)) else {
            return Ok(None);
        };
        let i = at + found;
        if matches!(last, Some((previous, before)) if previous == i && position <= before) {
            return Ok(None);
        }
        uses.push((i, id(row, 2)?));
        (at, last) = (i, Some((i, position)));
    }
    Ok(Some(uses))
}

/// Attaches what each asset uses, in position order, looking each asset up.
fn attach_uses_by_position(conn: &Connection, assets: &mut [Asset], index: &IdIndex) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT asset, uses FROM asset_uses ORDER BY asset, position")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let asset = text(row, 0)?;
        if let Some(a) = index.get(assets, asset_id, asset).and_then(|i| assets.get_mut(i)) {
            a.uses.push(id(row, 1)?);
        }
    }
    Ok(())
}

fn lookup_error(e: rusqlite::Error) -> LookupError {
    LookupError { message: e.to_string() }
}

fn store_error(path: &Path, e: rusqlite::Error) -> Error {
    Error::Store { path: path.to_path_buf(), message: e.to_string() }
}

/// What failed during an import, and on which entity.
struct ImportFailure {
    what: String,
    error: rusqlite::Error,
}

impl ImportFailure {
    fn into_error(self, path: &Path) -> Error {
        let detail = match &self.error {
            rusqlite::Error::SqliteFailure(_, Some(text)) if text.contains("accounts_unique_email") => {
                format!(
                    "{}: its e-mail address is already used by another account of that environment (G6)",
                    self.what
                )
            }
            rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                format!("{} conflicts with what is stored ({})", self.what, self.error)
            }
            other => format!("{}: {other}", self.what),
        };
        Error::Store { path: path.to_path_buf(), message: detail }
    }
}

/// Inserts a user; the statement is cached, so a whole import prepares it once.
fn insert_user(tx: &Connection, u: &User) -> rusqlite::Result<usize> {
    tx.prepare_cached("INSERT INTO users VALUES (?1, ?2, ?3)")?.execute(params![
        u.id.as_str(),
        u.home.as_str(),
        json(&u.attrs)
    ])
}

/// Inserts an account (statement cached, as [`insert_user`]).
fn insert_account(tx: &Connection, a: &Account) -> rusqlite::Result<usize> {
    tx.prepare_cached("INSERT INTO accounts VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?.execute(params![
        a.user.as_str(),
        a.env.as_str(),
        a.status.as_str(),
        a.kind.as_str(),
        a.name,
        a.email,
        serde_json::to_string(&a.roles).unwrap_or_else(|_| "[]".into()),
        a.invited_until.map(|t| t.to_string()),
        json(&a.attrs)
    ])
}

fn insert_all(tx: &rusqlite::Transaction<'_>, directory: &Directory) -> Result<(), ImportFailure> {
    let fail = |what: String| move |error| ImportFailure { what, error };
    let prepare = |sql: &str| tx.prepare(sql).map_err(fail("preparing the import".into()));
    let mut envs = prepare("INSERT INTO environments VALUES (?1, ?2, ?3, ?4)")?;
    for e in directory.environments() {
        envs.execute(params![e.id, e.license, e.kind.as_str(), json(&e.attrs)])
            .map_err(fail(format!("environment `{}`", e.id)))?;
    }
    for u in directory.users() {
        insert_user(tx, u).map_err(fail(format!("user `{}`", u.id)))?;
    }
    // The row hints (migration 5) of what this import links to: the rowid
    // of each account as inserted, and of each asset as it will be (rowids
    // are handed out in order, one past the largest; were they not, the
    // hints would be wrong, which costs a load lookups, nothing else).
    // What an appended file links to among the rows stored before it gets
    // no hint.
    let mut account_rows = Vec::with_capacity(directory.accounts().len());
    for a in directory.accounts() {
        insert_account(tx, a).map_err(fail(format!("the account of `{}` in `{}`", a.user, a.env)))?;
        account_rows.push(tx.last_insert_rowid());
    }
    let account_row =
        |user: &str, env: &str| directory.account_index(user, env).and_then(|i| account_rows.get(i)).copied();
    // In Rust, not SQL: at i64::MAX, SQLite's `+ 1` would be a real.
    let last_asset_row: i64 = tx
        .query_row("SELECT coalesce(max(rowid), 0) FROM assets", [], |r| r.get(0))
        .map_err(fail("preparing the import".into()))?;
    let asset_row = |id: &str| {
        let position = i64::try_from(directory.asset_index(id)?).ok()?;
        last_asset_row.checked_add(1)?.checked_add(position)
    };
    let mut assets = prepare(
        "INSERT INTO assets (id, kind, env, owner, space_type, space, attrs, disabled, owner_row, space_row)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut uses = prepare("INSERT INTO asset_uses VALUES (?1, ?2, ?3)")?;
    for a in directory.assets() {
        assets
            .execute(params![
                a.id.as_str(),
                a.kind.as_str(),
                a.env.as_str(),
                a.owner.as_deref(),
                a.space_type.as_deref(),
                a.space.as_deref(),
                json(&a.attrs),
                a.disabled,
                a.owner.as_deref().and_then(|owner| account_row(owner, &a.env)),
                a.space.as_deref().and_then(asset_row),
            ])
            .map_err(fail(format!("asset `{}`", a.id)))?;
        for (position, used) in a.uses.iter().enumerate() {
            uses.execute(params![a.id.as_str(), position as i64, used.as_str()])
                .map_err(fail(format!("`{}` uses `{used}`", a.id)))?;
        }
    }
    let mut references = prepare("INSERT INTO record_references VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for r in directory.references() {
        references
            .execute(params![
                r.table.as_str(),
                r.env.as_str(),
                r.user.as_str(),
                i64::try_from(r.rows).unwrap_or(i64::MAX),
                account_row(&r.user, &r.env),
            ])
            .map_err(fail(format!("the references of `{}` in `{}`", r.user, r.env)))?;
    }
    Ok(())
}

fn json(attrs: &Attrs) -> String {
    serde_json::to_string(attrs).unwrap_or_else(|_| "{}".into())
}

/// A text column, borrowed from the row: decoding a million rows should
/// not allocate a `String` per column only to parse it.
fn text<'r>(r: &'r Row<'_>, column: usize) -> rusqlite::Result<&'r str> {
    Ok(r.get_ref(column)?.as_str()?)
}

fn attrs(r: &Row<'_>, column: usize) -> rusqlite::Result<Attrs> {
    let text = text(r, column)?;
    // Most entities have none: skip the JSON parser for them.
    if text == "{}" {
        return Ok(Attrs::new());
    }
    serde_json::from_str(text).map_err(|e| corrupt(format!("attrs: {e}")))
}

fn corrupt(what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, what.into())
}

fn environment_row(r: &Row<'_>) -> rusqlite::Result<Environment> {
    Ok(Environment { id: r.get(0)?, license: r.get(1)?, kind: id(r, 2)?, attrs: attrs(r, 3)? })
}

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User { id: id(r, 0)?, home: id(r, 1)?, attrs: attrs(r, 2)? })
}

fn account_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    let roles = text(r, 6)?;
    let until = r.get_ref(7)?.as_str_or_null()?;
    Ok(Account {
        user: id(r, 0)?,
        env: id(r, 1)?,
        status: id(r, 2)?,
        kind: id(r, 3)?,
        name: r.get(4)?,
        email: r.get(5)?,
        roles: if roles == "[]" {
            Vec::new()
        } else {
            serde_json::from_str(roles).map_err(|e| corrupt(format!("roles: {e}")))?
        },
        invited_until: until
            .map(|t| t.parse::<Timestamp>().map_err(|e| corrupt(e.to_string())))
            .transpose()?,
        attrs: attrs(r, 8)?,
    })
}

fn asset_row(r: &Row<'_>) -> rusqlite::Result<Asset> {
    let space_type = r.get_ref(4)?.as_str_or_null()?;
    Ok(Asset {
        id: id(r, 0)?,
        kind: id(r, 1)?,
        env: id(r, 2)?,
        owner: optional_id(r, 3)?,
        space_type: space_type.map(Id::from),
        space: optional_id(r, 5)?,
        uses: Vec::new(),
        attrs: attrs(r, 6)?,
        disabled: r.get(7)?,
    })
}

/// Executes `mutations` and appends `audit` in the transaction `tx`, and
/// seals the log's new head (signed by `signer` when there is one).
fn execute(
    tx: &Connection,
    mutations: &[Mutation],
    audit: &[super::audit::Change],
    signer: Option<&super::audit::Signer>,
) -> rusqlite::Result<Option<super::audit::Head>> {
    for mutation in mutations {
        match mutation {
            Mutation::SetStatus { user, env, status } => tx.execute(
                "UPDATE accounts SET status = ?3 WHERE user = ?1 AND env = ?2",
                params![user, env, status.as_str()],
            ),
            Mutation::SetInvitedUntil { user, env, until } => tx.execute(
                "UPDATE accounts SET invited_until = ?3 WHERE user = ?1 AND env = ?2",
                params![user, env, until.to_string()],
            ),
            Mutation::Register { user, env, status } => tx.execute(
                "UPDATE accounts SET status = ?3, invited_until = NULL WHERE user = ?1 AND env = ?2",
                params![user, env, status.as_str()],
            ),
            Mutation::SetOwner { asset, owner } => tx.execute(
                "UPDATE assets SET owner = ?2, owner_row =
                    (SELECT a.rowid FROM accounts a WHERE a.user = ?2 AND a.env = assets.env)
                 WHERE id = ?1",
                params![asset, owner],
            ),
            Mutation::SetField { user, env, field, value } => {
                let sql = match field {
                    AccountField::Name => "UPDATE accounts SET name = ?3 WHERE user = ?1 AND env = ?2",
                    AccountField::Email => "UPDATE accounts SET email = ?3 WHERE user = ?1 AND env = ?2",
                };
                tx.execute(sql, params![user, env, value])
            }
            Mutation::CreateUser(u) => insert_user(tx, u),
            // Only a user without accounts: the statement cannot remove
            // anyone who still works somewhere.
            Mutation::DeleteUser { user } => tx.execute(
                "DELETE FROM users WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM accounts WHERE user = ?1)",
                params![user],
            ),
            // What refers to the account (a re-created account, a
            // reference kept) gets its row hint back.
            Mutation::CreateAccount(a) => insert_account(tx, a).and_then(|_| {
                tx.execute(
                    "UPDATE record_references SET account_row = last_insert_rowid() WHERE user = ?1 AND env = ?2",
                    params![a.user.as_str(), a.env.as_str()],
                )
            }),
            Mutation::SetKind { user, env, kind } => tx.execute(
                "UPDATE accounts SET kind = ?3 WHERE user = ?1 AND env = ?2",
                params![user, env, kind.as_str()],
            ),
            // The attribute's key and value as JSON: `json_set` keeps the
            // others, and the key is a declared name (an identifier).
            Mutation::SetAttr { user, env, name, value } => {
                let path = format!("$.\"{name}\"");
                let value = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
                match env {
                    Some(env) => tx.execute(
                        "UPDATE accounts SET attrs = json_set(attrs, ?3, json(?4)) WHERE user = ?1 AND env = ?2",
                        params![user, env, path, value],
                    ),
                    None => tx.execute(
                        "UPDATE users SET attrs = json_set(attrs, ?2, json(?3)) WHERE id = ?1",
                        params![user, path, value],
                    ),
                }
            }
            Mutation::SetRoles { user, env, roles } => {
                let mut roles = roles.clone();
                roles.sort_unstable();
                roles.dedup();
                let roles = serde_json::to_string(&roles).unwrap_or_else(|_| "[]".into());
                tx.execute("UPDATE accounts SET roles = ?3 WHERE user = ?1 AND env = ?2", params![user, env, roles])
            }
            Mutation::Disable { asset } => {
                tx.execute("UPDATE assets SET disabled = 1 WHERE id = ?1", params![asset])
            }
            // What sits in or uses a removed asset loses that link.
            Mutation::DeleteAsset { asset } => tx
                .execute("DELETE FROM asset_uses WHERE asset = ?1 OR uses = ?1", params![asset])
                .and_then(|_| {
                    tx.execute(
                        "UPDATE assets SET space = NULL, space_row = NULL WHERE space = ?1",
                        params![asset],
                    )
                })
                .and_then(|_| tx.execute("DELETE FROM assets WHERE id = ?1", params![asset])),
            Mutation::DeleteAccount { user, env } => tx
                .execute(
                    "UPDATE assets SET owner = NULL, owner_row = NULL WHERE owner = ?1 AND env = ?2",
                    params![user, env],
                )
                .and_then(|_| {
                    tx.execute("DELETE FROM accounts WHERE user = ?1 AND env = ?2", params![user, env])
                }),
        }?;
    }
    for change in audit {
        super::audit::append(tx, change)?;
    }
    let head = if audit.is_empty() { None } else { super::audit::seal(tx, signer)? };
    tx.execute(NEXT_GENERATION, [])?;
    Ok(head)
}

/// Reads the whole directory the transaction `snapshot` sees (see
/// [`Store::load`]).
fn read_directory(path: &Path, snapshot: &Connection) -> Result<Directory, Error> {
    let e = |e| store_error(path, e);
    let generation = generation(snapshot).map_err(e)?;
    let ((mut parts, stored), assets) = if path == Path::new(":memory:") {
        (read_all_but_assets(snapshot).map_err(e)?, None)
    } else {
        let split = asset_split(snapshot).map_err(e)?;
        std::thread::scope(|scope| {
            let beside = scope.spawn(move || read_first_assets_beside(path, split));
            let parts = read_all_but_assets(snapshot);
            let last = assets_between(snapshot, split, i64::MAX);
            // A second connection that failed is not an error: its
            // assets are read here instead.
            let first = beside.join().ok().and_then(Result::ok);
            match (parts, last) {
                (Ok(parts), Ok(mut last)) => Ok((
                    parts,
                    first.filter(|(seen, _)| *seen == generation).map(|(_, mut first)| {
                        first.append(&mut last);
                        first
                    }),
                )),
                (Err(error), _) | (_, Err(error)) => Err(error),
            }
        })
        .map_err(e)?
    };
    let AssetRows { mut assets, rowids, owners, spaces } = match assets {
        Some(assets) => assets,
        None => assets_between(snapshot, i64::MIN, i64::MAX).map_err(e)?,
    };
    // The assets' index and the accounts' indexes beside this thread,
    // which reads what each asset uses and turns row hints into
    // positions (the assets are only read by all three; the accounts'
    // roles are sorted by the one that indexes them, alone).
    let DirectoryParts { environments, users, accounts, .. } = &mut parts;
    let (index, account_indexes, uses, hints) = std::thread::scope(|scope| {
        let index = scope.spawn(|| IdIndex::build(&assets, asset_id));
        let account_indexes = scope.spawn(|| AccountIndexes::build(environments, users, accounts));
        let uses = read_uses_in_stored_order(snapshot, &assets);
        let accounts = RowPositions(&stored.accounts);
        let hints = Hints {
            asset_owner: accounts.all(&owners),
            asset_space: RowPositions(&rowids).all(&spaces),
            reference_account: accounts.all(&stored.reference_accounts),
        };
        (index.join(), account_indexes.join(), uses, hints)
    });
    // Indexing cannot panic (it hashes, and sorts roles); were it to, it
    // is done again here (sorting roles twice is harmless).
    let index = index.unwrap_or_else(|_| IdIndex::build(&assets, asset_id));
    let account_indexes = account_indexes
        .unwrap_or_else(|_| AccountIndexes::build(&parts.environments, &parts.users, &mut parts.accounts));
    match uses.map_err(e)? {
        Some(uses) => {
            for (position, used) in uses {
                if let Some(asset) = assets.get_mut(position) {
                    asset.uses.push(used);
                }
            }
        }
        None => attach_uses_by_position(snapshot, &mut assets, &index).map_err(e)?,
    }
    parts.assets = assets;
    Ok(Directory::assemble(parts, account_indexes, index, hints))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::generate::{GenerateOptions, generate};
    use crate::directory::model::AttrValue;

    fn generated(accounts: usize, seed: u64) -> Directory {
        generate(GenerateOptions { accounts, seed })
    }

    /// A loaded directory held to the standard schema, as `directory::load`
    /// holds it: its declared dates are dates again (JSON keeps them text).
    fn typed(directory: Directory) -> Directory {
        crate::directory::conform::directory(&crate::policy::declare::standard(), directory).unwrap()
    }

    /// What `load` relies on to read on two connections: a write between
    /// the two read transactions shows as a different generation, and the
    /// first transaction still sees the directory as it was.
    #[test]
    fn the_generation_tells_two_snapshots_apart() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/analytics.yaml");
        let directory = super::super::load(&examples, &crate::policy::declare::standard()).unwrap();
        let mut writer = Store::open(&db).unwrap();
        writer.import(&directory, "analytics", ImportOptions::default()).unwrap();
        let asset = directory.assets().iter().find(|a| a.owner.is_some()).unwrap().id.to_string();

        let reader = Store::open(&db).unwrap();
        let snapshot = reader.conn.unchecked_transaction().unwrap();
        let before = generation(&snapshot).unwrap();
        writer.apply(&[Mutation::SetOwner { asset: asset.clone(), owner: None }], &[]).unwrap();

        let (seen, beside) = read_first_assets_beside(&db, i64::MAX).unwrap();
        assert_eq!(seen, before + 1);
        let owner = |assets: &[Asset]| assets.iter().find(|a| a.id == asset).unwrap().owner.clone();
        assert_eq!(owner(&beside.assets), None);
        let mine = assets_between(&snapshot, i64::MIN, i64::MAX).unwrap().assets;
        assert!(owner(&mine).is_some(), "the first snapshot keeps the directory it started with");
        drop(snapshot);
        assert_eq!(owner(reader.load().unwrap().assets()), None);
    }

    /// Every edge of a graph, node by node, in order.
    fn edges_of(directory: &Directory) -> Vec<Vec<(crate::graph::Edge, usize)>> {
        let graph = crate::graph::ReferenceGraph::build(directory);
        (0..graph.node_count())
            .map(|n| {
                let node = petgraph::graph::NodeIndex::new(n);
                graph.outgoing(node).map(|(edge, to)| (edge, to.index())).collect()
            })
            .collect()
    }

    /// Row hints are only a shortcut: a load of a fresh import follows every
    /// one of them, and with hints that are wrong, missing or point past
    /// the tables the graph is still the graph of the directory in memory.
    #[test]
    fn row_hints_are_used_when_right_and_change_nothing_when_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        let directory = generated(3_000, 11);
        let expected = edges_of(&directory);
        let mut store = Store::open(&db).unwrap();
        store.import(&directory, "generated", ImportOptions::default()).unwrap();

        let links = directory.assets().iter().filter(|a| a.owner.is_some()).count()
            + directory.assets().iter().filter(|a| a.space.is_some()).count()
            + directory.references().len();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.hinted_links(), links, "every link of a fresh import is hinted right");
        assert_eq!(edges_of(&loaded), expected);

        for (wrong, hinted) in [
            (
                "UPDATE assets SET owner_row = owner_row + 1, space_row = space_row - 1;
              UPDATE record_references SET account_row = account_row + 7;",
                0,
            ),
            (
                "UPDATE assets SET owner_row = NULL, space_row = 1 << 40;
              UPDATE record_references SET account_row = -5;",
                0,
            ),
            (
                "UPDATE assets SET owner_row = 'the first', space_row = x'00';
              UPDATE record_references SET account_row = 2.5;",
                0,
            ),
        ] {
            store.conn.execute_batch(wrong).unwrap();
            let loaded = store.load().unwrap();
            assert_eq!(loaded.hinted_links(), hinted, "{wrong}");
            assert_eq!(edges_of(&loaded), expected, "{wrong}");
        }

        // A user deleted by hand with the foreign keys off: their accounts
        // are found by no lookup, so by no hint either, right as it is.
        store.import(&directory, "generated", ImportOptions::default()).unwrap();
        let owner = directory.assets().iter().find_map(|a| a.owner.clone()).unwrap();
        store.conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        store.conn.execute("DELETE FROM users WHERE id = ?1", [owner.as_str()]).unwrap();
        let loaded = store.load().unwrap();
        let unhinted = Directory::new(loaded.clone().into_parts());
        assert!(loaded.hinted_links() < links);
        assert_eq!(edges_of(&loaded), edges_of(&unhinted));
    }

    /// A rowid at the very end of its range: an append still imports (no
    /// hint overflows), and vectors are sized by the file, not by the rowid.
    #[test]
    fn rowids_at_the_end_of_their_range_break_neither_import_nor_load() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        let mut store = Store::open(&db).unwrap();
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let first = super::super::load(&examples.join("analytics.yaml"), &crate::policy::declare::standard())
            .unwrap();
        store.import(&first, "analytics", ImportOptions::default()).unwrap();
        store
            .conn
            .execute(
                "INSERT INTO assets (rowid, id, kind, env, attrs) VALUES (?1, 'far', 'alert', 'acme', '{}')",
                [i64::MAX],
            )
            .unwrap();
        let rows = rows_of(&store.conn, "assets").unwrap();
        assert!(rows.capacity::<Asset>(i64::MIN, i64::MAX) < 10_000, "sized by a file of a few pages");

        let second =
            super::super::load(&examples.join("crm.yaml"), &crate::policy::declare::standard()).unwrap();
        store.import(&second, "crm", ImportOptions { append: true, model: None }).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.assets().len(), first.assets().len() + second.assets().len() + 1);
        assert_eq!(edges_of(&loaded), edges_of(&Directory::new(loaded.clone().into_parts())));
    }

    /// Positions by rowid, with and without gaps.
    #[test]
    fn rows_are_found_by_rowid_with_and_without_gaps() {
        let contiguous = [4, 5, 6];
        assert_eq!(RowPositions(&contiguous).all(&[4, 6, 7, 3, NO_ROW]), [0, 2, NO_HINT, NO_HINT, NO_HINT]);
        let gaps = [1, 2, 5, 9];
        assert_eq!(
            RowPositions(&gaps).all(&[1, 5, 9, 3, 10, i64::MAX]),
            [0, 2, 3, NO_HINT, NO_HINT, NO_HINT]
        );
        assert_eq!(RowPositions(&[]).of(1), NO_HINT);
    }

    /// A database of schema 4 gets its hints from the migration, and apply
    /// keeps an asset's owner hint true when it gives the asset a new owner.
    #[test]
    fn the_migration_and_apply_write_row_hints() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("d.db");
        let directory = generated(60, 5);
        Store::open(&db).unwrap().import(&directory, "generated", ImportOptions::default()).unwrap();
        let wrong = |store: &Store| -> i64 {
            store
                .conn
                .query_row(
                    "SELECT (SELECT count(*) FROM assets x WHERE owner IS NOT NULL AND owner_row IS NOT
                        (SELECT a.rowid FROM accounts a WHERE a.user = x.owner AND a.env = x.env))
                     + (SELECT count(*) FROM assets x WHERE space IS NOT NULL AND space_row IS NOT
                        (SELECT s.rowid FROM assets s WHERE s.id = x.space))
                     + (SELECT count(*) FROM record_references r WHERE account_row IS NOT
                        (SELECT a.rowid FROM accounts a WHERE a.user = r.user AND a.env = r.env))",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };
        assert_eq!(wrong(&Store::open(&db).unwrap()), 0, "as imported");
        Connection::open(&db)
            .unwrap()
            .execute_batch(
                "ALTER TABLE assets DROP COLUMN owner_row; ALTER TABLE assets DROP COLUMN space_row;
                 ALTER TABLE record_references DROP COLUMN account_row; DROP TABLE audit_heads;
                 ALTER TABLE imports DROP COLUMN model;
                 ALTER TABLE environments ADD COLUMN identity TEXT NOT NULL DEFAULT 'invitations';
                 ALTER TABLE environments ADD COLUMN idp_active INTEGER NOT NULL DEFAULT 0;
                 ALTER TABLE environments ADD COLUMN anonymous_access INTEGER NOT NULL DEFAULT 0;
                 ALTER TABLE users ADD COLUMN guest_license INTEGER NOT NULL DEFAULT 0;
                 ALTER TABLE users ADD COLUMN desktop_access INTEGER NOT NULL DEFAULT 0;
                 ALTER TABLE users ADD COLUMN employment_end TEXT;
                 ALTER TABLE users ADD COLUMN idp_subject TEXT;
                 CREATE INDEX users_by_idp_subject ON users(idp_subject);
                 ALTER TABLE accounts ADD COLUMN portal INTEGER NOT NULL DEFAULT 0;
                 PRAGMA user_version = 4;",
            )
            .unwrap();
        let mut store = Store::open(&db).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(wrong(&store), 0, "as migrated");
        let in_spaces = directory.assets().iter().filter(|a| a.space.is_some()).count();
        assert!(in_spaces > 0 && !directory.references().is_empty());

        let asset = directory.assets().iter().find(|a| a.owner.is_some()).unwrap();
        let other =
            directory.accounts_in(&asset.env).find(|a| Some(&a.user) != asset.owner.as_ref()).unwrap();
        store
            .apply(
                &[Mutation::SetOwner { asset: asset.id.to_string(), owner: Some(other.user.to_string()) }],
                &[],
            )
            .unwrap();
        assert_eq!(wrong(&store), 0, "after apply");

        // An account removed and made again in one apply: what refers to
        // it points at the new row.
        let referred = &directory.references()[0];
        let account = directory.account(&referred.user, &referred.env).unwrap().clone();
        let again = [
            Mutation::DeleteAccount { user: account.user.to_string(), env: account.env.to_string() },
            Mutation::CreateAccount(account),
        ];
        store.apply(&again, &[]).unwrap();
        assert_eq!(wrong(&store), 0, "after an account is made again");
    }

    /// A database of schema 7 kept the source systems' attributes in
    /// columns (G3 portal access, G4 guest license, G9 desktop access, P5
    /// employment end, Q2 identity, D2 anonymous access, D5 the IdP
    /// subject): migration 8 moves each into `attrs` where it is not its
    /// default, keeps the free-form ones, and drops the columns.
    #[test]
    fn the_source_system_columns_move_into_attrs() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("old.db");
        let conn = Connection::open(&db).unwrap();
        for sql in MIGRATIONS.iter().take(7) {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            r#"PRAGMA user_version = 7;
            INSERT INTO environments VALUES ('A', 'L', 'production', 'idp', 1, 0, '{}');
            INSERT INTO environments VALUES ('B', 'L', 'test', 'invitations', 0, 1, '{"region":"eu"}');
            INSERT INTO users VALUES ('u', 'A', 1, 1, '2026-10-31', 'idp|7', '{}');
            INSERT INTO users VALUES ('v', 'B', 0, 0, NULL, NULL, '{"level":3}');
            INSERT INTO accounts VALUES ('u', 'A', 'active', 'normal', 'U', NULL, '[]', 1, NULL, '{}');
            INSERT INTO accounts VALUES ('v', 'B', 'active', 'normal', 'V', NULL, '[]', 0, NULL, '{}');"#,
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&db).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let columns = |table: &str| -> Vec<String> {
            let sql = format!("SELECT name FROM pragma_table_info('{table}')");
            let mut statement = store.conn.prepare(&sql).unwrap();
            statement.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        assert_eq!(columns("environments"), ["id", "license", "kind", "attrs"]);
        assert_eq!(columns("users"), ["id", "home", "attrs"]);
        assert!(!columns("accounts").contains(&"portal".to_owned()));
        let schema = crate::policy::declare::standard();
        let loaded = typed(store.load().unwrap());
        let attrs = |pairs: &[(&str, AttrValue)]| -> Attrs {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
        };
        let (a, b) = (loaded.environment("A").unwrap(), loaded.environment("B").unwrap());
        assert_eq!(
            a.attrs,
            attrs(&[("identity", AttrValue::Str("idp".into())), ("idp_active", AttrValue::Bool(true))])
        );
        assert_eq!(
            b.attrs,
            attrs(&[("anonymous_access", AttrValue::Bool(true)), ("region", AttrValue::Str("eu".into()))])
        );
        assert!(crate::directory::conform::on_identity_provider(&schema, a), "Q2");
        assert!(!crate::directory::conform::on_identity_provider(&schema, b));
        assert_eq!(
            loaded.user("u").unwrap().attrs,
            attrs(&[
                ("desktop_access", AttrValue::Bool(true)),
                ("employment_end", AttrValue::Date(jiff::civil::date(2026, 10, 31))),
                ("guest_license", AttrValue::Bool(true)),
                ("idp_subject", AttrValue::Str("idp|7".into())),
            ])
        );
        assert_eq!(loaded.user("v").unwrap().attrs, attrs(&[("level", AttrValue::Int(3))]));
        assert_eq!(loaded.account("u", "A").unwrap().attrs, attrs(&[("portal", AttrValue::Bool(true))]));
        assert!(loaded.account("v", "B").unwrap().attrs.is_empty());
    }

    /// `uses` rows are read in stored order when an import wrote them, and
    /// by position when they were stored in any other order.
    #[test]
    fn what_an_asset_uses_loads_in_position_order_whatever_the_stored_order() {
        let mut parts = generated(40, 3).into_parts();
        let ids: Vec<Id> = parts.assets.iter().map(|a| a.id.clone()).collect();
        let (first, second, third) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
        let user = parts.assets.iter_mut().find(|a| a.uses.len() == 1).unwrap();
        user.uses.extend([first, second, third]);
        let directory = Directory::new(parts);
        let mut store = Store::in_memory().unwrap();
        store.import(&directory, "generated", ImportOptions::default()).unwrap();
        let loaded = typed(store.load().unwrap()).into_parts();
        assert_eq!(loaded, directory.clone().into_parts(), "as an import stored them");

        // Stored backwards: every asset with several uses is out of order.
        store
            .conn
            .execute_batch(
                "CREATE TEMP TABLE kept AS SELECT * FROM asset_uses;
                 DELETE FROM asset_uses;
                 INSERT INTO asset_uses SELECT * FROM kept ORDER BY asset DESC, position DESC;",
            )
            .unwrap();
        let rows: i64 = store.conn.query_row("SELECT count(*) FROM asset_uses", [], |r| r.get(0)).unwrap();
        assert!(rows > 4);
        assert_eq!(
            typed(store.load().unwrap()).into_parts(),
            directory.into_parts(),
            "read again by position"
        );
    }
}
