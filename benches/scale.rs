//! The scale figures of docs/benchmarks.md, printed: a generated directory
//! of N accounts (default 1,000,000; `STEWARD_SCALE_ACCOUNTS` to change)
//! imported into SQLite, loaded back, its reference graph built, the impact
//! of deleting 100,000 accounts computed in one batch, and peak memory of
//! the analysis alone (as `steward impact` on the database would use).
//!
//! Run: `cargo bench --bench scale` (release build). `STEWARD_SCALE_DB=PATH`
//! keeps the generated database at PATH, and when PATH exists analyses it
//! without generating again (for profiling the load and the analysis).
//! The load is timed with the database file in the page cache;
//! `STEWARD_SCALE_COLD=1` times it as the file happens to be cached.

use std::path::Path;
use std::time::Instant;

use steward::Engine;

// The allocator of the `steward` binary, so that the figures are those of
// `steward impact` on the database.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use steward::directory::generate::{GenerateOptions, generate};
use steward::directory::store::{ImportOptions, Store};
use steward::graph::{ImpactQuery, ReferenceGraph};
use steward::policy::PolicySet;

/// A line of /proc/self/status in MiB: `VmHWM` (peak) or `VmRSS` (now).
fn memory_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn peak_memory_mib() -> Option<f64> {
    memory_mib("VmHWM:")
}

fn resident_mib() -> f64 {
    memory_mib("VmRSS:").unwrap_or(f64::NAN)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let accounts: usize =
        std::env::var("STEWARD_SCALE_ACCOUNTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    if let Some(db) = std::env::var_os(ANALYSE) {
        return analyse(Path::new(&db));
    }
    let dir = tempfile::tempdir()?;
    let db = match std::env::var_os("STEWARD_SCALE_DB") {
        Some(kept) if Path::new(&kept).exists() => return analyse_in_child(Path::new(&kept)),
        Some(kept) => kept.into(),
        None => dir.path().join("scale.db"),
    };

    let t = Instant::now();
    let generated = generate(GenerateOptions { accounts, seed: 42 });
    let assets_and_refs = generated.assets().len() + generated.references().len();
    println!(
        "generate: {} accounts, {} assets, {} references in {:.2?}",
        generated.accounts().len(),
        generated.assets().len(),
        generated.references().len(),
        t.elapsed()
    );

    let t = Instant::now();
    Store::open(&db)?.import(&generated, "scale", ImportOptions::default())?;
    let import = t.elapsed();
    let rows = generated.environments().len()
        + generated.users().len()
        + generated.accounts().len()
        + assets_and_refs;
    println!("import into SQLite: {import:.2?} ({:.0} rows/s)", rows as f64 / import.as_secs_f64());
    drop(generated);
    println!("peak memory generating and importing: {:.0} MiB", peak_memory_mib().unwrap_or(f64::NAN));

    analyse_in_child(&db)
}

/// What an administrator's run against the database costs, measured in a
/// process of its own: memory the generator freed but the allocator kept
/// would otherwise count toward it.
fn analyse_in_child(db: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let status = std::process::Command::new(std::env::current_exe()?).env(ANALYSE, db).status()?;
    if !status.success() {
        return Err(format!("the analysis failed: {status}").into());
    }
    Ok(())
}

/// Set to the database to analyse: the second process of the benchmark.
const ANALYSE: &str = "STEWARD_SCALE_ANALYSE";

fn analyse(db: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let db = db.to_path_buf();
    // The load is timed from the page cache, as on a machine that uses the
    // database: this one's memory daemon evicts idle file pages within
    // seconds, and a load that reads part of the file from disk measures
    // the disk. `STEWARD_SCALE_COLD=1` skips it.
    if std::env::var_os("STEWARD_SCALE_COLD").is_none() {
        let cached = std::io::copy(&mut std::fs::File::open(&db)?, &mut std::io::sink())?;
        println!("database read once into the page cache: {} MiB", cached / (1 << 20));
    }
    let t = Instant::now();
    let directory = Store::open(&db)?.load()?;
    let load = t.elapsed();
    let loaded = resident_mib();
    let t = Instant::now();
    let graph = ReferenceGraph::build(&directory);
    let build = t.elapsed();
    println!("resident: {loaded:.0} MiB with the directory, {:.0} MiB with its graph", resident_mib());
    let edges = graph.edge_count();
    println!(
        "load from SQLite: {load:.2?}; graph build: {build:.2?}, {} nodes, {edges} edges ({:.0} edges/s; {:.0} edges/s from SQLite)",
        graph.node_count(),
        edges as f64 / build.as_secs_f64(),
        edges as f64 / (load + build).as_secs_f64()
    );
    drop(graph);

    let policies = PolicySet::load(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/analytics")])?.set;
    let accounts = directory.accounts().len();
    let impacts = (accounts / 10).max(1);
    let engine = Engine::new(policies, directory);
    let _ = engine.graph();
    let targets: Vec<(String, String)> = engine
        .directory()
        .accounts()
        .iter()
        .step_by((accounts / impacts).max(1))
        .take(impacts)
        .map(|a| (a.user.to_string(), a.env.to_string()))
        .collect();
    let actor =
        engine.directory().accounts().iter().find(|a| a.has_role("administrator")).map(|a| a.user.clone());
    let queries: Vec<ImpactQuery<'_>> = targets
        .iter()
        .map(|(user, env)| ImpactQuery { actor: actor.as_deref(), action: "delete", user, env })
        .collect();
    let t = Instant::now();
    let mut listed = 0usize;
    for impact in engine.impact_batch(&queries) {
        let impact = impact?;
        listed += impact.reassign.len() + impact.at_risk.len() + impact.revoke.len() + impact.remove.len();
    }
    println!("impact of deleting {} accounts: {:.2?} ({listed} assets listed)", targets.len(), t.elapsed());
    println!("peak memory loading, building and analysing: {:.0} MiB", peak_memory_mib().unwrap_or(f64::NAN));
    Ok(())
}
