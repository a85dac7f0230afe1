//! The `steward` command: parse the arguments, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    steward::cli::run(steward::cli::Cli::parse())
}
