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
    directory::load(&root().join("examples").join(name)).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_and_validate(c: &mut Criterion) {
    let paths = [root().join("policies")];
    c.bench_function("parse+validate shipped packs", |b| b.iter(|| PolicySet::load(black_box(&paths))));
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
