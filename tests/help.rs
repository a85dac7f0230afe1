//! What the command line says of itself: shell completions, the manual
//! pages, and each subcommand's `--help`.

use predicates::prelude::*;

use crate::support::steward;

/// The subcommands, as `steward --help` lists them.
fn subcommands() -> Vec<String> {
    let out = steward().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_bash_completion_script_names_every_subcommand() {
    let out = steward().args(["completions", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("complete -F _steward"), "{script}");
    let names = subcommands();
    assert!(names.len() > 15, "{names:?}");
    for name in names {
        assert!(script.contains(&format!("steward,{name})")), "`{name}` is not completed");
    }
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_shell_is_a_usage_error() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        steward().args(["completions", shell]).assert().code(0).stdout(predicate::str::contains("steward"));
    }
    steward()
        .args(["completions", "tcsh"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid value 'tcsh'"));
}

/// Roff: every line is text or a request (a line that starts with `.`);
/// the requests a man page made by clap_mangen uses are those of man(7).
fn assert_roff(page: &str, name: &str) {
    let first_request = page.lines().find(|l| l.starts_with(".TH"));
    assert!(
        first_request.is_some_and(|l| l.starts_with(&format!(".TH {name} 1"))),
        "no title for `{name}`:\n{page}"
    );
    assert!(page.contains(".SH NAME\n"), "{page}");
    assert!(page.contains(".SH SYNOPSIS\n"), "{page}");
    let requests =
        ["ie", "el", "TH", "SH", "SS", "TP", "PP", "IP", "RS", "RE", "B", "I", "br", "sp", "nf", "fi"];
    for line in page.lines().filter(|l| l.starts_with('.')) {
        let request = line.trim_start_matches('.').split_whitespace().next().unwrap_or("");
        assert!(requests.contains(&request), "not a man(7) request: {line}");
    }
}

#[test]
fn the_man_page_is_roff_naming_the_command() {
    let out = steward().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert_roff(&page, "steward");
    assert!(page.contains("steward \\- A policy engine"), "{page}");
}

#[test]
fn man_o_writes_one_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    steward().args(["man", "-o"]).arg(&pages).assert().code(0);
    assert_roff(&std::fs::read_to_string(pages.join("steward.1")).unwrap(), "steward");
    for name in subcommands() {
        let page = std::fs::read_to_string(pages.join(format!("steward-{name}.1"))).unwrap();
        assert_roff(&page, &format!("steward-{name}"));
        assert!(page.contains(&format!("steward\\-{name} \\- ")), "{page}");
    }
}
