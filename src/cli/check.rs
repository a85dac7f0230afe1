//! `steward check`: parse and validate policy files.

use std::path::PathBuf;

use super::{Context, ErrorFormat, Exit, output};

/// Parse and validate policy files.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files, or folders of `.policy` files (default: `policies` in steward.yaml).
    pub paths: Vec<PathBuf>,
    /// Also check the roles the policies test against this directory.
    #[arg(long)]
    pub directory: Option<PathBuf>,
}

/// Exit 0 when valid (warnings are printed), 3 when the policies or the
/// directory are invalid, 1 when unreadable or none are named.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let format = ctx.errors;
    let paths = match output::configured_policies(ctx, &args.paths, "PATH...") {
        Ok(paths) => paths,
        Err(exit) => return exit,
    };
    match output::load_policies(&paths, format) {
        Ok(set) => {
            if let Some(path) = &args.directory {
                match output::load_directory(path, format, set.schema()) {
                    Ok(directory) => {
                        let warnings = set.check_roles(&directory);
                        if !warnings.is_empty() {
                            output::diagnostics(format, set.sources(), &warnings);
                        }
                    }
                    Err(exit) => return exit,
                }
            }
            if format == ErrorFormat::Human {
                let files = set.sources().iter().count();
                errln!(
                    "ok: {}, {}, {} in {}",
                    output::plural(set.rules().len(), "rule"),
                    output::plural(set.lifecycles().len(), "lifecycle block"),
                    output::plural(set.triggers().len(), "trigger"),
                    output::plural(files, "file")
                );
            }
            Exit::Ok
        }
        Err(exit) => exit,
    }
}
