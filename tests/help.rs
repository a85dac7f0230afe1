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

/// `steward SUBCOMMAND --help`.
fn long_help(subcommand: &str) -> String {
    let out = steward().args([subcommand, "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{subcommand} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of `help`'s section `heading` (`Exit codes:`, `Examples:`),
/// up to the next blank line.
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines().skip_while(|l| *l != heading).skip(1).take_while(|l| !l.trim().is_empty()).collect()
}

#[test]
fn every_subcommand_s_help_ends_with_its_exit_codes_and_examples() {
    for name in subcommands() {
        let help = long_help(&name);
        let (codes, examples) = (section(&help, "Exit codes:"), section(&help, "Examples:"));
        assert!(!codes.is_empty(), "`{name} --help` has no exit codes:\n{help}");
        assert!(
            codes.iter().all(|l| l.starts_with("  ") && l.trim().starts_with(char::is_numeric)),
            "{codes:?}"
        );
        assert!(examples.iter().any(|l| l.contains(&format!("steward {name}"))), "{name}: {examples:?}");
        let (at_codes, at_examples) =
            (help.find("\nExit codes:\n").unwrap(), help.find("\nExamples:\n").unwrap());
        assert!(help.find("Options:").unwrap() < at_codes && at_codes < at_examples, "{help}");
        let last = examples.last().unwrap();
        assert!(help.trim_end().ends_with(last.trim_end()), "`{name} --help` ends with its examples");
    }
}

/// The README's command table: each command's name and its exit codes.
fn readme_exit_codes() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).unwrap();
    let table = readme.split("## Commands").nth(1).unwrap();
    table
        .lines()
        .skip_while(|l| !l.starts_with("| ---"))
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
            let name = cells[0].trim_start_matches('`').split([' ', '`']).next().unwrap();
            (name.to_owned(), cells.last().unwrap().to_string())
        })
        .collect()
}

#[test]
fn the_readme_gives_each_subcommand_s_exit_codes_as_its_help_does() {
    let table = readme_exit_codes();
    for name in subcommands() {
        let help = long_help(&name);
        let codes: Vec<String> = section(&help, "Exit codes:")
            .iter()
            .map(|l| {
                let (code, meaning) = l.trim().split_once(' ').unwrap();
                format!("{code} {}", meaning.trim())
            })
            .collect();
        let row = table.iter().find(|(n, _)| *n == name);
        let (_, readme) = row.unwrap_or_else(|| panic!("`{name}` is not in the README's command table"));
        assert_eq!(*readme, codes.join("; "), "`{name}`: the README and --help disagree");
    }
}

/// The flags most subcommands share, in the order every `--help` lists them.
const COMMON_FLAGS: [&str; 8] =
    ["--policy", "--directory", "--actor", "--action", "--target", "--env", "--now", "--format"];

#[test]
fn the_common_flags_come_in_one_order_in_every_help() {
    for name in subcommands() {
        let help = long_help(&name);
        let options = help.split("\nExit codes:\n").next().unwrap();
        let listed: Vec<usize> = options
            .lines()
            .filter(|l| l.len() - l.trim_start().len() <= 6 && l.trim_start().starts_with('-'))
            .filter_map(|l| {
                let flag = l.split([' ', ',']).find(|w| w.starts_with("--"))?;
                COMMON_FLAGS.iter().position(|f| *f == flag)
            })
            .collect();
        assert!(
            listed.is_sorted(),
            "`{name} --help` lists {:?}",
            listed.iter().map(|i| COMMON_FLAGS[*i]).collect::<Vec<_>>()
        );
    }
}

/// Shell words: quotes (`'...'`, `"..."`) kept together, a `#` that starts
/// a word begins a comment.
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut in_word) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => (quote, in_word) = (Some(c), true),
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The `steward` command lines of `text` (a `sh` block, an Examples
/// section), continuation lines joined, as words without `steward`.
fn command_lines(text: &str) -> Vec<Vec<String>> {
    let joined = text.replace("\\\n", " ");
    let mut commands = Vec::new();
    for line in joined.lines().map(str::trim).filter(|l| l.starts_with("steward ")) {
        let words = words(line);
        // Only the first command of a pipe is steward; `&&` starts another.
        let first = words.split(|w| w == "|").next().unwrap_or_default();
        for command in first.split(|w| w == "&&") {
            commands.push(command.iter().skip_while(|w| *w == "steward").cloned().collect());
        }
    }
    commands
}

/// Whether an example only reads, and reads only what a checkout has.
fn safe_to_run(args: &[String]) -> bool {
    const READ_ONLY: [&str; 14] = [
        "check",
        "fmt",
        "test",
        "decide",
        "impact",
        "plan",
        "review",
        "show",
        "users",
        "licenses",
        "sync",
        "export",
        "completions",
        "man",
    ];
    let Some(name) = args.first() else { return false };
    let writes = args.iter().any(|a| ["-o", "--output", "--apply"].contains(&a.as_str()))
        || (name == "fmt" && !args.iter().any(|a| ["--check", "--diff", "-"].contains(&a.as_str())));
    let elsewhere = args.iter().any(|a| a.ends_with(".db") || a.ends_with(".json") || a == "...");
    READ_ONLY.contains(&name.as_str()) && !writes && !elsewhere
}

/// Each example of the README and of every `--help` that only reads runs
/// from the checkout: no usage error, and it succeeds or is denied.
#[test]
fn the_examples_that_only_read_run_from_the_checkout() {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).unwrap();
    let mut examples: Vec<Vec<String>> = readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .flat_map(command_lines)
        .collect();
    for name in subcommands() {
        examples.extend(command_lines(&section(&long_help(&name), "Examples:").join("\n")));
    }
    let runnable: Vec<&Vec<String>> = examples.iter().filter(|args| safe_to_run(args)).collect();
    assert!(runnable.len() > 20, "{runnable:?}");
    for args in runnable {
        let mut cmd = steward();
        let mut words = args.iter();
        while let Some(word) = words.next() {
            match word.as_str() {
                // Standard output is read here, not written to a file.
                ">" => drop(words.next()),
                "<" => drop(cmd.pipe_stdin(crate::support::root().join(words.next().unwrap()))),
                _ => drop(cmd.arg(word)),
            }
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 2)) && !stderr.contains("Usage:"),
            "steward {}: {:?}\n{stderr}",
            args.join(" "),
            out.status.code()
        );
    }
}
