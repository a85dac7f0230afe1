//! Printing errors the same way in every command, and loading what most
//! commands need (a policy set, a directory).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::{Context, ErrorFormat, Exit};
use crate::directory::{self, Directory};
use crate::policy::report::{render_human, render_json};
use crate::policy::{self, Diagnostic, PolicySet, Sources};
use crate::schema::Schema;

/// Standard output is closed, or failed: nothing more is written to it.
static STDOUT_DONE: AtomicBool = AtomicBool::new(false);
/// Why standard output failed, when its reader did not simply close it.
static STDOUT_FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Writes to standard output (behind [`out!`]). A reader that closed the
/// pipe (`| head -1`) stops the output, quietly; any other failure is
/// remembered for [`write_failure`]. Never panics, unlike `print!`.
pub fn write_out(args: std::fmt::Arguments<'_>) {
    if STDOUT_DONE.load(Ordering::Relaxed) {
        return;
    }
    let Err(e) = std::io::stdout().lock().write_fmt(args) else { return };
    STDOUT_DONE.store(true, Ordering::Relaxed);
    if e.kind() != std::io::ErrorKind::BrokenPipe
        && let Ok(mut failure) = STDOUT_FAILURE.lock()
    {
        *failure = Some(e.to_string());
    }
}

/// Whether standard output is done with: its reader closed it, or it failed.
pub fn stdout_closed() -> bool {
    STDOUT_DONE.load(Ordering::Relaxed)
}

/// Why standard output could not be written, other than its reader closing it.
pub fn write_failure() -> Option<String> {
    STDOUT_FAILURE.lock().ok().and_then(|f| f.clone())
}

/// Writes to standard error (behind [`err!`]); a closed standard error is
/// ignored: there is nowhere left to say so.
pub fn write_err(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Prints diagnostics to stderr in the chosen format.
pub fn diagnostics(format: ErrorFormat, sources: &Sources, list: &[Diagnostic]) {
    let text = match format {
        ErrorFormat::Human => render_human(sources, list),
        ErrorFormat::Json => render_json(sources, list),
    };
    err!("{text}");
}

/// Prints an error (with its diagnostics when it has any) to stderr.
pub fn error(format: ErrorFormat, error: &(dyn std::error::Error + 'static)) {
    match format {
        ErrorFormat::Human => {
            let mut text = format!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            errln!("{text}");
        }
        ErrorFormat::Json => {
            let json = serde_json::json!({ "severity": "error", "message": error.to_string() });
            errln!("{json}");
        }
    }
}

/// Prints an error with its help text, when it has one (`help: ...` on
/// the next line; a `help` key in JSON).
pub fn error_with_help(format: ErrorFormat, error: &(dyn miette::Diagnostic + 'static)) {
    let Some(help) = error.help().map(|h| h.to_string()) else {
        return self::error(format, error);
    };
    with_help(format, error, &help);
}

/// Prints an error with the help text given.
fn with_help(format: ErrorFormat, error: &dyn std::fmt::Display, help: &str) {
    match format {
        ErrorFormat::Human => errln!("error: {error}\n  help: {help}"),
        ErrorFormat::Json => {
            let json = serde_json::json!({ "severity": "error", "message": error.to_string(), "help": help });
            errln!("{json}");
        }
    }
}

/// Prints why a request cannot be decided, with a did-you-mean for a user
/// or an environment the directory does not know, and the environments of
/// a user without an account in the one asked; exit code 3.
pub fn request_error(format: ErrorFormat, e: &crate::RequestError, directory: &Directory) -> Exit {
    use crate::RequestError as E;
    use crate::diagnostic::did_you_mean;
    let closest = |name: &str, names: &mut dyn Iterator<Item = &str>| {
        did_you_mean(name, names).map(|s| format!("did you mean `{s}`?"))
    };
    let help = match e {
        E::UnknownUser(user) => closest(user, &mut directory.users().iter().map(|u| u.id.as_str())),
        E::UnknownEnvironment(env) => {
            closest(env, &mut directory.environments().iter().map(|e| e.id.as_str()))
        }
        E::NoAccount { user, .. } => {
            let envs: Vec<String> = directory.accounts_of(user).map(|a| format!("`{}`", a.env)).collect();
            (!envs.is_empty()).then(|| format!("`{user}` has accounts in {}", envs.join(", ")))
        }
        _ => None,
    };
    match help {
        Some(help) => with_help(format, e, &help),
        None => error_with_help(format, e),
    }
    Exit::Invalid
}

/// Loads a policy set, printing warnings; on failure prints why and gives
/// the exit code (3 invalid, 1 unreadable).
pub fn load_policies(paths: &[PathBuf], format: ErrorFormat) -> Result<PolicySet, Exit> {
    match PolicySet::load(paths) {
        Ok(loaded) => {
            if !loaded.warnings.is_empty() {
                diagnostics(format, loaded.set.sources(), &loaded.warnings);
            }
            Ok(loaded.set)
        }
        Err(e) => Err(policy_error(format, &e)),
    }
}

/// Prints a policy error and picks its exit code.
pub fn policy_error(format: ErrorFormat, e: &policy::Error) -> Exit {
    match e.diagnostics() {
        Some((sources, list)) => {
            diagnostics(format, sources, list);
            Exit::Invalid
        }
        None => {
            error(format, e);
            Exit::Failure
        }
    }
}

/// Loads a directory file; on failure prints why and gives the exit code.
pub fn load_directory(path: &Path, format: ErrorFormat, schema: &Schema) -> Result<Directory, Exit> {
    note_migration(path, format);
    directory::load(path, schema).map_err(|e| {
        let exit = directory_error(format, &e);
        // A name the standard schema does not know may be one a pack declares.
        let names = match &e {
            directory::Error::Invalid { diagnostics, .. } => {
                diagnostics.iter().any(|d| matches!(d.code, "unknown-value" | "attribute"))
            }
            directory::Error::Nonconforming { .. } => true,
            _ => false,
        };
        if names && schema.digest() == crate::policy::declare::standard().digest() {
            note(
                format,
                "the directory was read for steward's standard schema; for a pack that declares its own, \
                 pass --policy PATH (or set `policies` in steward.yaml)",
            );
        }
        exit
    })
}

/// The schema a command without a policy set of its own reads a directory
/// by: that of the policies given or configured in steward.yaml, the
/// standard one when there are none. A policy set that does not load is
/// said, with exit 3.
pub fn configured_schema(ctx: &Context, given: &[PathBuf]) -> Result<Arc<Schema>, Exit> {
    let paths = ctx.config.policies_or(given);
    if paths.is_empty() {
        return Ok(crate::policy::declare::standard());
    }
    Ok(load_policies(&paths, ctx.errors)?.schema().clone())
}

/// Why `path` cannot be the database a writer changes (`what`: "apply
/// changes"), or `None` when it can: a missing file and a file of another
/// kind are told apart, each with the command that makes the database.
pub fn not_a_store(path: &Path, what: &str) -> Option<String> {
    let shown = path.display();
    if !directory::is_store(path) {
        // A directory file: the import of that very file.
        let import = match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml" | "json") => {
                format!("steward import {shown} -o {}", path.with_extension("db").display())
            }
            _ => "steward import DIRECTORY.yaml -o FILE.db".to_owned(),
        };
        return Some(format!(
            "`{shown}` is not a directory database (a `.db` file): {what} one; make it with `{import}`"
        ));
    }
    if !path.exists() {
        return Some(format!(
            "`{shown}` does not exist: {what} a directory database; make it with `steward import DIRECTORY.yaml -o {shown}`"
        ));
    }
    None
}

/// Says, before it happens, that opening a database will migrate it: at a
/// million accounts that takes a while, once, and silence would look like
/// a hang.
pub fn note_migration(path: &Path, format: ErrorFormat) {
    if !directory::is_store(path) {
        return;
    }
    let Some(from) = directory::store::pending_migration(path) else { return };
    let text = format!(
        "`{}` has schema {from}; migrating it to schema {} (once; a large directory takes a while)",
        path.display(),
        directory::store::SCHEMA_VERSION
    );
    match format {
        ErrorFormat::Human => errln!("note: {text}"),
        ErrorFormat::Json => errln!("{}", serde_json::json!({ "severity": "note", "message": text })),
    }
}

/// Prints a directory error and picks its exit code.
pub fn directory_error(format: ErrorFormat, e: &directory::Error) -> Exit {
    match e {
        directory::Error::Invalid { sources, diagnostics: list, .. } => {
            diagnostics(format, sources, list);
            Exit::Invalid
        }
        directory::Error::UnknownFormat { .. }
        | directory::Error::Options { .. }
        | directory::Error::NewerSchema { .. }
        | directory::Error::NotADirectory { .. } => {
            error(format, e);
            Exit::Invalid
        }
        directory::Error::Nonconforming { .. } => {
            error_with_help(format, e);
            Exit::Invalid
        }
        directory::Error::Io { path, source } if source.kind() == std::io::ErrorKind::NotFound => {
            match nearby_file(path) {
                Some(near) => {
                    let help = format!("did you mean `{}`?", near.display());
                    error_with_help(format, &WithHelp(format!("{e}: {source}"), help));
                }
                None => error(format, e),
            }
            Exit::Failure
        }
        _ => {
            error(format, e);
            Exit::Failure
        }
    }
}

/// The file beside `path` whose name is closest to its name: what a
/// misspelt `--directory examples/crm.yml` meant.
fn nearby_file(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let names: Vec<String> = std::fs::read_dir(folder)
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    let near = crate::diagnostic::did_you_mean(name, names.iter().map(String::as_str))?;
    Some(path.with_file_name(near))
}

/// An error shown with a help line of its own.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{0}")]
struct WithHelp(String, #[help] String);

/// Prints a value as pretty JSON on stdout.
pub fn json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => outln!("{text}"),
        Err(e) => errln!("error: cannot write JSON: {e}"),
    }
}

/// Writes through a temporary file in the same folder, renamed over the
/// target: a crash leaves either the old file or the new one, never half.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The directory named by the flag, or by steward.yaml.
pub fn configured_directory(ctx: &Context, flag: Option<&Path>, schema: &Schema) -> Result<Directory, Exit> {
    let Some(path) = ctx.config.directory_or(flag) else {
        message(ctx.errors, "no directory: pass --directory FILE or set `directory` in steward.yaml");
        return Err(Exit::Failure);
    };
    load_directory(&path, ctx.errors, schema)
}

/// The flags naming a policy set and a directory, shared by the commands
/// that need both.
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// Policy files, or folders of `.policy` files (default: `policies` in steward.yaml).
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
    /// The directory, `.yaml`, `.json` or `.db` (default: `directory` in steward.yaml).
    #[arg(long)]
    pub directory: Option<PathBuf>,
}

/// The policy set and the directory named by the flags, or by steward.yaml.
pub fn load_both(ctx: &Context, inputs: &Inputs) -> Result<(PolicySet, Directory), Exit> {
    let paths = configured_policies(ctx, &inputs.policies, "--policy PATH")?;
    let set = load_policies(&paths, ctx.errors)?;
    let directory = configured_directory(ctx, inputs.directory.as_deref(), set.schema())?;
    Ok((set, directory))
}

/// The policy paths given (`flag` says how, in the error), or those of
/// steward.yaml; neither is an error that names both ways, exit 1.
pub fn configured_policies(ctx: &Context, given: &[PathBuf], flag: &str) -> Result<Vec<PathBuf>, Exit> {
    let paths = ctx.config.policies_or(given);
    if paths.is_empty() {
        message(ctx.errors, &format!("no policies: pass {flag} or set `policies` in steward.yaml"));
        return Err(Exit::Failure);
    }
    Ok(paths)
}

/// Prints a note that goes with an error just printed.
pub fn note(format: ErrorFormat, text: &str) {
    match format {
        ErrorFormat::Human => errln!("note: {text}"),
        ErrorFormat::Json => errln!("{}", serde_json::json!({ "severity": "note", "message": text })),
    }
}

/// Prints an error that is a message alone, with no error value behind it,
/// to stderr.
pub fn message(format: ErrorFormat, message: &str) {
    match format {
        ErrorFormat::Human => errln!("error: {message}"),
        ErrorFormat::Json => errln!("{}", serde_json::json!({ "severity": "error", "message": message })),
    }
}

/// The flags of a request besides who does what to whom, shared by
/// `decide` and `impact`: `impact` decides its fallback for the request
/// `decide` would get.
#[derive(Debug, clap::Args)]
pub struct RequestFlags {
    /// Why (C2).
    #[arg(long)]
    pub reason: Option<String>,
    /// The change is confirmed (C2).
    #[arg(long)]
    pub confirm: bool,
    /// Part of a bulk operation (C5).
    #[arg(long)]
    pub bulk: bool,
    /// The number of targets of the bulk operation.
    #[arg(long)]
    pub batch_size: Option<i64>,
    /// The clock (default: now), for reproducible runs: RFC 3339, or a date, its midnight in
    /// the configured time zone.
    #[arg(long)]
    pub now: Option<Now>,
}

impl RequestFlags {
    /// A request with these flags and its clock; who does what to whom
    /// left to fill in.
    pub fn request(&self, ctx: &Context) -> Result<crate::Request, Exit> {
        Ok(crate::Request {
            reason: self.reason.clone(),
            confirm: self.confirm,
            bulk: self.bulk,
            batch_size: self.batch_size,
            now: Some(now(ctx, self.now)?),
            ..crate::Request::default()
        })
    }
}

/// A `--now` value, the same for every command that takes one: an RFC 3339
/// time (`2026-12-01T09:00:00Z`), or a date or a time without offset
/// (`2026-12-01`, `2026-12-01T09:00`), taken in the configured time zone
/// (`timezone` in steward.yaml, UTC by default): a date is its midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Now {
    /// A point in time.
    At(jiff::Timestamp),
    /// A wall-clock date and time, in the configured time zone.
    Local(jiff::civil::DateTime),
}

impl std::str::FromStr for Now {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if let Ok(at) = text.parse() {
            return Ok(Now::At(at));
        }
        text.parse().map(Now::Local).map_err(|_| {
            format!(
                "`{text}` is not a date (`2026-12-01`) or a time (`2026-12-01T09:00:00Z`, `2026-12-01T09:00`)"
            )
        })
    }
}

/// The clock of a command: `--now` when given, in the configured time zone
/// when it has no offset; the current time otherwise.
pub fn now(ctx: &Context, flag: Option<Now>) -> Result<jiff::Timestamp, Exit> {
    let local = match flag {
        None => return Ok(jiff::Timestamp::now()),
        Some(Now::At(at)) => return Ok(at),
        Some(Now::Local(local)) => local,
    };
    let zone = &ctx.config.timezone;
    jiff::tz::TimeZone::get(zone).and_then(|tz| local.to_zoned(tz)).map(|z| z.timestamp()).map_err(|e| {
        message(ctx.errors, &format!("`--now {local}` cannot be read in the time zone `{zone}`: {e}"));
        Exit::Invalid
    })
}

/// A count with its noun: "1 change", "2 changes" (shared with the
/// impact's own words).
pub use crate::graph::report::plural;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, timezone: &str) -> jiff::Timestamp {
        let config = crate::config::Config { timezone: timezone.into(), ..Default::default() };
        let ctx = Context { errors: ErrorFormat::Human, config };
        now(&ctx, Some(text.parse().unwrap())).unwrap()
    }

    #[test]
    fn a_date_is_its_midnight_in_the_configured_time_zone() {
        assert_eq!(at("2026-12-01", "UTC").to_string(), "2026-12-01T00:00:00Z");
        assert_eq!(at("2026-12-01", "Europe/Amsterdam").to_string(), "2026-11-30T23:00:00Z");
        assert_eq!(at("2026-12-01T09:30", "UTC").to_string(), "2026-12-01T09:30:00Z");
    }

    #[test]
    fn a_time_with_an_offset_is_taken_as_it_is_in_any_time_zone() {
        assert_eq!(at("2026-12-01T09:00:00+02:00", "Europe/Amsterdam").to_string(), "2026-12-01T07:00:00Z");
    }

    #[test]
    fn neither_a_date_nor_a_time_says_what_is_taken() {
        let err = "2026-13-01".parse::<Now>().unwrap_err();
        assert!(err.contains("`2026-13-01` is not a date"), "{err}");
        assert!("soon".parse::<Now>().is_err());
    }
}
