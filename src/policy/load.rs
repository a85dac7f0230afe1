//! Reading policy files from disk: files and folders, all parsed, every
//! syntax error of every file collected before anything is reported.

use std::path::{Path, PathBuf};

use super::ast::File;
use super::diagnostic::Diagnostic;
use super::parse::parse_file;
use super::source::{FileId, Sources};

/// A parsed, not yet validated, policy set.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Every file read.
    pub sources: Sources,
    /// Each file's syntax tree.
    pub files: Vec<(FileId, File)>,
}

/// Why a policy set could not be read or parsed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A folder was given that holds no `.policy` file.
    #[error("no `.policy` file in `{}`", path.display())]
    #[diagnostic(help("policy files end in `.policy`"))]
    NoPolicyFiles {
        /// The folder.
        path: PathBuf,
    },
    /// At least one file has a syntax error.
    #[error("the policy set has syntax errors")]
    Syntax {
        /// The files, to render the diagnostics with.
        sources: Sources,
        /// Every syntax error found.
        diagnostics: Vec<Diagnostic>,
    },
}

/// Reads and parses `paths`: each a `.policy` file, or a folder whose
/// `.policy` files (recursively, in name order) are read.
pub fn parse_paths(paths: &[PathBuf]) -> Result<Parsed, LoadError> {
    let mut sources = Sources::new();
    for path in paths {
        for file in policy_files(path)? {
            let text = std::fs::read_to_string(&file)
                .map_err(|source| LoadError::Io { path: file.clone(), source })?;
            sources.add(file.display().to_string(), text);
        }
    }
    parse_sources(sources)
}

/// Parses every file of `sources` (policy text that did not come from disk).
pub fn parse_sources(sources: Sources) -> Result<Parsed, LoadError> {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    for (id, _) in sources.iter() {
        match parse_file(&sources, id) {
            Ok(file) => files.push((id, file)),
            Err(mut errors) => diagnostics.append(&mut errors),
        }
    }
    if diagnostics.is_empty() {
        Ok(Parsed { sources, files })
    } else {
        Err(LoadError::Syntax { sources, diagnostics })
    }
}

fn policy_files(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let io = |source| LoadError::Io { path: path.to_path_buf(), source };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    collect(path, &mut found).map_err(io)?;
    found.sort();
    if found.is_empty() {
        return Err(LoadError::NoPolicyFiles { path: path.to_path_buf() });
    }
    Ok(found)
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "policy") {
            found.push(path);
        }
    }
    Ok(())
}
