//! `steward fmt`: rewrite policy files in the canonical layout.

use std::path::PathBuf;

use super::{Context, Exit, output};
use crate::policy::fmt::format_file;
use crate::policy::load::{LoadError, parse_paths};

/// Rewrite policy files in the canonical layout.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files, or folders of `.policy` files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Change nothing; list the files that would change and exit 1 if any.
    #[arg(long)]
    pub check: bool,
}

/// Exit 0 when done (or nothing would change), 1 when `--check` finds a
/// file to change or a file cannot be written, 3 on syntax errors (nothing
/// is written then).
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let parsed = match parse_paths(&args.paths) {
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
    let mut changed = Vec::new();
    for (id, file) in &parsed.files {
        let Some(source) = parsed.sources.get(*id) else { continue };
        let formatted = format_file(file);
        if formatted != *source.text {
            changed.push((PathBuf::from(&source.name), formatted));
        }
    }
    if args.check {
        for (path, _) in &changed {
            outln!("{}", path.display());
        }
        return if changed.is_empty() { Exit::Ok } else { Exit::Failure };
    }
    for (path, text) in &changed {
        if let Err(e) = output::write_atomically(path, text) {
            output::error(errors, &crate::Error::io(path, e));
            return Exit::Failure;
        }
        errln!("formatted {}", path.display());
    }
    Exit::Ok
}
