//! steward: a policy engine for user lifecycle administration.
//!
//! Policies say who may invite, block, unblock, delete or edit whom; the
//! directory says who exists where and what they own; the reference graph
//! says what an action would break. See `ARCHITECTURE.md` for the map.

pub mod apply;
pub mod cli;
pub mod config;
pub mod directory;
pub mod engine;
pub mod error;
pub mod graph;
pub mod operation;
pub mod plan;
pub mod policy;
pub mod sync;
pub mod testing;

pub use engine::{Engine, Verdict};
pub use error::Error;
