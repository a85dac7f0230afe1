//! The directory: environments, users, accounts, assets and references.
//!
//! `model` holds the entities, `yaml` reads and validates the file format,
//! `scim` reads a SCIM service provider's lists into it,
//! `store` keeps a directory in SQLite, `memory` is the indexed in-memory
//! view, `entities` the trait the evaluator reads through.

pub mod audit;
pub mod conform;
mod entities;
mod error;
pub mod export;
pub mod generate;
mod index;
mod memory;
pub mod model;
pub mod mutation;
pub mod scim;
pub mod store;
pub mod yaml;

use std::path::Path;

use crate::schema::Schema;

pub use entities::{Entities, Lookup, LookupError};
pub use error::Error;
pub use memory::{Directory, DirectoryParts};

/// Whether `path` names a SQLite store (`.db`, `.sqlite`, `.sqlite3`)
/// rather than a directory file.
pub fn is_store(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("db" | "sqlite" | "sqlite3"))
}

/// Loads a directory file: `.yaml`, `.yml` or `.json` (validated against
/// `schema`, every problem reported with its line and column), or a `.db`
/// SQLite store (held to `schema` after it is read).
pub fn load(path: &Path, schema: &Schema) -> Result<Directory, Error> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml" | "json") => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
            yaml::parse(&path.display().to_string(), &text, schema).map_err(|(sources, diagnostics)| {
                Error::Invalid { path: path.to_path_buf(), sources, diagnostics }
            })
        }
        _ if is_store(path) => {
            if !path.exists() {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such database"),
                });
            }
            // Reading never creates a database, nor writes a schema into an
            // empty or foreign file.
            let store = store::Store::open_existing(path)?;
            let directory = store.load()?;
            conform::directory(schema, directory).map_err(|problems| {
                let imported = store.imported_model().ok().flatten();
                let model = match imported {
                    Some(d) if d != schema.digest() => format!(
                        "it was imported for schema {}, the policy set's is {}",
                        short(&d),
                        short(&schema.digest())
                    ),
                    Some(_) => "it was imported for this schema and changed since".to_owned(),
                    None => "its import recorded no schema".to_owned(),
                };
                Error::Nonconforming { path: path.to_path_buf(), problems, model }
            })
        }
        _ => Err(Error::UnknownFormat { path: path.to_path_buf() }),
    }
}

/// The first twelve digits of a digest, as messages show it.
fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}
