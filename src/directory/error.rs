//! What can go wrong reading, validating or storing a directory.

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::source::Sources;

/// The directory layer's error.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read or written.
    #[error("cannot access `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid directory; every problem is listed.
    #[error("`{}` is not a valid directory", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The file's text, to render the diagnostics with.
        sources: Sources,
        /// Every problem found.
        diagnostics: Vec<Diagnostic>,
    },
    /// The file's extension says neither YAML, JSON nor SQLite.
    #[error("`{}` is not a directory file", path.display())]
    #[diagnostic(help("directories are `.yaml`, `.yml`, `.json` or `.db` (SQLite) files"))]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// An import's options do not fit the schema (a SCIM import's
    /// environment kind or statuses).
    #[error("{reason}")]
    Options {
        /// What does not fit, and what would.
        reason: String,
    },
    /// The SQLite store failed.
    #[error("the directory database `{}` failed: {message}", path.display())]
    Store {
        /// The database.
        path: PathBuf,
        /// What SQLite said.
        message: String,
    },
    /// A database to read is not a steward directory: empty, not SQLite,
    /// or another program's.
    #[error(
        "`{path}` is not a directory database: {reason}; make one with `steward import DIRECTORY.yaml -o {path}`",
        path = path.display()
    )]
    NotADirectory {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// The directory holds what the policy set's schema does not declare.
    #[error("`{}` does not fit the policy set's schema ({model}): {}", path.display(), problems.join("; "))]
    #[diagnostic(help(
        "the database was imported for another schema: import the directory again for this policy set, or declare these names in its `schema` block"
    ))]
    Nonconforming {
        /// The database.
        path: PathBuf,
        /// Every problem, naming its entity.
        problems: Vec<String>,
        /// What its import recorded of the schema it was read for.
        model: String,
    },
    /// The database was written by a newer steward.
    #[error("`{}` has schema version {found}; this steward reads up to {supported}", path.display())]
    #[diagnostic(help("upgrade steward to open it"))]
    NewerSchema {
        /// The database.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
}
