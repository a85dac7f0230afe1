//! `steward man`: the manual page, in roff, generated from the command
//! line's own definition; `-o DIR` writes one page per subcommand.

use std::path::{Path, PathBuf};

use clap::CommandFactory as _;

use super::{Cli, Context, Exit, output};

/// Print the manual page, or write one page per subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write `steward.1` and one page per subcommand (`steward-check.1`, ...) into this
    /// folder, created if absent, instead of printing `steward`'s own page.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

/// Exit 0 with the page on stdout or the pages written, 1 when they cannot be written.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let written = match &args.output {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| {
                let mut cli = Cli::command().disable_help_subcommand(true);
                cli.build();
                write_pages(cli, dir)
            })
            .map_err(|e| crate::Error::io(dir, e)),
        None => {
            // Rendered into memory first: only `out!` writes to stdout.
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .source(source())
                .render(&mut page)
                .map(|()| out!("{}", String::from_utf8_lossy(&page)))
                .map_err(|e| crate::Error::io("<stdout>", e))
        }
    };
    match written {
        Ok(()) => Exit::Ok,
        Err(e) => {
            output::error(ctx.errors, &e);
            Exit::Failure
        }
    }
}

/// `steward VERSION`, the source every page names: a subcommand has no
/// version of its own.
fn source() -> String {
    format!("steward {}", env!("CARGO_PKG_VERSION"))
}

/// The page of `cmd` and of each of its subcommands, in `dir`.
fn write_pages(cmd: clap::Command, dir: &Path) -> std::io::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir)?;
    }
    clap_mangen::Man::new(cmd).source(source()).generate_to(dir).map(drop)
}
