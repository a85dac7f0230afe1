//! A decision over in-memory entities allocates nothing: counted with a
//! global allocator in a binary of its own (harness = false, one thread), so
//! that no other test's allocations are counted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

// A binary of its own: it uses a few of the shared helpers.
#[allow(dead_code)]
mod support;

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use steward::policy::Request;

use crate::support::{example_file, load, pack};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations per decision of `request` with the shipped pack `name` over
/// its shipped example.
fn allocations_per_decision(name: &str, request: &Request) -> usize {
    let set = pack(name);
    let directory = load(&example_file(name));
    // Warm up: lazily initialised statics allocate once.
    let first = set.decide(request, &directory).unwrap();
    let region = Region::new(GLOBAL);
    for _ in 0..1000 {
        let decision = set.decide(request, &directory).unwrap();
        assert_eq!(decision.allowed(), first.allowed());
    }
    region.change().allocations.div_ceil(1000)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("decisions_do_not_allocate: test");
        return;
    }
    let now = Some(jiff::Timestamp::UNIX_EPOCH);
    let mut guest = Request::new("98765.Admin", "edit_email", "O98765AA").target("12345.BWilliams");
    guest.now = now;
    let mut last = Request::new("crm.Ada", "block", "CRM1").target("crm.Sam");
    last.confirm = true;
    last.reason = Some("left".into());
    last.now = now;
    let mut allowed = Request::new("acme.Olivia", "delete", "acme").target("acme.Uma");
    allowed.now = now;
    let mut paused = Request::new("12345.Admin", "block", "O12345AA").target("12345.Paused");
    paused.now = now;
    // G9: rules read the declared `desktop_access`, left out (its default).
    let mut licence = Request::new("12345.Admin", "activate_guest_license", "O12345AA").target("12345.Fresh");
    licence.now = now;
    // Q2: the declared identity provider refuses invitations.
    let mut invite = Request::new("acme.Olivia", "invite", "acme");
    invite.emails = vec!["new@acme.example".into()];
    invite.now = now;
    let cases = [
        ("erp", &guest, "a deny by forbid (G7)"),
        ("erp", &licence, "a deny reading a declared attribute's default (G9)"),
        ("analytics", &invite, "a deny by the declared identity provider (Q2)"),
        ("erp", &paused, "a deny by a built-in rule (Q4: blocking a blocked account)"),
        ("crm", &last, "a deny evaluating count(accounts where ...)"),
        ("analytics", &allowed, "an allow"),
    ];
    let mut failed = 0;
    for (name, request, what) in cases {
        let n = allocations_per_decision(name, request);
        if n == 0 {
            println!("ok: {what}: no allocation per decision");
        } else {
            println!("FAILED: {what}: {n} allocations per decision");
            failed += 1;
        }
    }
    println!("{} passed, {failed} failed", cases.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}
