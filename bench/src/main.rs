//! steward against Cedar and Rego (regorus) on the same decisions.
//!
//! `cargo run --release` in `bench/` runs everything: it generates a
//! directory and a workload, checks that the three engines decide every
//! request alike (same decision, same deciding rules), then times decisions
//! and loading at three policy sizes and prints the tables recorded in
//! docs/benchmarks.md. Environment: `BENCH_ACCOUNTS` (directory size,
//! default 10,000), `BENCH_REQUESTS` (default 2,000), `BENCH_SECONDS`
//! (time budget per engine and size, default 3).

mod engines;
mod model;
mod timing;
mod workload;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Result, bail};

use engines::{Cedar, Rego, Steward, cedar_entities_json, rego_data_json};
use timing::{Figures, measure, median_time};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn main() -> Result<()> {
    if std::env::var_os("BENCH_SIZES").is_some() {
        eprintln!(
            "size_of: eval::Value {} B, eval::Ent {} B, Account {} B, Result<Option<Value>> {} B",
            size_of::<steward::policy::eval::Value>(),
            size_of::<steward::policy::eval::Ent>(),
            size_of::<steward::directory::model::Account>(),
            size_of::<Result<Option<steward::policy::eval::Value>, steward::policy::eval::EvalError>>()
        );
    }
    if std::env::var_os("BENCH_COMPILE_ONLY").is_some() {
        // For profiling the load of the largest set.
        let texts = model::texts(1_000);
        eprintln!(
            "compile 1,000 rules: {:?}",
            median_time(20, || Steward::compile(&texts.steward).map(|_| ()))
        );
        return Ok(());
    }
    let accounts = env_number("BENCH_ACCOUNTS", 10_000);
    let count = env_number("BENCH_REQUESTS", 2_000);
    let budget = Duration::from_secs_f64(env_number("BENCH_SECONDS", 3) as f64);
    let sizes = [model::MODEL_RULES, 100, 1_000];

    let directory = workload::directory(accounts);
    let requests = workload::requests(&directory, count);
    let cedar_json = cedar_entities_json(&directory);
    let rego_json = rego_data_json(&directory);
    println!(
        "directory: {} environments, {} users, {} accounts (generated, seed 8); workload: {} requests",
        directory.environments().len(),
        directory.users().len(),
        directory.accounts().len(),
        requests.len()
    );

    let mut sizes_of = std::collections::BTreeMap::new();
    for a in directory.accounts() {
        *sizes_of.entry(a.env.as_str()).or_insert(0usize) += 1;
    }
    let counting = requests
        .iter()
        .filter(|r| {
            matches!(r.action, "block" | "delete")
                && directory.account(&r.target, &r.env).is_some_and(|a| {
                    a.has_role("administrator") && a.status == "active"
                })
        })
        .count();
    println!("accounts per environment: {sizes_of:?}; requests that reach the count: {counting}");
    let mut rows = Vec::new();
    let mut loads = Vec::new();
    for &size in &sizes {
        let texts = model::texts(size);
        let steward = Steward::new(&texts.steward, &requests)?;
        let cedar = Cedar::new(&texts.cedar, cedar_json.clone(), &requests)?;
        let mut rego = Rego::new(&texts.rego, rego_json.clone(), &requests)?;
        let coverage = agree(&steward, &cedar, &mut rego, &directory, &requests)?;
        if size == model::MODEL_RULES {
            print_coverage(&coverage, requests.len());
        }
        let s = measure(requests.len(), budget, |i| steward.decide(i, &directory));
        if std::env::var_os("BENCH_BY_RULE").is_some() {
            by_rule(&steward, &directory, &requests);
        }
        if std::env::var_os("BENCH_STEWARD_ONLY").is_some() {
            eprintln!("steward, {} rules: {s:?}", texts.rules);
            continue;
        }
        let c = measure(requests.len(), budget, |i| cedar.decide(i));
        let r = measure(requests.len(), budget, |i| rego.decide(i));
        rows.push((texts.rules, s, c, r));
        loads.push((
            texts.rules,
            median_time(5, || Steward::compile(&texts.steward).map(|_| ())),
            median_time(5, || Cedar::compile(&texts.cedar).map(|_| ())),
            median_time(5, || Rego::compile(&texts.rego).map(|_| ())),
        ));
        eprintln!("measured {} rules", texts.rules);
    }
    let parts = directory.clone().into_parts();
    let entity_loads = (
        median_time(5, || steward::directory::Directory::new(parts.clone())),
        median_time(5, || Cedar::entities(cedar_json.clone()).map(|_| ())),
        median_time(5, || {
            let mut e = regorus::Engine::new();
            e.add_data(regorus::Value::from(rego_json.clone()))
        }),
    );
    print_tables(&rows, &loads, entity_loads);
    Ok(())
}

/// Every request decided alike by the three engines, or the run stops with
/// the request printed. Returns how often each rule decided.
fn agree(
    steward: &Steward,
    cedar: &Cedar,
    rego: &mut Rego,
    directory: &steward::directory::Directory,
    requests: &[workload::Req],
) -> Result<BTreeMap<String, usize>> {
    let mut coverage = BTreeMap::new();
    for (i, request) in requests.iter().enumerate() {
        let s = steward.outcome(i, directory)?;
        let c = cedar.outcome(i)?;
        let r = rego.outcome(i)?;
        // steward stops at its built-in status rule; the others go on and
        // may name more forbids beside it.
        let status = s.rules.iter().any(|n| n.starts_with("status_transition"));
        let same = if status {
            s.allowed == c.allowed
                && s.allowed == r.allowed
                && s.rules.is_subset(&c.rules)
                && s.rules.is_subset(&r.rules)
        } else {
            s == c && s == r
        };
        if !same {
            bail!(
                "engines disagree on request {i}: {request:?}\n  steward: {s:?}\n  cedar:   {c:?}\n  rego:    {r:?}"
            );
        }
        let names = if s.rules.is_empty() {
            vec!["(default deny)".to_owned()]
        } else {
            s.rules.into_iter().collect()
        };
        for name in names {
            *coverage.entry(name).or_insert(0) += 1;
        }
        *coverage.entry(if s.allowed { "= allowed" } else { "= denied" }.to_owned()).or_insert(0) += 1;
    }
    for rule in [
        "admins_manage_accounts",
        "no_self_delete",
        "superusers_only_in_bulk",
        "administrators_edit_users",
        "guest_email_at_home",
        "last_admin_stays",
        "status_transition_block",
        "status_transition_unblock",
    ] {
        if !coverage.contains_key(rule) {
            bail!("no request of the workload is decided by `{rule}`");
        }
    }
    Ok(coverage)
}

fn print_coverage(coverage: &BTreeMap<String, usize>, n: usize) {
    println!("all three engines agree on all {n} requests (decision and deciding rules); decided by:");
    for (rule, count) in coverage {
        println!("  {rule:<28} {count:>6}");
    }
}

fn us(ns: f64) -> String {
    if ns >= 100_000.0 { format!("{:.0}", ns / 1000.0) } else { format!("{:.2}", ns / 1000.0) }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn print_tables(
    rows: &[(usize, Figures, Figures, Figures)],
    loads: &[(usize, Duration, Duration, Duration)],
    entities: (Duration, Duration, Duration),
) {
    println!(
        "\nper decision, µs: median over the requests, warm (p99 warm; workload mean, cold); allocations per decision"
    );
    println!("| rules | steward | Cedar | Rego (regorus) | Cedar ÷ steward | Rego ÷ steward |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for (rules, s, c, r) in rows {
        let cell = |f: &Figures| {
            let sub = if f.stride > 1 { format!(", 1/{} timed warm", f.stride) } else { String::new() };
            format!("**{}** ({}; {}); {:.1} allocs{sub}", us(f.median), us(f.p99), us(f.mean), f.allocs)
        };
        println!(
            "| {rules} | {} | {} | {} | {:.1}× ({:.1}× mean) | {:.1}× ({:.1}× mean) |",
            cell(s),
            cell(c),
            cell(r),
            c.median / s.median,
            c.mean / s.mean,
            r.median / s.median,
            r.mean / s.mean
        );
    }
    println!("\nload + compile the policy set, ms (median of 5)");
    println!("| rules | steward (parse, validate, index) | Cedar (parse) | Rego (parse, compile) |");
    println!("| ---: | ---: | ---: | ---: |");
    for (rules, s, c, r) in loads {
        println!("| {rules} | {} | {} | {} |", ms(*s), ms(*c), ms(*r));
    }
    println!(
        "\nentities, ms (median of 5): steward Directory::new {} | Cedar from JSON {} | Rego add_data {}",
        ms(entities.0),
        ms(entities.1),
        ms(entities.2)
    );
}

/// Median steward time per deciding rule set (diagnostics).
fn by_rule(steward: &Steward, directory: &steward::directory::Directory, requests: &[workload::Req]) {
    let mut groups: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (i, r) in requests.iter().enumerate() {
        let Ok(o) = steward.outcome(i, directory) else { continue };
        let region = stats_alloc::Region::new(timing::GLOBAL);
        std::hint::black_box(steward.decide(i, directory));
        let allocs = region.change().allocations;
        let t = std::time::Instant::now();
        for _ in 0..20 {
            std::hint::black_box(steward.decide(i, directory));
        }
        let ns = t.elapsed().as_nanos() as f64 / 20.0;
        groups
            .entry(format!("{} {} {:?} allocs {allocs}", r.action, o.allowed, o.rules))
            .or_default()
            .push(ns);
    }
    for (k, mut v) in groups {
        v.sort_by(f64::total_cmp);
        eprintln!("{:>6} x {:>10.0} ns median  {k}", v.len(), v[v.len() / 2]);
    }
}
