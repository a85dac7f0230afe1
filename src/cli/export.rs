//! `steward export`: a directory (database or file) as YAML or JSON.

use std::path::PathBuf;

use super::{Context, Exit, output};
use crate::directory::export::{FileFormat, to_text};

/// Write a directory out in the file format (YAML, or JSON).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory (`.db`, or a file).
    pub directory: PathBuf,
    /// Policy files or folders whose schema the directory is read by (default: `policies` in steward.yaml; without any, the standard schema).
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
    /// Where to write (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The format (default: JSON for an output ending in `.json`, else YAML).
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
}

/// Exit 0 when written, 3 when the directory is invalid, 1 on I/O errors.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let schema = match output::configured_schema(ctx, &args.policies) {
        Ok(schema) => schema,
        Err(exit) => return exit,
    };
    let directory = match output::load_directory(&args.directory, errors, &schema) {
        Ok(d) => d,
        Err(exit) => return exit,
    };
    let format =
        args.format.unwrap_or_else(|| args.output.as_deref().map_or(FileFormat::Yaml, FileFormat::of));
    let yaml = match to_text(&directory, &schema, format) {
        Ok(y) => y,
        Err(message) => {
            output::error(errors, &std::io::Error::other(message));
            return Exit::Failure;
        }
    };
    match &args.output {
        None => {
            out!("{yaml}");
            Exit::Ok
        }
        Some(path) => match output::write_atomically(path, &yaml) {
            Ok(()) => Exit::Ok,
            Err(e) => {
                output::error(errors, &crate::Error::io(path, e));
                Exit::Failure
            }
        },
    }
}
