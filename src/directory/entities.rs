//! The one way the evaluator reads the directory.
//!
//! Decisions are made against anything that implements [`Entities`]: the
//! in-memory [`Directory`](super::Directory) (tests, YAML files, the hot path)
//! or the SQLite store (large `.db` files). Lookups return [`Cow`] so that an
//! in-memory source lends its entities without copying while a database
//! source hands out the rows it just read.

use std::borrow::Cow;
use std::ops::ControlFlow;

use super::model::{Account, Asset, Environment, User};

/// A lookup that could not be answered (for example a database error).
/// Evaluation reports it and fails closed; it is never a silent "not found".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the directory: {message}")]
pub struct LookupError {
    /// What went wrong, for the decision's `errors`.
    pub message: String,
}

/// What a lookup returns: the entity, `None` when it does not exist, or an
/// error when the source could not answer.
pub type Lookup<'a, T> = Result<Option<Cow<'a, T>>, LookupError>;

/// Read access to the entities a decision needs.
pub trait Entities {
    /// The environment with this id.
    fn environment(&self, id: &str) -> Lookup<'_, Environment>;
    /// The user with this id.
    fn user(&self, id: &str) -> Lookup<'_, User>;
    /// The account of `user` in environment `env`.
    fn account(&self, user: &str, env: &str) -> Lookup<'_, Account>;
    /// The asset with this id.
    fn asset(&self, id: &str) -> Lookup<'_, Asset>;
    /// Calls `visit` with every account of environment `env`, until it
    /// breaks. Aggregates (`count(accounts where ...)`) are built on this.
    fn for_each_account(
        &self,
        env: &str,
        visit: &mut dyn FnMut(&Account) -> ControlFlow<()>,
    ) -> Result<(), LookupError>;

    /// A count of the accounts of `env` remembered under `key` by
    /// [`Entities::remember_count`]. Only entities that never change
    /// remember anything; by default nothing is remembered.
    fn remembered_count(&self, key: u64, env: &str) -> Option<i64> {
        let _ = (key, env);
        None
    }

    /// Remembers a count of the accounts of `env` whose condition (identified
    /// by `key`) reads nothing but the counted account and the environment.
    fn remember_count(&self, key: u64, env: &str, count: i64) {
        let _ = (key, env, count);
    }
}
