//! The `steward` command: parse the arguments, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

// The engine allocates little, but the HTTP service and the loading of a
// large directory allocate per request and per row: mimalloc is faster than
// the system allocator at both (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match steward::cli::Cli::try_parse() {
        Ok(cli) => steward::cli::run(cli),
        Err(error) => steward::cli::usage_error(error),
    }
}
