//! The audit log: one entry per applied change, append-only (the database
//! refuses updates and deletes), each entry hash-chained to the one before,
//! so that an edited, deleted or reordered entry is detected by `verify`.
//!
//! A chain alone proves nothing to someone who can write the file: they can
//! drop the triggers, rewrite the log and hash it again. So every apply
//! also seals its new *head* (the last entry's seq and hash) in the same
//! transaction, signed with an Ed25519 key when one is configured, and the
//! command line appends the signed head to an anchor file outside the
//! database. `verify` then checks the chain, the schema that guards it,
//! the heads' signatures and the anchor: see docs/operations.md for what
//! each of them proves.

use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{
    DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _, KeypairBytes,
};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::digest::{hex, sha256_hex_of, unhex};

/// The hash before the first entry.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// The action asked for (`delete`).
    pub action: String,
    /// The user, or the asset, changed.
    pub target: String,
    /// The environment.
    pub env: String,
    /// What was done (`block` when a delete fell back, `reassign to X`, ...).
    pub outcome: String,
    /// Why (C2).
    pub reason: String,
    /// The digest of the plan applied.
    pub plan_digest: String,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its position, from 1.
    pub seq: i64,
    /// The change.
    #[serde(flatten)]
    pub change: Change,
    /// The hash of the entry before.
    pub prev_hash: String,
    /// This entry's hash: SHA-256 of `prev_hash` and the change.
    pub hash: String,
}

/// The head of the log after an apply: its last entry, signed when a key
/// is configured. Stored in the database and, as one JSON line, in the
/// anchor file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    /// The last entry's seq.
    pub seq: i64,
    /// The last entry's hash.
    pub hash: String,
    /// The public key that signed it (hexadecimal), if any.
    pub key: Option<String>,
    /// The Ed25519 signature of [`Head::message`] (hexadecimal), if any.
    pub signature: Option<String>,
}

impl Head {
    /// The bytes signed: the seq and the hash, after a fixed prefix that
    /// keeps the signature from meaning anything else.
    pub fn message(&self) -> Vec<u8> {
        format!("steward audit head\n{}\n{}\n", self.seq, self.hash).into_bytes()
    }

    /// The head as one line of an anchor file, without the line end.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether the signature is `key`'s over this head.
    fn signed_by(&self, key: &PublicKey) -> bool {
        let Some(bytes) = self.signature.as_deref().and_then(unhex) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(&bytes) else {
            return false;
        };
        key.0.verify_strict(&self.message(), &signature).is_ok()
    }
}

/// The key that signs each apply's head (`steward keygen` makes one).
pub struct Signer(SigningKey);

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Signer").field(&self.public_key()).finish()
    }
}

/// The public half of a [`Signer`]: what `verify` checks the heads with.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// Why a key or an anchor file cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("cannot {doing} `{}`", path.display())]
    Io {
        /// `read` or `write`.
        doing: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no key of the kind wanted.
    #[error("`{}` is not an Ed25519 {kind}", path.display())]
    #[diagnostic(help("make a signing key with `steward keygen -o FILE`; it prints the public key"))]
    NotAKey {
        /// The file.
        path: PathBuf,
        /// `signing key` or `public key`.
        kind: &'static str,
    },
    /// The key file exists: keys are never overwritten.
    #[error("`{}` already exists: a signing key is never overwritten", path.display())]
    #[diagnostic(help("choose another file, or remove this one yourself if it is not in use"))]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// A line of the anchor file is not a head.
    #[error("`{}` line {line}, column {column}: not an audit head: {message}", path.display())]
    #[diagnostic(help("each line of an anchor is a head as `steward apply` prints it"))]
    BadAnchor {
        /// The anchor file.
        path: PathBuf,
        /// From 1.
        line: usize,
        /// From 1.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

impl Signer {
    /// A new random key.
    pub fn generate() -> Result<Signer, std::io::Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(std::io::Error::other)?;
        Ok(Signer(SigningKey::from_bytes(&seed)))
    }

    /// Reads a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`), as
    /// `steward keygen` or `openssl genpkey -algorithm ed25519` write it.
    pub fn load(path: &Path) -> Result<Signer, KeyError> {
        let text = read(path)?;
        SigningKey::from_pkcs8_pem(text.trim())
            .map(Signer)
            .map_err(|_| KeyError::NotAKey { path: path.to_path_buf(), kind: "signing key" })
    }

    /// Writes the key to a new file `path`, readable by its owner only;
    /// an existing file is left alone.
    pub fn create(&self, path: &Path) -> Result<(), KeyError> {
        use std::io::Write as _;
        let io = |source| KeyError::Io { doing: "write", path: path.to_path_buf(), source };
        // The private key alone (PKCS#8 v1), as openssl writes and reads it.
        let bytes = KeypairBytes { secret_key: self.0.to_bytes(), public_key: None };
        let pem = bytes.to_pkcs8_pem(LineEnding::LF).map_err(|e| io(std::io::Error::other(e)))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => KeyError::Exists { path: path.to_path_buf() },
            _ => io(e),
        })?;
        file.write_all(pem.as_bytes()).and_then(|()| file.sync_all()).map_err(io)
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `head`.
    fn sign(&self, head: &mut Head) {
        head.key = Some(self.public_key().to_hex());
        head.signature = Some(hex(&self.0.sign(&head.message()).to_bytes()));
    }
}

impl PublicKey {
    /// Reads a public key: a PEM file (`-----BEGIN PUBLIC KEY-----`, as
    /// `steward keygen` prints it), the 64 hexadecimal digits of the key,
    /// or a signing key, whose public half is taken.
    pub fn load(path: &Path) -> Result<PublicKey, KeyError> {
        let text = read(path)?;
        let text = text.trim();
        if text.contains("PRIVATE KEY") {
            return Signer::load(path).map(|s| s.public_key());
        }
        VerifyingKey::from_public_key_pem(text)
            .ok()
            .or_else(|| {
                let bytes: [u8; 32] = unhex(text)?.try_into().ok()?;
                VerifyingKey::from_bytes(&bytes).ok()
            })
            .map(PublicKey)
            .ok_or_else(|| KeyError::NotAKey { path: path.to_path_buf(), kind: "public key" })
    }

    /// The key as PEM text.
    pub fn to_pem(&self) -> String {
        self.0.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// The key's 32 bytes in hexadecimal, as heads name it.
    pub fn to_hex(&self) -> String {
        hex(self.0.as_bytes())
    }
}

fn read(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        doing: "read",
        path: path.to_path_buf(),
        source,
    })
}

/// The heads of an anchor file, each with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The file.
    pub path: PathBuf,
    /// Its heads, in file order, each with its line number (from 1).
    pub heads: Vec<(usize, Head)>,
}

impl Anchor {
    /// Reads an anchor file; a line that is not a head is an error.
    pub fn load(path: &Path) -> Result<Anchor, KeyError> {
        let text = read(path)?;
        let mut heads = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let head = serde_json::from_str(line).map_err(|e| KeyError::BadAnchor {
                path: path.to_path_buf(),
                line: index + 1,
                column: e.column().max(1),
                message: e.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
            })?;
            heads.push((index + 1, head));
        }
        Ok(Anchor { path: path.to_path_buf(), heads })
    }

    /// Appends `head` to the anchor file at `path` (created when missing)
    /// as one line, and waits until it is on disk.
    pub fn append(path: &Path, head: &Head) -> Result<(), KeyError> {
        use std::io::Write as _;
        let io = |source| KeyError::Io { doing: "write", path: path.to_path_buf(), source };
        let mut file = std::fs::OpenOptions::new().append(true).create(true).open(path).map_err(io)?;
        file.write_all(format!("{}\n", head.to_line()).as_bytes()).and_then(|()| file.sync_all()).map_err(io)
    }
}

/// What `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Tampering {
    /// An entry's content no longer matches its hash (edited).
    #[error("audit entry {seq} was edited: its content does not match its hash")]
    Edited {
        /// The entry.
        seq: i64,
    },
    /// An entry does not follow the one before (deleted or reordered).
    #[error("audit entry {seq} does not follow entry {previous}: entries were deleted or reordered")]
    Broken {
        /// The entry.
        seq: i64,
        /// The entry before it in the log.
        previous: i64,
    },
    /// A table, index or trigger that guards the log is missing or not the
    /// one steward creates, or a trigger steward never creates is there.
    #[error("{what} `{name}` {how}: the log is not guarded as steward guards it")]
    Schema {
        /// `table`, `index` or `trigger`.
        what: String,
        /// Its name.
        name: String,
        /// `is missing`, `was changed`, `is not one steward creates`.
        how: &'static str,
    },
    /// The log ends before an entry a head says it had.
    #[error("the log ends at entry {last} but {by} seals entry {seq}: entries were deleted")]
    Truncated {
        /// The last entry there is (0: none).
        last: i64,
        /// The entry the head seals.
        seq: i64,
        /// Which head.
        by: String,
    },
    /// The entry a head seals is not the one it sealed.
    #[error("audit entry {seq} is not the one {by} seals: the log was rewritten")]
    Rewritten {
        /// The entry.
        seq: i64,
        /// Which head.
        by: String,
    },
    /// A head's signature is not the key's.
    #[error("the signature of {by} (entry {seq}) is not the key {key}'s: the head was forged or rewritten")]
    BadSignature {
        /// The entry the head seals.
        seq: i64,
        /// Which head.
        by: String,
        /// The key checked with (its first digits).
        key: String,
    },
    /// A head after a signed one is not signed.
    #[error(
        "the head at entry {seq} is not signed, though the one at entry {signed} is ({by}): it was not written by a signing apply"
    )]
    Unsigned {
        /// Where the head is: the database, or a line of the anchor.
        by: String,
        /// The entry the head seals.
        seq: i64,
        /// The last signed head before it.
        signed: i64,
    },
    /// No head is signed, though a key was given and there are entries.
    #[error(
        "no head in the database is signed: the log was never sealed with a key, or its signed heads were removed"
    )]
    NoSignedHead,
    /// Entries that no head seals: every apply seals what it appends.
    #[error("{} sealed by no head in the database: appended outside steward", range(*from, *to))]
    Unsealed {
        /// The first.
        from: i64,
        /// The last.
        to: i64,
    },
    /// Entries past the newest anchored head.
    #[error("{} newer than the anchor's last head: appended outside steward, or the anchor was not written", range(*from, *to))]
    Unanchored {
        /// The first.
        from: i64,
        /// The last.
        to: i64,
    },
}

/// "audit entry 6 is", "audit entries 6 to 8 are".
fn range(from: i64, to: i64) -> String {
    if from == to { format!("audit entry {from} is") } else { format!("audit entries {from} to {to} are") }
}

/// What `verify` checks the log against besides itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// The key whose signatures every head after the first signed one must carry.
    pub key: Option<&'a PublicKey>,
    /// The anchor file, read.
    pub anchor: Option<&'a Anchor>,
}

/// What `verify` found: the counts checked and everything wrong.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verified {
    /// Entries in the log.
    pub entries: usize,
    /// Heads in the database.
    pub heads: usize,
    /// Heads whose signature was checked with the key and holds.
    pub signed: usize,
    /// Heads that carry a signature (checked or not).
    pub carrying_signatures: usize,
    /// The entry the newest head in the database seals.
    pub newest_head: Option<i64>,
    /// The heads the anchor holds, and the entry its newest seals.
    pub anchored: Option<(usize, Option<i64>)>,
    /// Everything wrong, in the order checked; empty when the log holds.
    pub findings: Vec<Tampering>,
}

/// A table, index or trigger as `sqlite_master` holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchemaObject {
    /// `table`, `index` or `trigger`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its SQL (none for the indexes SQLite makes itself).
    pub sql: Option<String>,
}

/// The objects that guard the log: the audit tables with their indexes and
/// triggers, and every trigger of the database (steward creates none other,
/// and a trigger on any table could write to the log).
pub fn schema(conn: &Connection) -> rusqlite::Result<Vec<SchemaObject>> {
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master
         WHERE tbl_name IN ('audit', 'audit_heads') OR type = 'trigger' ORDER BY type, name",
    )?;
    let rows =
        stmt.query_map([], |r| Ok(SchemaObject { kind: r.get(0)?, name: r.get(1)?, sql: r.get(2)? }))?;
    rows.collect()
}

fn hash(prev: &str, change: &Change) -> String {
    let change = serde_json::to_vec(change).unwrap_or_default();
    sha256_hex_of([prev.as_bytes(), &change])
}

/// Appends `change` after the last entry.
pub fn append(conn: &Connection, change: &Change) -> rusqlite::Result<()> {
    let prev: String = conn
        .query_row("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| GENESIS.to_owned());
    let this = hash(&prev, change);
    conn.execute(
        "INSERT INTO audit (at, actor, action, target, env, outcome, reason, plan_digest, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            change.at.to_string(),
            change.actor,
            change.action,
            change.target,
            change.env,
            change.outcome,
            change.reason,
            change.plan_digest,
            prev,
            this
        ],
    )?;
    Ok(())
}

/// Seals the log's last entry with a new head, signed by `signer` when
/// given; made in the transaction that appended the entries. `None` when
/// the log is empty; the newest head when it already seals the last entry.
pub fn seal(conn: &Connection, signer: Option<&Signer>) -> rusqlite::Result<Option<Head>> {
    let Some((seq, hash)) = conn
        .query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    if let Some(newest) = newest_head(conn)?.filter(|h| h.seq == seq) {
        return Ok(Some(newest));
    }
    let mut head = Head { seq, hash, key: None, signature: None };
    if let Some(signer) = signer {
        signer.sign(&mut head);
    }
    conn.execute(
        "INSERT INTO audit_heads (seq, hash, key, signature) VALUES (?1, ?2, ?3, ?4)",
        params![head.seq, head.hash, head.key, head.signature],
    )?;
    Ok(Some(head))
}

/// The newest head in the database, if any.
pub fn newest_head(conn: &Connection) -> rusqlite::Result<Option<Head>> {
    conn.query_row(
        "SELECT seq, hash, key, signature FROM audit_heads ORDER BY seq DESC LIMIT 1",
        [],
        head_row,
    )
    .optional()
}

fn head_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Head> {
    Ok(Head { seq: r.get(0)?, hash: r.get(1)?, key: r.get(2)?, signature: r.get(3)? })
}

/// Every entry, in order; only those about `user` when given.
pub fn entries(conn: &Connection, user: Option<&str>) -> rusqlite::Result<Vec<Entry>> {
    Ok(rows(conn, user)?.into_iter().map(|(entry, _)| entry).collect())
}

/// Every entry with its time as stored: a time that no longer parses, or
/// reads back differently, was edited too.
fn rows(conn: &Connection, user: Option<&str>) -> rusqlite::Result<Vec<(Entry, String)>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, target, env, outcome, reason, plan_digest, prev_hash, hash
         FROM audit WHERE ?1 IS NULL OR target = ?1 OR actor = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([user], |r| {
        let at: String = r.get(1)?;
        let entry = Entry {
            seq: r.get(0)?,
            change: Change {
                at: at.parse().unwrap_or(Timestamp::UNIX_EPOCH),
                actor: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                env: r.get(5)?,
                outcome: r.get(6)?,
                reason: r.get(7)?,
                plan_digest: r.get(8)?,
            },
            prev_hash: r.get(9)?,
            hash: r.get(10)?,
        };
        Ok((entry, at))
    })?;
    rows.collect()
}

/// Checks the log: the chain (every entry's hash matches its content and
/// links to the entry before it); the schema that guards it against
/// `expected`, the objects [`schema`] lists in a database steward made;
/// the heads in the database (none beyond the log's end, each sealing the
/// entry at its seq, none missing after the last, and with a key each
/// signed by it); and the anchor's heads likewise.
pub fn verify(
    conn: &Connection,
    expected: &[SchemaObject],
    options: VerifyOptions<'_>,
) -> rusqlite::Result<Verified> {
    let mut verified = Verified::default();
    let findings = &mut verified.findings;
    let found = schema(conn)?;
    let mut unreadable = Vec::new();
    for want in expected {
        let how = match found.iter().find(|f| f.kind == want.kind && f.name == want.name) {
            None => "is missing",
            Some(f) if f.sql.as_deref().map(words).ne(&want.sql.as_deref().map(words)) => "was changed",
            Some(_) => continue,
        };
        if want.kind == "table" {
            unreadable.push(want.name.as_str());
        }
        findings.push(Tampering::Schema { what: want.kind.clone(), name: want.name.clone(), how });
    }
    for extra in found.iter().filter(|f| !expected.iter().any(|w| w.kind == f.kind && w.name == f.name)) {
        let how = "is not one steward creates";
        findings.push(Tampering::Schema { what: extra.kind.clone(), name: extra.name.clone(), how });
    }
    // A table that is not steward's cannot be read as steward's: what it
    // holds proves nothing, and the schema finding says why.
    let all = if unreadable.contains(&"audit") { Vec::new() } else { rows(conn, None)? };
    let mut heads = Vec::new();
    if !unreadable.contains(&"audit_heads") {
        let mut stmt = conn.prepare("SELECT seq, hash, key, signature FROM audit_heads ORDER BY seq")?;
        heads = stmt.query_map([], head_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    }

    let mut prev = GENESIS;
    let mut previous_seq = 0;
    for (entry, at_text) in &all {
        if entry.prev_hash != prev || entry.seq != previous_seq + 1 {
            findings.push(Tampering::Broken { seq: entry.seq, previous: previous_seq });
        } else if *at_text != entry.change.at.to_string()
            || hash(&entry.prev_hash, &entry.change) != entry.hash
        {
            findings.push(Tampering::Edited { seq: entry.seq });
        }
        prev = &entry.hash;
        previous_seq = entry.seq;
    }
    verified.entries = all.len();
    let last = previous_seq;
    // In seq order (the query sorts), so a head finds its entry by halving.
    let at = |seq: i64| {
        let found = all.binary_search_by_key(&seq, |(e, _)| e.seq).ok();
        found.and_then(|i| all.get(i)).map(|(e, _)| e.hash.as_str())
    };

    // The heads in the database.
    let key_hex = options.key.map(PublicKey::to_hex);
    let short = key_hex.as_deref().map(|k| format!("{}…", k.get(..16).unwrap_or(k))).unwrap_or_default();
    let mut last_signed = None;
    for head in &heads {
        check_head(findings, head, last, at(head.seq), "a head in the database");
        if head.signature.is_some() {
            verified.carrying_signatures += 1;
        }
        let Some(key) = options.key else { continue };
        match (&head.signature, last_signed) {
            (None, None) => {}
            (None, Some(signed)) => {
                findings.push(Tampering::Unsigned {
                    by: "a head in the database".into(),
                    seq: head.seq,
                    signed,
                });
            }
            (Some(_), _) if head.signed_by(key) => {
                verified.signed += 1;
                last_signed = Some(head.seq);
            }
            (Some(_), _) => {
                let by = "a head in the database".to_owned();
                findings.push(Tampering::BadSignature { seq: head.seq, by, key: short.clone() });
                last_signed = Some(head.seq);
            }
        }
    }
    verified.heads = heads.len();
    verified.newest_head = heads.last().map(|h| h.seq);
    let sealed = verified.newest_head.unwrap_or(0);
    if last > sealed {
        findings.push(Tampering::Unsealed { from: sealed + 1, to: last });
    }
    if options.key.is_some() && last_signed.is_none() && last > 0 {
        findings.push(Tampering::NoSignedHead);
    }

    // The anchor, kept outside the database.
    if let Some(anchor) = options.anchor {
        // With a key, a line after a signed one must be signed too: an
        // unsigned line proves only what the database says.
        let mut last_signed = None;
        for (line, head) in &anchor.heads {
            let by = format!("line {line} of the anchor");
            check_head(findings, head, last, at(head.seq), &by);
            let Some(key) = options.key else { continue };
            match (&head.signature, last_signed) {
                (None, None) => {}
                (None, Some(signed)) => findings.push(Tampering::Unsigned { by, seq: head.seq, signed }),
                (Some(_), _) if head.signed_by(key) => last_signed = Some(head.seq),
                (Some(_), _) => {
                    findings.push(Tampering::BadSignature { seq: head.seq, by, key: short.clone() })
                }
            }
        }
        let newest = anchor.heads.iter().map(|(_, h)| h.seq).max();
        if let Some(newest) = newest.filter(|n| last > *n) {
            findings.push(Tampering::Unanchored { from: newest + 1, to: last });
        }
        verified.anchored = Some((anchor.heads.len(), newest));
    }
    Ok(verified)
}

/// SQL with its runs of white space made one space: the same statement
/// however it is laid out.
fn words(sql: &str) -> Vec<&str> {
    sql.split_whitespace().collect()
}

/// A head seals an entry that is there, and is that entry.
fn check_head(findings: &mut Vec<Tampering>, head: &Head, last: i64, hash: Option<&str>, by: &str) {
    match hash {
        None if head.seq > last => {
            findings.push(Tampering::Truncated { last, seq: head.seq, by: by.to_owned() });
        }
        Some(hash) if hash == head.hash => {}
        _ => findings.push(Tampering::Rewritten { seq: head.seq, by: by.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::store::Store;

    fn change(reason: &str) -> Change {
        Change {
            at: Timestamp::UNIX_EPOCH,
            actor: "a".into(),
            action: "block".into(),
            target: "t".into(),
            env: "e".into(),
            outcome: "block".into(),
            reason: reason.into(),
            plan_digest: String::new(),
        }
    }

    #[test]
    fn a_head_is_signed_by_its_key_alone() {
        let signer = Signer::generate().unwrap();
        let other = Signer::generate().unwrap();
        let mut head = Head { seq: 3, hash: "ab".repeat(32), key: None, signature: None };
        signer.sign(&mut head);
        assert_eq!(head.key, Some(signer.public_key().to_hex()));
        assert!(head.signed_by(&signer.public_key()));
        assert!(!head.signed_by(&other.public_key()));
        let moved = Head { seq: 4, ..head.clone() };
        assert!(!moved.signed_by(&signer.public_key()), "the seq is signed too");
        let line: Head = serde_json::from_str(&head.to_line()).unwrap();
        assert_eq!(line, head);
    }

    #[test]
    fn each_apply_seals_its_head_in_the_store() {
        let mut store = Store::in_memory().unwrap();
        let signer = Signer::generate().unwrap();
        let key = signer.public_key();
        assert_eq!(store.apply(&[], &[]).unwrap(), None, "nothing appended, nothing sealed");
        let first = store.apply(&[], &[change("one"), change("two")]).unwrap().unwrap();
        assert_eq!((first.seq, first.signature), (2, None));
        store.set_signer(Some(signer));
        let second = store.apply(&[], &[change("three")]).unwrap().unwrap();
        assert_eq!(second.seq, 3);
        assert!(second.signed_by(&key));
        let verified = store.verify_audit(VerifyOptions { key: Some(&key), anchor: None }).unwrap();
        assert_eq!((verified.entries, verified.heads, verified.signed), (3, 2, 1));
        assert_eq!(verified.findings, vec![], "an unsigned head before the first signed one is no tampering");
    }
}
