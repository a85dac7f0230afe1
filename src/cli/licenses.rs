//! `steward licenses`: who counts toward which license (P2, P6, G1, G3, G12, D1).

use std::path::PathBuf;

use serde::Serialize;

use super::{Context, Exit, Format, output};
use crate::graph::{LicenseCount, LicenseIndex};

/// Count the users of every license.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files or folders whose schema the directory is read by (default: `policies` in steward.yaml; without any, the standard schema).
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
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
    let schema = match output::configured_schema(ctx, &args.policies) {
        Ok(schema) => schema,
        Err(exit) => return exit,
    };
    let directory = match output::configured_directory(ctx, args.directory.as_deref(), &schema) {
        Ok(d) => d,
        Err(exit) => return exit,
    };
    let licenses = LicenseIndex::build(&directory, &schema).licenses(&directory);
    match args.format {
        Format::Json => output::json(&Licenses { licenses }),
        Format::Human => {
            let header: &[&str] =
                if args.users { &["license", "users", "who"] } else { &["license", "users"] };
            let mut table = super::table::Table::new(header).numeric(1);
            for l in &licenses {
                let mut cells = vec![l.license.clone(), l.count.to_string()];
                if args.users {
                    cells.push(l.users.join(", "));
                }
                table.row(cells);
            }
            table.print();
        }
    }
    Exit::Ok
}
