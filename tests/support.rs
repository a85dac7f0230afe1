//! What the integration tests share: the repository's packs and examples,
//! the `steward` command run in the repository root, databases and saved
//! plans in temporary folders, and JSON read back from files and output;
//! `interop`, the real SCIM software (scim2-server, scim2-tester).
//! The binaries with a `main` of their own (`cases`, `alloc`) use a few
//! of these too.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde::de::DeserializeOwned;
use serde_json::Value;
use steward::Engine;
use steward::directory::audit::Entry;
use steward::directory::store::Store;
use steward::directory::{self, Directory, yaml};
use steward::policy::report::render_json;
use steward::policy::{Diagnostic, PolicySet, Request, Sources};

pub mod gateway;
pub mod interop;

/// The clock of requests and plans: after Lou Leaver's employment ended
/// (2026-10-31), before Pia's invitation expires (2026-12-01).
pub const NOW: &str = "2026-11-23T09:00:00Z";

/// Every pack steward ships, each with `examples/<pack>.yaml`: the three of
/// the source systems, on the standard schema, and three that declare
/// their own (#16).
pub const PACKS: &[&str] = &["erp", "crm", "analytics", "devops", "office", "sales"];

/// New owners for what Leo leaves behind in the analytics example, as the
/// policy allows them (D7): (asset, new owner).
pub const LEAVER_OWNERS: &[(&str, &str)] = &[
    ("space-sales", "acme.Olivia"),
    ("space-leo", "acme.Olivia"),
    ("app-forecast", "acme.Anders"),
    ("dc-warehouse", "acme.Dana"),
    ("reload-nightly", "acme.Uma"),
];

/// The repository root.
/// Whether the declared boolean attribute `name` is set to true in
/// `attrs` (the standard schema's `portal`, `guest_license`, which default
/// to false).
pub fn flag(attrs: &steward::directory::model::Attrs, name: &str) -> bool {
    attrs.get(name) == Some(&steward::directory::model::AttrValue::Bool(true))
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped pack `name`'s folder (`policies/NAME`).
pub fn pack_dir(name: &str) -> PathBuf {
    root().join("policies").join(name)
}

/// The shipped example `name`'s file (`examples/NAME.yaml`).
pub fn example_file(name: &str) -> PathBuf {
    root().join("examples").join(format!("{name}.yaml"))
}

/// The text of the shipped example `name`.
pub fn example(name: &str) -> String {
    std::fs::read_to_string(example_file(name)).unwrap()
}

/// Directory text with `extra` (YAML list entries) first among its users.
pub fn with_users(text: &str, extra: &str) -> String {
    text.replacen("users:\n", &format!("users:\n{extra}"), 1)
}

/// The shipped pack `name`.
pub fn pack(name: &str) -> PolicySet {
    PolicySet::load(&[pack_dir(name)]).unwrap().set
}

/// A policy set of one file, `p.policy`, holding `text`.
pub fn policy(text: &str) -> PolicySet {
    let mut sources = Sources::new();
    sources.add("p.policy", text);
    PolicySet::from_sources(sources).unwrap().set
}

/// A directory from YAML text.
pub fn parse(text: &str) -> Directory {
    yaml::parse("seed.yaml", text, &steward::policy::declare::standard())
        .unwrap_or_else(|(_, d)| panic!("{d:#?}"))
}

/// The directory file (`.yaml` or `.db`) at `path`.
pub fn load(path: &Path) -> Directory {
    directory::load(path, &steward::policy::declare::standard()).unwrap()
}

/// The shipped pack `name` over its shipped example.
pub fn shipped(name: &str) -> Engine {
    Engine::load_paths(&[pack_dir(name)], &example_file(name)).unwrap()
}

/// The shipped pack `name` over a directory given as YAML text.
pub fn over(name: &str, directory: &str) -> Engine {
    Engine::new(pack(name), parse(directory))
}

/// A request at [`NOW`] of `actor` to `action` on `target` in `env`.
pub fn ask(actor: &str, action: &str, target: &str, env: &str) -> Request {
    let mut request = Request::new(actor, action, env).target(target);
    request.now = Some(NOW.parse().unwrap());
    request
}

/// `dir/NAME`, with `text` written to it.
pub fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The `steward` command, run in the repository root.
pub fn steward() -> Command {
    steward_in(root())
}

/// The `steward` command, run in `dir` (where it looks for steward.yaml).
pub fn steward_in(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("steward").unwrap();
    cmd.current_dir(dir);
    cmd
}

/// The `steward` command as a plain process, for a test that spawns,
/// signals or kills it; run in the repository root.
pub fn steward_process() -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("steward"));
    command.current_dir(root());
    command
}

/// `steward SUBCOMMAND --policy PACK --directory DIRECTORY`.
pub fn command(subcommand: &str, pack: &Path, directory: &Path) -> Command {
    let mut cmd = steward();
    cmd.arg(subcommand).arg("--policy").arg(pack).arg("--directory").arg(directory);
    cmd
}

/// `steward SUBCOMMAND` with the shipped pack `name` over its shipped example.
pub fn on_example(subcommand: &str, name: &str) -> Command {
    command(subcommand, &pack_dir(name), &example_file(name))
}

/// `steward import YAML -o DB`, which must succeed.
pub fn import(yaml: &Path, db: &Path) {
    steward().arg("import").arg(yaml).arg("-o").arg(db).assert().success();
}

/// A database `dir/NAME.db` of the shipped example `name` with `extra`
/// first among its users (imported from a copy, `dir/NAME.yaml`).
pub fn database(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let yaml = file(dir, &format!("{name}.yaml"), &with_users(&example(name), extra));
    let db = dir.join(format!("{name}.db"));
    import(&yaml, &db);
    db
}

/// `steward plan` of `pack` over `db` with `args`, saved as `dir/plan.json`:
/// the file and the exit code (2 when an item is denied).
pub fn save_plan(dir: &Path, pack: &Path, db: &Path, args: &[&str]) -> (PathBuf, i32) {
    let path = dir.join("plan.json");
    let out = command("plan", pack, db).args(args).arg("-o").arg(&path).output().unwrap();
    (path, out.status.code().unwrap())
}

/// `steward plan` as [`save_plan`] does, where the plan must succeed.
pub fn saved_plan(dir: &Path, pack: &Path, db: &Path, args: &[&str]) -> PathBuf {
    let path = dir.join("plan.json");
    command("plan", pack, db).args(args).arg("-o").arg(&path).assert().success();
    path
}

/// `steward apply PLAN` of `pack` on `db` (not confirmed yet).
pub fn apply_cmd(pack: &Path, db: &Path, plan: &Path) -> Command {
    let mut cmd = command("apply", pack, db);
    cmd.arg(plan);
    cmd
}

/// The directory in the database `db`.
pub fn stored(db: &Path) -> Directory {
    Store::open(db).unwrap().load().unwrap()
}

/// The audit log of the database `db`, oldest first.
pub fn audit(db: &Path) -> Vec<Entry> {
    Store::open(db).unwrap().audit(None).unwrap()
}

/// A JSON file (a saved plan) as `T`.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> T {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A command's standard output as JSON.
pub fn stdout_json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The first of `diagnostics` in its JSON form (code, line, column...).
pub fn first_diagnostic(sources: &Sources, diagnostics: &[Diagnostic]) -> Value {
    serde_json::from_str(render_json(sources, diagnostics).lines().next().unwrap()).unwrap()
}

/// `steward users --search TEXT` over the directory file `directory`: the
/// rows found, as JSON.
pub fn search_users(directory: &Path, text: &str) -> Vec<Value> {
    let out = steward()
        .arg("users")
        .arg("--directory")
        .arg(directory)
        .args(["--format", "json", "--search", text])
        .assert()
        .success();
    stdout_json(out.get_output()).as_array().unwrap().clone()
}
