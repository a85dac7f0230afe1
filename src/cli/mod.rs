//! The command line: one file per subcommand, each with its `Args` and a
//! `run` that returns an [`Exit`]. Only this module prints and picks exit
//! codes; the library below it returns values and errors. It prints only
//! through [`out!`], [`outln!`], [`err!`] and [`errln!`]: a closed output
//! (`steward users | head -1`) ends a command quietly instead of panicking.

// `print!` and `eprint!` panic when their stream is closed.
#![deny(clippy::print_stdout, clippy::print_stderr)]

/// `print!` to standard output; once it is closed, nothing more is written
/// and the command ends as it would have.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::write_out(format_args!($($arg)*)) };
}

/// `println!` to standard output, as [`out!`].
macro_rules! outln {
    () => { out!("\n") };
    ($($arg:tt)*) => { out!("{}\n", format_args!($($arg)*)) };
}

/// `eprint!` to standard error; a closed standard error is not an error
/// anyone could be told of.
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::output::write_err(format_args!($($arg)*)) };
}

/// `eprintln!` to standard error, as [`err!`].
macro_rules! errln {
    ($($arg:tt)*) => { err!("{}\n", format_args!($($arg)*)) };
}

mod apply;
mod audit;
mod check;
mod completions;
mod decide;
mod diff;
mod export;
mod fmt;
mod gateway;
mod generate;
mod help;
mod impact;
mod import;
mod keygen;
mod licenses;
mod man;
mod output;
mod plan;
mod replay;
mod review;
mod serve;
mod show;
mod sync;
mod table;
mod targets;
mod test;
mod users;
mod who;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// How a command ended; the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success, or the request is allowed.
    Ok = 0,
    /// 1: any other failure (I/O, a check that found differences, failing tests).
    Failure = 1,
    /// 2: the request is denied; for `diff`, an answer changes.
    Deny = 2,
    /// 3: the policy set, directory or request is invalid.
    Invalid = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// How errors and diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ErrorFormat {
    /// Source excerpts with the span underlined, for people.
    #[default]
    Human,
    /// One JSON object per line, for editors and CI.
    Json,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Text for people.
    #[default]
    Human,
    /// JSON, as documented in docs/json.md.
    Json,
}

/// A policy engine for user lifecycle administration.
#[derive(Debug, Parser)]
#[command(name = "steward", version, about, long_about = None, after_long_help = help::STEWARD)]
pub struct Cli {
    /// How to print errors and diagnostics.
    #[arg(long, global = true, value_enum, default_value_t)]
    pub error_format: ErrorFormat,

    /// The configuration file (default: `steward.yaml` in the working directory, if any).
    #[arg(long, global = true)]
    pub config: Option<std::path::PathBuf>,

    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and validate policy files.
    #[command(after_long_help = help::CHECK)]
    Check(check::Args),
    /// Rewrite policy files in the canonical layout.
    #[command(after_long_help = help::FMT)]
    Fmt(fmt::Args),
    /// Run the test files of policy packs.
    #[command(after_long_help = help::TEST)]
    Test(test::Args),
    /// Decide one request: allowed or denied, by which rules, and what it would do.
    #[command(after_long_help = help::DECIDE)]
    Decide(Box<decide::Args>),
    /// Show what an action on an account would do, before anyone does it.
    #[command(after_long_help = help::IMPACT)]
    Impact(impact::Args),
    /// Who may do an action to a user, or whom a user may do it to: every account, in pages.
    #[command(after_long_help = help::WHO)]
    Who(Box<who::Args>),
    /// What a policy change does: every request over the directory whose decision changes.
    #[command(after_long_help = help::DIFF)]
    Diff(Box<diff::Args>),
    /// Decide the decisions a service logged again, under another policy set.
    #[command(after_long_help = help::REPLAY)]
    Replay(Box<replay::Args>),
    /// The access review: who holds which power over how many accounts or assets.
    #[command(after_long_help = help::REVIEW)]
    Review(Box<review::Args>),
    /// Preview a bulk change: who is affected, how and why; nothing is changed.
    #[command(after_long_help = help::PLAN)]
    Plan(Box<plan::Args>),
    /// Apply a reviewed plan in one transaction, with an audit entry per change.
    #[command(after_long_help = help::APPLY)]
    Apply(apply::Args),
    /// List the audit log, or verify it.
    #[command(after_long_help = help::AUDIT)]
    Audit(audit::Args),
    /// Write a new key that signs the audit log's heads.
    #[command(after_long_help = help::KEYGEN)]
    Keygen(keygen::Args),
    /// Load a YAML or JSON directory into a SQLite database.
    #[command(after_long_help = help::IMPORT)]
    Import(import::Args),
    /// Write a directory out in the YAML file format.
    #[command(after_long_help = help::EXPORT)]
    Export(export::Args),
    /// Show a user's accounts, assets and references.
    #[command(after_long_help = help::SHOW)]
    Show(show::Args),
    /// Count who counts toward each license.
    #[command(after_long_help = help::LICENSES)]
    Licenses(licenses::Args),
    /// Synchronise guests' names and e-mail addresses from home (G5, G6).
    #[command(after_long_help = help::SYNC)]
    Sync(sync::Args),
    /// Find accounts by name, id, IdP subject or e-mail, or with a selector.
    #[command(after_long_help = help::USERS)]
    Users(users::Args),
    /// Generate a large, realistic directory for benchmarks.
    #[command(after_long_help = help::GEN)]
    Gen(generate::Args),
    /// Serve decisions, impacts and plans over HTTP (dry runs only).
    #[command(after_long_help = help::SERVE)]
    Serve(serve::Args),
    /// Forward SCIM provisioning to a service provider, only what the policy allows.
    #[command(after_long_help = help::GATEWAY)]
    Gateway(gateway::Args),
    /// Print the completion script of a shell.
    #[command(after_long_help = help::COMPLETIONS)]
    Completions(completions::Args),
    /// Print the manual page, or write one page per subcommand.
    #[command(after_long_help = help::MAN)]
    Man(man::Args),
}

/// What every command gets besides its own arguments.
#[derive(Debug)]
pub struct Context {
    /// How to print errors.
    pub errors: ErrorFormat,
    /// `steward.yaml`, or the defaults.
    pub config: crate::config::Config,
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let errors = cli.error_format;
    let config = match crate::config::Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(crate::config::Error::Invalid { sources, diagnostics, .. }) => {
            output::diagnostics(errors, &sources, &diagnostics);
            return Exit::Invalid.into();
        }
        Err(e) => {
            output::error(errors, &e);
            return Exit::Failure.into();
        }
    };
    let ctx = Context { errors, config };
    let exit = match cli.command {
        Command::Check(args) => check::run(args, &ctx),
        Command::Fmt(args) => fmt::run(args, &ctx),
        Command::Test(args) => test::run(args, &ctx),
        Command::Decide(args) => decide::run(*args, &ctx),
        Command::Impact(args) => impact::run(args, &ctx),
        Command::Who(args) => who::run(*args, &ctx),
        Command::Diff(args) => diff::run(*args, &ctx),
        Command::Replay(args) => replay::run(*args, &ctx),
        Command::Review(args) => review::run(*args, &ctx),
        Command::Plan(args) => plan::run(*args, &ctx),
        Command::Apply(args) => apply::run(args, &ctx),
        Command::Audit(args) => audit::run(args, &ctx),
        Command::Keygen(args) => keygen::run(args, &ctx),
        Command::Import(args) => import::run(args, &ctx),
        Command::Export(args) => export::run(args, &ctx),
        Command::Show(args) => show::run(args, &ctx),
        Command::Licenses(args) => licenses::run(args, &ctx),
        Command::Sync(args) => sync::run(args, &ctx),
        Command::Users(args) => users::run(args, &ctx),
        Command::Gen(args) => generate::run(args, &ctx),
        Command::Serve(args) => serve::run(args, &ctx),
        Command::Gateway(args) => gateway::run(args, &ctx),
        Command::Completions(args) => completions::run(args, &ctx),
        Command::Man(args) => man::run(args, &ctx),
    };
    // Output closed by its reader ends the command as it would have ended;
    // output that could not be written otherwise (a full disk) is a failure.
    if let Some(e) = output::write_failure() {
        output::message(errors, &format!("cannot write the output: {e}"));
        return Exit::Failure.into();
    }
    exit.into()
}

/// The exit code for a command line that does not parse: 0 for `--help`
/// and `--version`, 1 otherwise (clap's own 2 would read as "denied").
pub fn usage_error(error: clap::Error) -> ExitCode {
    let _ = error.print();
    if error.use_stderr() { Exit::Failure.into() } else { Exit::Ok.into() }
}
