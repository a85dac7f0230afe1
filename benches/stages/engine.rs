//! Criterion benchmarks of every stage, so that a regression shows before it
//! lands: parse and validate the shipped packs, decide, build the graph,
//! compute an impact. `cargo bench --bench engine`.

#![expect(clippy::panic, reason = "a benchmark without its inputs has nothing to measure")]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use steward::Engine;
use steward::directory::generate::{GenerateOptions, generate};
use steward::directory::{self, Directory};
use steward::graph::{ImpactQuery, ReferenceGraph};
use steward::policy::{PolicySet, Request};

fn root() -> &'static Path {
    // This workspace sits in benches/stages/ of the checkout.
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn load(pack: &str) -> PolicySet {
    PolicySet::load(&[root().join("policies").join(pack)]).map(|l| l.set).unwrap_or_else(|e| panic!("{e}"))
}

fn example(name: &str) -> Directory {
    let standard = steward::policy::declare::standard();
    directory::load(&root().join("examples").join(name), &standard).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_and_validate(c: &mut Criterion) {
    let paths = ["erp", "crm", "analytics"].map(|p| root().join("policies").join(p));
    c.bench_function("parse+validate the three standard-schema packs", |b| {
        b.iter(|| PolicySet::load(black_box(&paths)))
    });
    // A pack with its own schema: the declarations checked and compiled
    // with the rules (#16: under 5 ms).
    for pack in ["devops", "office", "sales"] {
        let paths = [root().join("policies").join(pack)];
        c.bench_function(&format!("parse+validate {pack} (its own schema)"), |b| {
            b.iter(|| PolicySet::load(black_box(&paths)))
        });
    }
    // The standard schema compiled from its text, as the first set without
    // a schema block in a process does once.
    let standard = [root().join("schema/standard.policy")];
    c.bench_function("compile the standard schema", |b| b.iter(|| PolicySet::load(black_box(&standard))));
}

fn decide(c: &mut Criterion) {
    let set = load("crm");
    let directory = example("crm.yaml");
    let mut request = Request::new("crm.Ada", "block", "CRM1").target("crm.Sam");
    request.confirm = true;
    request.reason = Some("left".into());
    request.now = Some(jiff::Timestamp::UNIX_EPOCH);
    c.bench_function("decide (crm pack, deny by forbid)", |b| {
        b.iter(|| set.decide(black_box(&request), &directory).map(|d| d.allowed()))
    });
    let set = load("erp");
    let directory = example("erp.yaml");
    let mut request = Request::new("12345.Admin", "edit_email", "O98765AA").target("12345.BWilliams");
    request.now = Some(jiff::Timestamp::UNIX_EPOCH);
    c.bench_function("decide (erp pack, guest e-mail G7)", |b| {
        b.iter(|| set.decide(black_box(&request), &directory).map(|d| d.allowed()))
    });
}

fn graph(c: &mut Criterion) {
    let directory = generate(GenerateOptions { accounts: 10_000, seed: 1 });
    c.bench_function("graph build (10k accounts)", |b| {
        b.iter(|| ReferenceGraph::build(black_box(&directory)))
    });
    let engine = Engine::new(load("analytics"), example("analytics.yaml"));
    let query = ImpactQuery { actor: Some("acme.Olivia"), action: "delete", user: "acme.Leo", env: "acme" };
    c.bench_function("impact (analytics leaver)", |b| b.iter(|| engine.impact(black_box(&query))));
}

criterion_group!(benches, parse_and_validate, decide, graph);
criterion_main!(benches);
