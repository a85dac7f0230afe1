//! The `steward diff` figures of docs/benchmarks.md, printed: a one-rule
//! change of the ERP pack (administrators may no longer be deleted) over
//! the generated directory of N accounts (default 1,000,000;
//! `STEWARD_DIFF_ACCOUNTS`), every action on accounts and the four default
//! request shapes, as `steward diff` runs it on the database: load, then
//! compare; then the brute force it replaces, every pair of one
//! environment decided under both sets, timed and scaled to the whole.
//!
//! Run: `cargo bench --bench diff` (release build). `STEWARD_DIFF_DB=PATH`
//! keeps the generated database at PATH and reuses it when it exists.

use std::path::Path;
use std::time::Instant;

use steward::analysis::{DiffQuery, Shape, diff};
use steward::directory::generate::{GenerateOptions, generate};
use steward::directory::store::{ImportOptions, Store};
use steward::policy::{PolicySet, Sources};
use steward::{Engine, Request};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The peak resident memory of this process, in MiB.
fn peak_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|k| k.parse::<f64>().ok()).map_or(f64::NAN, |k| k / 1024.0)
}

/// The ERP pack, and the same with one rule more.
fn sets() -> Result<(PolicySet, PolicySet), Box<dyn std::error::Error>> {
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/erp");
    let mut sources = Sources::new();
    let mut paths: Vec<_> = std::fs::read_dir(&pack)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "policy"));
    paths.sort();
    for path in &paths {
        let mut text = std::fs::read_to_string(path)?;
        if path.ends_with("accounts.policy") {
            text.push_str(
                "\nrule administrators_keep_administrators {\n  forbid delete\n  when target has role \"administrator\"\n  because \"administrators are deleted by the vendor\"\n}\n",
            );
        }
        sources.add(path.display().to_string(), text);
    }
    let new = PolicySet::from_sources(sources).map_err(|e| format!("{e:?}"))?.set;
    Ok((PolicySet::load(&[pack])?.set, new))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let accounts: usize =
        std::env::var("STEWARD_DIFF_ACCOUNTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let db = std::env::var_os("STEWARD_DIFF_DB").map_or_else(|| dir.path().join("diff.db"), Into::into);
    if !db.exists() {
        let t = Instant::now();
        Store::open(&db)?.import(
            &generate(GenerateOptions { accounts, seed: 1 }),
            "diff",
            ImportOptions::default(),
        )?;
        println!("generated and imported {accounts} accounts in {:.2?}", t.elapsed());
        // What the comparison uses is measured in a process of its own.
        let status =
            std::process::Command::new(std::env::current_exe()?).env("STEWARD_DIFF_DB", &db).status()?;
        return if status.success() {
            Ok(())
        } else {
            Err(format!("the comparison failed: {status}").into())
        };
    }

    let (base, new) = sets()?;
    let t = Instant::now();
    let directory = Store::open(&db)?.load()?;
    let load = t.elapsed();
    let accounts = directory.accounts().len();
    let new = Engine::new(new, directory);
    let base = new.with_policies(base);
    let now = "2026-12-01T00:00:00Z".parse()?;
    let query = DiffQuery { actions: Vec::new(), envs: Vec::new(), shapes: Vec::new(), now };
    let t = Instant::now();
    let answer = diff(&base, &new, &query)?;
    let compare = t.elapsed();
    println!(
        "{accounts} accounts: load {load:.2?}, diff {compare:.2?} (together {:.2?}); {} requests compared in {} decisions, {} change their answer; peak memory {:.0} MiB",
        load + compare,
        answer.compared,
        answer.decisions,
        answer.changed_answers(),
        peak_memory_mib()
    );

    // The brute force: every pair of the first environment, `delete`, one
    // shape, under both sets; scaled to every request compared.
    let env = new.directory().environments().first().map(|e| e.id.clone()).ok_or("no environment")?;
    let users: Vec<String> = new.directory().accounts_in(&env).map(|a| a.user.to_string()).collect();
    let t = Instant::now();
    let mut pairs = 0u64;
    for actor in &users {
        for target in &users {
            let mut request = Request::new(actor, "delete", &env).target(target);
            request.now = Some(now);
            let shape = Shape::default();
            request.bulk = shape.bulk;
            let (a, b) = (base.decide(&request)?, new.decide(&request)?);
            std::hint::black_box((a, b));
            pairs += 1;
        }
    }
    let brute = t.elapsed();
    let per_pair = brute.as_secs_f64() / pairs as f64;
    println!(
        "brute force: {pairs} pairs of {env} under both sets in {brute:.2?} ({:.2} µs a pair): every request compared would take {:.0} s ({:.1} days)",
        per_pair * 1e6,
        per_pair * answer.compared as f64,
        per_pair * answer.compared as f64 / 86_400.0
    );
    Ok(())
}
