//! The audit log: one entry per applied change, append-only (the database
//! refuses updates and deletes), each entry hash-chained to the one before,
//! so that an edited, deleted or reordered entry is detected by `verify`.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::digest::hex;

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
}

fn hash(prev: &str, change: &Change) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(serde_json::to_vec(change).unwrap_or_default());
    hex(&hasher.finalize())
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

/// Every entry, in order; only those about `user` when given.
pub fn entries(conn: &Connection, user: Option<&str>) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, target, env, outcome, reason, plan_digest, prev_hash, hash
         FROM audit WHERE ?1 IS NULL OR target = ?1 OR actor = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([user], |r| {
        let at: String = r.get(1)?;
        Ok(Entry {
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
        })
    })?;
    rows.collect()
}

/// Checks the chain: every entry's hash matches its content, and links to
/// the entry before it. Returns how many entries were checked.
pub fn verify(conn: &Connection) -> rusqlite::Result<Result<usize, Tampering>> {
    let all = entries(conn, None)?;
    let mut prev = GENESIS.to_owned();
    let mut previous_seq = 0;
    for entry in &all {
        // A stored time that no longer parses was edited too.
        let at_text: String =
            conn.query_row("SELECT at FROM audit WHERE seq = ?1", [entry.seq], |r| r.get(0))?;
        if entry.prev_hash != prev || entry.seq != previous_seq + 1 {
            return Ok(Err(Tampering::Broken { seq: entry.seq, previous: previous_seq }));
        }
        if at_text != entry.change.at.to_string() || hash(&entry.prev_hash, &entry.change) != entry.hash {
            return Ok(Err(Tampering::Edited { seq: entry.seq }));
        }
        prev = entry.hash.clone();
        previous_seq = entry.seq;
    }
    Ok(Ok(all.len()))
}
