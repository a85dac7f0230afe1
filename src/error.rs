//! The library's error: one variant per layer, each wrapping that layer's
//! own error enum, so that callers can match on where things went wrong
//! (and `?` works across layers).

use std::path::PathBuf;

/// Anything that can go wrong in steward.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("cannot access `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The policy set could not be read, parsed or validated.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Policy(#[from] crate::policy::Error),
    /// A request cannot be decided.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Request(#[from] crate::policy::RequestError),
    /// The directory could not be read, validated or stored.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Directory(#[from] crate::directory::Error),
    /// An impact cannot be computed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Impact(#[from] crate::graph::ImpactError),
    /// A plan cannot be made.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Plan(#[from] crate::plan::PlanError),
    /// A plan was not applied.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Apply(#[from] crate::apply::ApplyError),
    /// The configuration is invalid.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] crate::config::Error),
    /// Policy tests could not be run.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Testing(#[from] crate::testing::Error),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
