//! The formatter: idempotent, meaning-preserving, and `steward fmt` as a process.

use predicates::prelude::*;
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

#[test]
fn fmt_diff_prints_a_unified_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let text = "// kept\nrule r{permit block}\n";
    let path = file(dir.path(), "p.policy", text);
    let out = steward().args(["fmt", "--diff"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let diff = String::from_utf8(out.stdout).unwrap();
    let name = path.display();
    assert!(diff.starts_with(&format!("--- {name}\n+++ {name}\n@@ -1,2 +1,4 @@\n")), "{diff}");
    assert!(diff.contains("\n // kept\n-rule r{permit block}\n+rule r {\n+  permit block\n+}\n"), "{diff}");
    assert_eq!(std::fs::read(&path).unwrap(), text.as_bytes());
    steward().arg("fmt").arg(&path).assert().success();
    steward().args(["fmt", "--diff"]).arg(&path).assert().code(0).stdout("");
}

#[test]
fn fmt_diff_exits_3_on_a_syntax_error_as_check_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "b.policy", "rule s { permit }");
    for flag in ["--diff", "--check"] {
        steward().arg("fmt").arg(flag).arg(&path).assert().code(3).stdout("");
    }
    steward().args(["fmt", "--diff", "--check"]).arg(&path).assert().code(1);
}

#[test]
fn fmt_stdin_writes_the_formatted_policy_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = steward().args(["fmt", "-"]).write_stdin("rule r{permit block}").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let formatted = String::from_utf8(out.stdout).unwrap();
    assert_eq!(formatted, "rule r {\n  permit block\n}\n");
    let path = file(dir.path(), "p.policy", &formatted);
    steward().args(["fmt", "--check"]).arg(&path).assert().success();
    // Formatted text comes back as it went in; --check reads stdin too.
    steward().args(["fmt", "-"]).write_stdin(formatted.as_str()).assert().success().stdout(formatted.clone());
    steward()
        .args(["fmt", "--check", "-"])
        .write_stdin("rule r{permit block}")
        .assert()
        .code(1)
        .stdout("<stdin>\n");
}

#[test]
fn fmt_stdin_locates_a_syntax_error_in_stdin() {
    steward()
        .args(["--error-format", "json", "fmt", "-"])
        .write_stdin("rule s {\n  permit\n}\n")
        .assert()
        .code(3)
        .stdout("")
        .stderr(predicates::str::contains(r#""file":"<stdin>""#))
        .stderr(predicates::str::contains(r#""line":3"#));
    steward()
        .args(["fmt", "-"])
        .write_stdin(&b"rule r { permit block } // \xff\n"[..])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("<stdin>:1:").and(predicates::str::contains("not UTF-8")));
}

#[test]
fn fmt_stdin_is_formatted_alone() {
    steward()
        .args(["fmt", "-", "policies"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("formatted alone"));
}
