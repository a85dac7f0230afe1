//! scim2-tester's conformance checks against scim2-server itself: the
//! exact set that passes there (tests/interop/conformance-expected.txt) is
//! what a SCIM service in front of it is held to. Skips, as tests/scim.rs
//! does, when `STEWARD_INTEROP_PYTHON` is not set.

use std::collections::BTreeSet;
use std::process::Command;

use crate::support::interop::{self, ScimServer};

#[test]
fn scim2_server_passes_the_expected_checks() {
    let Some(server) = ScimServer::start() else { return };
    let checks = interop::conformance_checks(&server.url(), None);
    let passed: BTreeSet<String> =
        checks.iter().filter(|c| c.status == "passed").map(|c| c.check.clone()).collect();
    let expected = interop::expected_conformance();
    let lost: Vec<_> = checks
        .iter()
        .filter(|c| expected.contains(&c.check) && c.status != "passed")
        .map(|c| format!("  {} ({}): {}", c.check, c.status, c.reason))
        .collect();
    let ran: BTreeSet<&String> = checks.iter().map(|c| &c.check).collect();
    let missing: Vec<_> = expected.iter().filter(|name| !ran.contains(name)).collect();
    let new: Vec<_> = passed.difference(&expected).collect();
    assert!(
        passed == expected,
        "the checks that pass against scim2-server are not tests/interop/conformance-expected.txt\n\
         expected, did not pass:\n{}\nexpected, did not run: {missing:?}\npassed, not expected: {new:?}",
        lost.join("\n")
    );
    // One name per result: a name given twice would hide a result.
    assert_eq!(ran.len(), checks.len(), "{checks:#?}");
}

/// `--token` is sent as a bearer token: a server that wants one passes
/// the same checks with it; without it, only what it serves to anyone
/// (its `ServiceProviderConfig`, the 405s) passes, no resource is read.
#[test]
fn the_token_is_sent() {
    let Some(server) = ScimServer::start_with_token("s3cret") else { return };
    assert_eq!(interop::conformance(&server.url(), Some("s3cret")), interop::expected_conformance());
    let without = interop::conformance(&server.url(), None);
    assert!(
        !without.contains("query_all_resource_types") && !without.iter().any(|c| c.starts_with("User/")),
        "{without:?}"
    );
}

/// The script exits non-zero only when it cannot run at all: no server.
#[test]
fn conformance_without_a_server_does_not_run() {
    let Some(python) = interop::python() else { return };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(python)
        .arg(interop::interop_dir().join("conformance.py"))
        .arg(format!("http://127.0.0.1:{closed}"))
        .arg("--out")
        .arg(dir.path().join("results.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
    assert!(!dir.path().join("results.json").exists());
}
