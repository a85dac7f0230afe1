//! `steward fmt`: rewrite policy files in the canonical layout; `--check`
//! and `--diff` say what would change, `-` formats standard input.

use std::io::Read as _;
use std::path::PathBuf;

use super::{Context, Exit, output};
use crate::policy::fmt::format_file;
use crate::policy::load::{LoadError, Parsed, parse_bytes, parse_paths};

/// The name standard input goes by in diagnostics and diffs.
const STDIN: &str = "<stdin>";

/// Rewrite policy files in the canonical layout.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files, or folders of `.policy` files; `-` alone reads one policy from stdin and
    /// writes it formatted to stdout (for editors).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Change nothing; list the files that would change and exit 1 if any.
    #[arg(long, conflicts_with = "diff")]
    pub check: bool,
    /// Change nothing; print a unified diff of what would change and exit 1 if anything would.
    #[arg(long)]
    pub diff: bool,
}

/// One file read: its name, its text, and its text in the canonical layout.
struct Formatted {
    name: String,
    text: String,
    formatted: String,
}

/// Exit 0 when done (or nothing would change), 1 when `--check` or
/// `--diff` finds a file to change or a file cannot be read or written, 3
/// on syntax errors (nothing is written then).
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && args.paths.len() > 1 {
        output::message(errors, "`-` (standard input) is formatted alone, not with other paths");
        return Exit::Failure;
    }
    let parsed = if stdin { read_stdin() } else { parse_paths(&args.paths) };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(LoadError::Syntax { sources, diagnostics }) => {
            output::diagnostics(errors, &sources, &diagnostics);
            return Exit::Invalid;
        }
        Err(e) => {
            output::error(errors, &e);
            return Exit::Failure;
        }
    };
    let files: Vec<Formatted> = parsed
        .files
        .iter()
        .filter_map(|(id, file)| {
            let source = parsed.sources.get(*id)?;
            Some(Formatted {
                name: source.name.clone(),
                text: source.text.to_string(),
                formatted: format_file(file),
            })
        })
        .collect();
    let changed: Vec<&Formatted> = files.iter().filter(|f| f.formatted != f.text).collect();
    if args.check || args.diff {
        for file in &changed {
            if args.diff {
                out!("{}", diff(file));
            } else {
                outln!("{}", file.name);
            }
        }
        return if changed.is_empty() { Exit::Ok } else { Exit::Failure };
    }
    if stdin {
        for file in &files {
            out!("{}", file.formatted);
        }
        return Exit::Ok;
    }
    for file in changed {
        let path = PathBuf::from(&file.name);
        if let Err(e) = output::write_atomically(&path, &file.formatted) {
            output::error(errors, &crate::Error::io(path, e));
            return Exit::Failure;
        }
        errln!("formatted {}", file.name);
    }
    Exit::Ok
}

/// Standard input, parsed as one policy file named [`STDIN`].
fn read_stdin() -> Result<Parsed, LoadError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|source| LoadError::Io { path: PathBuf::from(STDIN), source })?;
    parse_bytes(STDIN, bytes)
}

/// What formatting changes in `file`, as a unified diff with three lines
/// of context (`patch -p0` applies it).
fn diff(file: &Formatted) -> String {
    similar::TextDiff::from_lines(&file.text, &file.formatted)
        .unified_diff()
        .context_radius(3)
        .header(&file.name, &file.name)
        .to_string()
}
