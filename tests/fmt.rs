//! The formatter: idempotent, meaning-preserving, and `steward fmt` as a process.

use proptest::prelude::*;
use steward::policy::fmt::format_file;
use steward::policy::parse::parse_file;
use steward::policy::{Sources, ast::File};

use crate::support::{file, steward};

fn parse(text: &str) -> Result<File, String> {
    let mut sources = Sources::new();
    let id = sources.add("p.policy", text);
    parse_file(&sources, id).map_err(|d| format!("{d:?}"))
}

/// The syntax tree's debug form without positions: two trees with the same
/// meaning print the same.
fn shape(file: &File) -> String {
    let debug = format!("{:?}", file.items);
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span {") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find('}').map_or(rest.len(), |i| i + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("target.status == \"active\"".to_owned()),
        Just("actor has role \"admin\"".to_owned()),
        Just("request.bulk".to_owned()),
        Just("target.user has employment_end".to_owned()),
        Just("environment.kind in [\"test\", \"acceptance\"]".to_owned()),
        Just("request.batch_size >= 2".to_owned()),
        Just("count(accounts where account.status == \"active\") <= 1".to_owned()),
        Just("target.user.employment_end < 2026-10-31".to_owned()),
        Just("true".to_owned()),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or ({b})")),
            inner.clone().prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn policy() -> impl Strategy<Value = String> {
    (condition(), condition(), any::<bool>()).prop_map(|(a, b, comment)| {
        let c = if comment { "// leading\n" } else { "" };
        format!(
            "{c}rule r1 {{ permit block, delete when {a} because \"x \\\" y\" }}\n\
             rule r2 {{ forbid unblock when {b} }}\n\
             trigger t {{ block when {a} }}\n\
             lifecycle delete {{ referenced -> fallback block owns app, space -> reassign to actor owns api_key -> revoke }}\n"
        )
    })
}

proptest! {
    #[test]
    fn fmt_is_idempotent_and_keeps_the_meaning(text in policy()) {
        let original = parse(&text).unwrap();
        let once = format_file(&original);
        let reparsed = parse(&once).unwrap();
        prop_assert_eq!(shape(&reparsed), shape(&original));
        prop_assert_eq!(format_file(&reparsed), once);
    }
}

#[test]
fn fmt_rewrites_in_place_and_check_reports_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "p.policy", "rule r{permit block}");
    steward()
        .args(["fmt", "--check"])
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("p.policy"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "rule r{permit block}");
    steward().arg("fmt").arg(&path).assert().success();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "rule r {\n  permit block\n}\n");
    steward().args(["fmt", "--check"]).arg(&path).assert().success();
}

#[test]
fn fmt_writes_nothing_when_a_file_has_a_syntax_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = file(dir.path(), "a.policy", "rule r{permit block}");
    file(dir.path(), "b.policy", "rule s { permit }");
    steward().arg("fmt").arg(dir.path()).assert().code(3);
    assert_eq!(std::fs::read_to_string(&good).unwrap(), "rule r{permit block}");
}

#[test]
fn the_shipped_packs_are_formatted() {
    steward().args(["fmt", "--check", "policies"]).assert().success();
}
