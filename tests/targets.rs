//! `steward plan --targets FILE`: the targets as people write them (#14,
//! item 8): headers in any case, `;` as well as `,`, every row checked
//! against the directory with its file, line and column.

use predicates::prelude::*;

use crate::support::{NOW, file, on_example, stdout_json};

/// The ERP plan of `action` by Anne over the targets file `text`, with `extra` flags.
fn plan(text: &str, action: &str, extra: &[&str]) -> (tempfile::TempDir, assert_cmd::assert::Assert) {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "targets.csv", text);
    let assert = on_example("plan", "erp")
        .args([
            "--actor",
            "12345.Admin",
            "--action",
            action,
            "--reason",
            "x",
            "--now",
            NOW,
            "--format",
            "json",
        ])
        .arg("--targets")
        .arg(&path)
        .args(extra)
        .assert();
    (dir, assert)
}

/// The planned items as (target, env, outcome).
fn items(assert: &assert_cmd::assert::Assert) -> Vec<(String, String, String)> {
    let json = stdout_json(assert.get_output());
    let items = json["items"].as_array().unwrap();
    let cell = |v: &serde_json::Value, key: &str| v[key].as_str().unwrap().to_owned();
    items.iter().map(|i| (cell(i, "target"), cell(i, "env"), cell(i, "outcome"))).collect()
}

fn item(target: &str, env: &str, outcome: &str) -> (String, String, String) {
    (target.to_owned(), env.to_owned(), outcome.to_owned())
}

#[test]
fn headers_are_matched_in_any_case_and_semicolons_separate_as_commas_do() {
    let (_dir, assert) = plan("User;ENV\n12345.Fresh;O12345AA\n12345.JJansen ; O12345TT\n", "block", &[]);
    let assert = assert.success();
    assert_eq!(
        items(&assert),
        [item("12345.Fresh", "O12345AA", "block"), item("12345.JJansen", "O12345TT", "block")]
    );
    let (_dir, assert) = plan("\u{feff}user,Env,Value\n12345.Fresh,O12345AA,Fay F.\n", "edit_name", &[]);
    let json = stdout_json(assert.success().get_output());
    assert_eq!(json["items"][0]["value"], "Fay F.");
}

#[test]
fn an_unknown_user_names_the_file_line_and_column_with_the_closest_user() {
    // Line 3 is a comment, line 4 blank: the line is the file's own.
    let text = "user,env\n12345.Fresh,O12345AA\n# the next one is misspelt\n\nO12345AA_is_not_here,\n";
    let (_dir, assert) = plan(text, "block", &["--env", "O12345AA"]);
    assert.code(3).stdout("").stderr(predicate::str::contains(
        "targets.csv` line 5, column 1: unknown user `O12345AA_is_not_here`",
    ));
    let (_dir, assert) = plan("user;env\n12345.Fresh;O12345AA\n12345.JJanssen;O12345AA\n", "block", &[]);
    assert.code(3).stdout("").stderr(predicate::str::ends_with(
        "targets.csv` line 3, column 1: unknown user `12345.JJanssen`\n  help: did you mean `12345.JJansen`?\n",
    ));
}

#[test]
fn an_unknown_environment_names_the_file_line_and_column_with_the_closest_one() {
    let (_dir, assert) = plan("user, env\n12345.Fresh, O12345A\n", "block", &[]);
    assert.code(3).stdout("").stderr(predicate::str::ends_with(
        "targets.csv` line 2, column 14: unknown environment `O12345A`\n  help: did you mean `O12345AA`?\n",
    ));
}

#[test]
fn a_row_without_environment_is_the_users_only_account() {
    // A plain list, and a CSV row with its env cell left empty.
    let (_dir, assert) = plan("12345.Fresh\n12345.Leaver\n", "block", &[]);
    let assert = assert.success();
    assert_eq!(
        items(&assert),
        [item("12345.Fresh", "O12345AA", "block"), item("12345.Leaver", "O12345AA", "block")]
    );
    let (_dir, assert) = plan("user,env\n12345.Gwen,\n", "block", &[]);
    assert_eq!(items(&assert.success()), [item("12345.Gwen", "O12345AA", "block")]);
}

#[test]
fn a_user_with_several_accounts_needs_the_environment_and_is_told_which() {
    let (_dir, assert) = plan("user,env\n12345.Fresh,O12345AA\n12345.JJansen\n", "block", &[]);
    assert.code(3).stdout("").stderr(predicate::str::contains(
        "targets.csv` line 3, column 1: `12345.JJansen` has accounts in `O12345AA`, `O12345TT`: which one?",
    ));
    // With --env, a row without one is in that environment.
    let (_dir, assert) = plan("12345.JJansen\n", "block", &["--env", "O12345TT"]);
    assert_eq!(items(&assert.success()), [item("12345.JJansen", "O12345TT", "block")]);
}

/// A value that holds a separator is written in double quotes (`""` for a
/// quote), as a spreadsheet saves it; a row with more cells than the header
/// and a quote left open are errors with their place, never cells dropped.
#[test]
fn quoted_cells_keep_their_separators_and_extra_cells_are_errors() {
    let (_dir, assert) =
        plan("user,env,value\n12345.JJansen,O12345AA,\"Jansen, Jan \"\"JJ\"\"\"\n", "edit_name", &[]);
    let json = stdout_json(assert.get_output());
    assert_eq!(json["items"][0]["value"], "Jansen, Jan \"JJ\"");
    let (_dir, assert) = plan("user,env,value\n12345.JJansen,O12345AA,Smith, John\n", "edit_name", &[]);
    assert.code(3).stderr(
        predicate::str::contains("line 2, column 31: 4 cells, but the header names 3")
            .and(predicate::str::contains("double quotes")),
    );
    let (_dir, assert) = plan("user,env,value\n12345.JJansen,O12345AA,\"Smith, John\n", "edit_name", &[]);
    assert.code(3).stderr(predicate::str::contains("line 2, column 24: a quote that is not closed"));
}
