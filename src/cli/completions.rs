//! `steward completions SHELL`: the shell's completion script, on standard
//! output, generated from the command line's own definition.

use clap::CommandFactory as _;

use super::{Cli, Context, Exit};

/// Print the completion script of a shell.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Exit 0 with the script on stdout.
pub fn run(args: Args, _ctx: &Context) -> Exit {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "steward", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Exit::Ok
}
