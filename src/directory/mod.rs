//! The directory: environments, users, accounts, assets and references.
//!
//! `model` holds the entities, `memory` the indexed in-memory view,
//! `entities` the trait the evaluator reads through.

mod entities;
mod memory;
pub mod model;

pub use entities::{Entities, Lookup, LookupError};
pub use memory::{Directory, DirectoryParts};
