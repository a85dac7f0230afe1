//! Reading policy files from disk: files and folders, all parsed, every
//! syntax error of every file collected before anything is reported.

use std::path::{Path, PathBuf};

use super::ast::File;
use super::parse::parse_file;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Sources, Span};

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
/// `.policy` files (recursively, in name order) are read. A file that is
/// not UTF-8 is an error at its first bad byte.
pub fn parse_paths(paths: &[PathBuf]) -> Result<Parsed, LoadError> {
    let mut sources = Sources::new();
    let mut diagnostics = Vec::new();
    for path in paths {
        for file in policy_files(path)? {
            let bytes =
                std::fs::read(&file).map_err(|source| LoadError::Io { path: file.clone(), source })?;
            add_file(&mut sources, &mut diagnostics, file.display().to_string(), bytes);
        }
    }
    parse_all(sources, diagnostics)
}

/// Parses one policy file that did not come from a path (standard input),
/// named `name` in its diagnostics; not UTF-8 is an error at its first bad
/// byte, as in a file.
pub fn parse_bytes(name: &str, bytes: Vec<u8>) -> Result<Parsed, LoadError> {
    let mut sources = Sources::new();
    let mut diagnostics = Vec::new();
    add_file(&mut sources, &mut diagnostics, name.to_owned(), bytes);
    parse_all(sources, diagnostics)
}

/// Adds a file's text to `sources`, or its text read with replacement
/// characters and a diagnostic at its first byte that is not UTF-8.
fn add_file(sources: &mut Sources, diagnostics: &mut Vec<Diagnostic>, name: String, bytes: Vec<u8>) {
    match String::from_utf8(bytes) {
        Ok(text) => {
            sources.add(name, text);
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let id = sources.add(name, text);
            diagnostics.push(not_utf8(id, at, e.as_bytes().get(at).copied()));
        }
    }
}

/// Parses every file of `sources` (policy text that did not come from disk).
pub fn parse_sources(sources: Sources) -> Result<Parsed, LoadError> {
    parse_all(sources, Vec::new())
}

/// Parses the files of `sources` that `diagnostics` (encoding errors) do
/// not already condemn.
fn parse_all(sources: Sources, mut diagnostics: Vec<Diagnostic>) -> Result<Parsed, LoadError> {
    let unreadable: Vec<FileId> = diagnostics.iter().filter_map(|d| d.span.map(|s| s.file)).collect();
    let mut files = Vec::new();
    for (id, _) in sources.iter().filter(|(id, _)| !unreadable.contains(id)) {
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

/// A file that is not UTF-8, at its first bad byte (which the text read
/// with replacement characters shows as `\u{fffd}`, at the same offset).
fn not_utf8(file: FileId, at: usize, byte: Option<u8>) -> Diagnostic {
    let byte = byte.map_or_else(String::new, |b| format!(" `\\x{b:02x}`"));
    Diagnostic::error("invalid-utf8", format!("the file is not UTF-8: byte{byte} is not a character"))
        .at(Span::new(file, at, at + '\u{fffd}'.len_utf8()), "not UTF-8")
        .with_help("save the file as UTF-8")
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
