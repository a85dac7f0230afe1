//! `steward check`: parse and validate policy files.

use std::path::PathBuf;

use super::{ErrorFormat, Exit, output};

/// Parse and validate policy files.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files, or folders of `.policy` files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Exit 0 when valid (warnings are printed), 3 when invalid, 1 when unreadable.
pub fn run(args: Args, format: ErrorFormat) -> Exit {
    match output::load_policies(&args.paths, format) {
        Ok(set) => {
            if format == ErrorFormat::Human {
                let files = set.sources().iter().count();
                eprintln!(
                    "ok: {} rules, {} lifecycle blocks, {} triggers in {files} file{}",
                    set.rules().len(),
                    set.lifecycles().len(),
                    set.triggers().len(),
                    if files == 1 { "" } else { "s" }
                );
            }
            Exit::Ok
        }
        Err(exit) => exit,
    }
}
