//! `steward licenses`: who counts toward which license (P2, P6, G1, G3, G12, D1).

use std::path::PathBuf;

use serde::Serialize;

use super::{Context, Exit, Format, output};
use crate::graph::{LicenseCount, LicenseIndex};

/// Count the users of every license.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory, `.yaml`, `.json` or `.db` (default: `directory` in steward.yaml).
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// List the users who count, not only how many.
    #[arg(long)]
    pub users: bool,
    /// How to print.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Serialize)]
struct Licenses {
    licenses: Vec<LicenseCount>,
}

/// Exit 0, or 3 when the directory is invalid.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let directory = match output::configured_directory(ctx, args.directory.as_deref()) {
        Ok(d) => d,
        Err(exit) => return exit,
    };
    let licenses = LicenseIndex::build(&directory).licenses(&directory);
    match args.format {
        Format::Json => output::json(&Licenses { licenses }),
        Format::Human => {
            for l in &licenses {
                outln!("{:<12} {:>7} {}", l.license, l.count, if l.count == 1 { "user" } else { "users" });
                if args.users {
                    for user in &l.users {
                        outln!("    {user}");
                    }
                }
            }
        }
    }
    Exit::Ok
}
