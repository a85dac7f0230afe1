//! The `steward` command: parse the arguments, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match steward::cli::Cli::try_parse() {
        Ok(cli) => steward::cli::run(cli),
        Err(error) => steward::cli::usage_error(error),
    }
}
