//! The decision log (one JSON line per decision, for the security team's
//! records) and the service's notices (listening, reloads, refusals), which
//! the caller prints: the library itself never writes to the terminal.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::error::ServeError;
use crate::Verdict;
use crate::policy::Request;

/// Something the service reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// The service accepts connections at this address.
    Listening(std::net::SocketAddr),
    /// A new policy set (and directory) serves from now on.
    Reloaded {
        /// What caused the reload: `SIGHUP`, `file change` or `api`.
        cause: &'static str,
        /// The policy digest now served.
        digest: String,
    },
    /// A reload was refused; the old set keeps serving.
    ReloadRefused {
        /// What caused the reload.
        cause: &'static str,
        /// Why it was refused, with every diagnostic.
        message: String,
    },
    /// A line could not be written to the decision log.
    LogFailed(String),
    /// The decision log could not be reopened on `SIGHUP`; lines still go
    /// to the file it had open.
    LogNotReopened(String),
    /// Shutting down: no new connections; in-flight requests finish.
    ShuttingDown,
    /// No token is asked: whoever can reach the address can call.
    NoToken(std::net::SocketAddr),
    /// A connection could not be accepted (out of file descriptors, say);
    /// the service tries again in a second.
    AcceptFailed(String),
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Listening(addr) => write!(f, "listening on {addr}"),
            Notice::Reloaded { cause, digest } => write!(f, "reloaded ({cause}): policy digest {digest}"),
            Notice::ReloadRefused { cause, message } => {
                write!(f, "reload refused ({cause}); the previous policy set keeps serving: {message}")
            }
            Notice::LogFailed(message) => write!(f, "cannot write the decision log: {message}"),
            Notice::LogNotReopened(message) => {
                write!(f, "cannot reopen the decision log; lines still go to the file it had open: {message}")
            }
            Notice::ShuttingDown => write!(f, "shutting down; finishing in-flight requests"),
            Notice::NoToken(addr) if addr.ip().is_loopback() => write!(
                f,
                "warning: no token is set: every process on this machine can call the service \
                 (set one with --token, STEWARD_TOKEN or `token` in steward.yaml)"
            ),
            Notice::NoToken(addr) => write!(
                f,
                "warning: no token is set and the service listens on {addr}: whoever can reach it \
                 can call it (set one with --token, STEWARD_TOKEN or `token` in steward.yaml)"
            ),
            Notice::AcceptFailed(message) => {
                write!(f, "cannot accept a connection; trying again in a second: {message}")
            }
        }
    }
}

/// Where notices go (the CLI prints them on standard error).
pub type Notify = Arc<dyn Fn(&Notice) + Send + Sync>;

/// An append-only file of decisions, one JSON object per line.
#[derive(Debug)]
pub struct DecisionLog {
    path: PathBuf,
    /// Unbuffered: lines are made whole in memory and written in one call,
    /// so a failed write never leaves bytes behind to be written later.
    file: Mutex<std::fs::File>,
}

/// One line of the decision log.
#[derive(Debug, Serialize)]
struct Entry<'a> {
    time: jiff::Timestamp,
    request: &'a Request,
    decision: &'a str,
    rules: Vec<&'a str>,
    policy_digest: &'a str,
}

impl DecisionLog {
    /// Opens `path` for appending (created when missing).
    pub fn open(path: &Path) -> Result<Self, ServeError> {
        Ok(DecisionLog { path: path.to_path_buf(), file: Mutex::new(append_to(path)?) })
    }

    /// Opens the file at the log's path again, for log rotation: after
    /// `mv log log.1`, new lines go to a new `log`. When it cannot be
    /// opened, lines still go to the file open before.
    pub fn reopen(&self) -> Result<(), ServeError> {
        let fresh = append_to(&self.path)?;
        let mut file = self.file.lock().map_err(|_| ServeError::DecisionLog {
            path: self.path.clone(),
            source: std::io::Error::other("the log lock is poisoned"),
        })?;
        *file = fresh;
        Ok(())
    }

    /// Appends one line per decided request and flushes once, so that a
    /// batch costs one write.
    pub fn record<'a>(
        &self,
        decided: impl IntoIterator<Item = (&'a Request, &'a Verdict)>,
        policy_digest: &str,
    ) -> std::io::Result<()> {
        let time = jiff::Timestamp::now();
        let mut lines = Vec::new();
        for (request, verdict) in decided {
            line(&mut lines, time, request, verdict, policy_digest)?;
        }
        self.write(&lines)
    }

    /// Writes lines made by [`line`], in one call.
    pub fn write(&self, lines: &[u8]) -> std::io::Result<()> {
        let mut file = self.file.lock().map_err(|_| std::io::Error::other("the log lock is poisoned"))?;
        file.write_all(lines)
    }
}

fn append_to(path: &Path) -> Result<std::fs::File, ServeError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| ServeError::DecisionLog { path: path.to_path_buf(), source })
}

/// Appends the log line of one decision to `out`.
pub fn line(
    out: &mut Vec<u8>,
    time: jiff::Timestamp,
    request: &Request,
    verdict: &Verdict,
    policy_digest: &str,
) -> std::io::Result<()> {
    let entry = Entry {
        time,
        request,
        decision: &verdict.report.decision,
        rules: verdict.report.rules.iter().map(|r| r.id.as_str()).collect(),
        policy_digest,
    };
    // A line that fails half-way is taken back, not glued to the next one.
    let start = out.len();
    if let Err(e) = serde_json::to_writer(&mut *out, &entry) {
        out.truncate(start);
        return Err(e.into());
    }
    out.push(b'\n');
    Ok(())
}
