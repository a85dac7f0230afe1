//! The `steward` command, run as a process.

use predicates::prelude::*;

use crate::support::{
    command, example_file, file, on_example, pack_dir, search_users, stdout_json, steward, steward_in,
};

#[test]
fn check_accepts_the_shipped_packs() {
    for pack in ["policies/erp", "policies/crm", "policies/analytics"] {
        steward().args(["check", pack]).assert().success().stderr(predicate::str::starts_with("ok: "));
    }
}

#[test]
fn check_exits_3_on_an_invalid_policy_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "bad.policy", "rule r {\n  permit delet\n}\n");
    steward()
        .args(["check", path.to_str().unwrap()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("error[unknown-action]"))
        .stderr(predicate::str::contains("unknown action `delet`"))
        .stderr(predicate::str::contains("bad.policy:2:10]"))
        .stderr(predicate::str::contains("did you mean `delete`?"));
}

#[test]
fn check_prints_json_diagnostics_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "bad.policy", "rule r { permit block when a = b }");
    let out = steward().args(["--error-format", "json", "check", path.to_str().unwrap()]).assert().code(3);
    let line = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    let json: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(json["line"], 1);
    assert_eq!(json["column"], 30);
    assert_eq!(json["severity"], "error");
}

#[test]
fn check_exits_1_when_a_file_is_missing() {
    steward()
        .args(["check", "no/such.policy"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read"));
}

#[test]
fn test_runs_every_shipped_pack_and_covers_every_rule() {
    steward()
        .args(["test", "policies/erp", "policies/crm", "policies/analytics"])
        .assert()
        .success()
        .stdout(predicate::str::contains(" passed, 0 failed"))
        .stdout(predicate::str::contains("coverage:").not());
}

/// A pack of one rule in a temporary folder, with an empty `tests/`.
fn pack_with_tests() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    file(dir.path(), "p.policy", "rule r { permit block }");
    dir
}

#[test]
fn test_fails_and_shows_expected_and_actual_side_by_side() {
    let dir = pack_with_tests();
    file(
        &dir.path().join("tests"),
        "t.yaml",
        "directory:\n  environments: [{ id: E, license: L, kind: test }]\n  users:\n    - { id: a, home: E, accounts: [{ env: E, status: active }] }\ncases:\n  - name: wrong on purpose\n    request: { actor: a, action: block, target: a, env: E }\n    expect: { decision: deny }\n",
    );
    steward()
        .args(["test", dir.path().to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL"))
        .stdout(predicate::str::contains("\"decision\": \"deny\""))
        .stdout(predicate::str::contains("\"decision\": \"allow\""))
        .stdout(predicate::str::contains("0 passed, 1 failed"));
}

#[test]
fn test_fails_when_no_test_ran() {
    let dir = pack_with_tests();
    steward()
        .args(["test", dir.path().to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no test ran"));
}

#[test]
fn test_reports_json_for_ci() {
    let out = steward().args(["test", "policies/crm", "--format", "json"]).assert().success();
    let json = stdout_json(out.get_output());
    assert_eq!(json["failed"], 0);
    assert!(json["passed"].as_u64().unwrap() > 10);
}

#[test]
fn decide_exits_0_when_allowed_and_2_when_denied() {
    on_example("decide", "crm")
        .args(["--actor", "crm.Ada", "--action", "block", "--target", "crm.Uma", "--env", "CRM1"])
        .args(["--confirm", "--reason", "left the company"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("allow\n"));
    on_example("decide", "crm")
        .args(["--actor", "crm.Ada", "--action", "block", "--target", "crm.Sam", "--env", "CRM1"])
        .args(["--confirm", "--reason", "left the company"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("superusers_only_in_bulk"))
        .stdout(predicate::str::contains(
            "because superusers are blocked or deleted only in a bulk operation",
        ));
}

#[test]
fn decide_reads_a_json_request_from_stdin() {
    let out = on_example("decide", "crm")
        .args(["--request", "-", "--format", "json"])
        .write_stdin(r#"{"actor": "crm.Uma", "action": "delete", "target": "crm.Ada", "env": "CRM1", "now": "2026-11-23T09:00:00Z"}"#)
        .assert()
        .code(2);
    let json = stdout_json(out.get_output());
    assert_eq!(json["decision"], "deny");
    assert!(json["rules"].as_array().unwrap().iter().any(|r| r["id"] == "superusers_only_in_bulk"));
}

#[test]
fn decide_exits_3_on_an_unknown_user() {
    on_example("decide", "crm")
        .args(["--actor", "crm.Nobody", "--action", "block", "--target", "crm.Uma", "--env", "CRM1"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("unknown user `crm.Nobody`"));
}

/// An error of the request carries its help (did you mean...) on the next
/// line, or as a `help` key in JSON, as plan and apply print theirs.
#[test]
fn decide_prints_the_help_of_a_request_error() {
    let typo = ["--actor", "crm.Ada", "--action", "delet", "--target", "crm.Uma", "--env", "CRM1"];
    on_example("decide", "crm")
        .args(typo)
        .assert()
        .code(3)
        .stdout("")
        .stderr("error: unknown action `delet`\n  help: did you mean `delete`?\n");
    let out = on_example("decide", "crm").args(typo).arg("--error-format=json").assert().code(3);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stderr).unwrap();
    assert_eq!(json["message"], "unknown action `delet`");
    assert_eq!(json["help"], "did you mean `delete`?");
}

#[test]
fn decide_exits_3_on_a_directory_error_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "bad.yaml", "environments:\n  - { id: E, license: L, kind: prod }\n");
    command("decide", &pack_dir("crm"), &path)
        .args(["--actor", "a", "--action", "block", "--target", "b", "--env", "E"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("error[unknown-value]"))
        .stderr(predicate::str::contains("`prod` is not an environment kind"))
        .stderr(predicate::str::contains("bad.yaml:2:32]"))
        .stderr(predicate::str::contains("did you mean `production`?"));
}

#[test]
fn decide_p3_denies_a_delete_that_records_prevent_and_names_the_fallback() {
    let out = on_example("decide", "erp")
        .args(["--format", "json"])
        .args([
            "--actor",
            "12345.Admin",
            "--action",
            "delete",
            "--target",
            "12345.JJansen",
            "--env",
            "O12345AA",
        ])
        .assert()
        .code(2);
    let json = stdout_json(out.get_output());
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["fallback"]["action"], "block");
    assert_eq!(json["fallback"]["decision"], "allow");
    assert_eq!(json["fallback"]["references"][0]["table"], "journal_entries");
    assert_eq!(json["fallback"]["references"][0]["rows"], 341);
}

#[test]
fn impact_shows_the_verdict_first_and_exports_dot() {
    on_example("impact", "analytics")
        .args(["--target", "acme.Leo", "--env", "acme", "--actor", "acme.Olivia"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("Delete `acme.Leo` in `acme`"))
        .stdout(predicate::str::contains("needs a new owner:"))
        .stdout(predicate::str::contains("idp_recreates_user"));
    on_example("impact", "analytics")
        .args(["--target", "acme.Leo", "--env", "acme", "--format", "dot"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("digraph impact {"));
}

#[test]
fn check_with_a_directory_warns_about_roles_nobody_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "p.policy", "rule r { permit block when actor has role \"superusr\" }");
    steward()
        .args(["check", "--directory", "examples/crm.yaml", path.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning[unknown-role]"))
        .stderr(predicate::str::contains("did you mean `superuser`?"));
}

#[test]
fn steward_yaml_names_the_policies_and_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (policies, directory) = (pack_dir("crm"), example_file("crm"));
    let config = format!("policies: [{}]\ndirectory: {}\n", policies.display(), directory.display());
    file(dir.path(), "steward.yaml", &config);
    steward_in(dir.path())
        .args(["decide", "--actor", "crm.Ada", "--action", "unblock", "--target", "crm.Bo", "--env", "CRM1"])
        .assert()
        .code(0);
}

#[test]
fn an_invalid_steward_yaml_is_refused_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    file(dir.path(), "steward.yaml", "polices: [p]\n");
    steward_in(dir.path())
        .args(["show", "--directory", "x.yaml"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("unknown key `polices`"))
        .stderr(predicate::str::contains("did you mean `policies`?"));
}

#[test]
fn usage_errors_never_exit_2_which_means_denied() {
    steward().args(["decide", "--no-such-flag"]).assert().code(1);
    steward().arg("--help").assert().code(0);
}

#[test]
fn licenses_count_users_active_anywhere_in_the_license_p2_g1() {
    let out = steward()
        .args(["licenses", "--directory", "examples/erp.yaml", "--format", "json"])
        .assert()
        .success();
    let json = stdout_json(out.get_output());
    let licenses = json["licenses"].as_array().unwrap();
    let provider = licenses.iter().find(|l| l["license"] == "12345").unwrap();
    let customer = licenses.iter().find(|l| l["license"] == "98765").unwrap();
    // Blocked Pim does not count (P2); Bertine's guest account counts at home, not at the customer (G1).
    assert!(!provider["users"].as_array().unwrap().iter().any(|u| u == "12345.Paused"));
    assert!(provider["users"].as_array().unwrap().iter().any(|u| u == "12345.BWilliams"));
    assert_eq!(customer["users"], serde_json::json!(["98765.Admin"]));
    assert_eq!(provider["count"], provider["users"].as_array().unwrap().len());
}

#[test]
fn q5_users_are_found_by_name_id_idp_subject_or_email() {
    let find = |text: &str| {
        let rows = search_users(&example_file("analytics"), text);
        rows.iter().map(|r| r["user"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(find("leo leaver"), ["acme.Leo"]); // name, case-insensitive
    assert_eq!(find("acme.Dana"), ["acme.Dana"]); // user id
    assert_eq!(find("idp|1005"), ["acme.Uma"]); // the IdP subject tells namesakes apart
    assert_eq!(find("anders@"), ["acme.Anders"]); // e-mail
}
