//! The `steward` command, run as a process.

use predicates::prelude::*;

use crate::support::{
    NOW, apply_cmd, audit, command, example_file, file, import, on_example, pack_dir, saved_plan,
    search_users, stdout_json, steward, steward_in, steward_process, stored,
};

#[test]
fn check_accepts_the_shipped_packs_with_their_examples() {
    for pack in crate::support::PACKS {
        steward()
            .arg("check")
            .arg(pack_dir(pack))
            .arg("--directory")
            .arg(example_file(pack))
            .assert()
            .success()
            .stderr(predicate::str::starts_with("ok: "));
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
        .arg("test")
        .args(crate::support::PACKS.iter().map(|p| pack_dir(p)))
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
fn check_without_a_path_checks_the_policies_of_steward_yaml() {
    let dir = tempfile::tempdir().unwrap();
    file(dir.path(), "steward.yaml", &format!("policies: [{}]\n", pack_dir("crm").display()));
    steward_in(dir.path()).arg("check").assert().code(0).stderr(predicate::str::contains("ok: "));
    // A path given is checked instead.
    let bad = file(dir.path(), "bad.policy", "rule s { permit }");
    steward_in(dir.path()).arg("check").arg(&bad).assert().code(3);
}

#[test]
fn check_takes_the_policies_of_config_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    file(&conf, "p.policy", "rule s {\n  permit\n}\n");
    let config = file(&conf, "steward.yaml", "policies: [p.policy]\n");
    steward_in(dir.path())
        .args(["--error-format", "json", "check", "--config"])
        .arg(&config)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(conf.join("p.policy").display().to_string()));
}

#[test]
fn check_without_a_path_or_steward_yaml_names_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    steward_in(dir.path())
        .arg("check")
        .assert()
        .code(1)
        .stderr("error: no policies: pass PATH... or set `policies` in steward.yaml\n");
    file(dir.path(), "steward.yaml", "directory: x.yaml\n");
    steward_in(dir.path()).arg("check").assert().code(1).stderr(predicate::str::contains("no policies"));
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

/// The flags `impact` and `decide` share, on the ERP example: the request
/// `decide --actor 12345.Admin --target 12345.JJansen --env O12345AA`.
const ADMIN_ON_JANSEN: [&str; 6] =
    ["--actor", "12345.Admin", "--target", "12345.JJansen", "--env", "O12345AA"];

/// An action `impact` cannot show is refused as `decide` refuses it: the
/// same message, the same help, the same exit code (#14, item 5).
#[test]
fn impact_refuses_an_action_as_decide_does() {
    for (action, message) in [
        ("delet", "error: unknown action `delet`\n  help: did you mean `delete`?\n"),
        ("invite", "error: `invite` does not take `target`\n"),
    ] {
        let decide = on_example("decide", "erp").args(ADMIN_ON_JANSEN).args(["--action", action]).assert();
        let impact = on_example("impact", "erp").args(ADMIN_ON_JANSEN).args(["--action", action]).assert();
        decide.code(3).stdout("").stderr(message);
        impact.code(3).stdout("").stderr(message);
    }
    on_example("impact", "erp")
        .args(["--target", "12345.JJansen", "--env", "O12345AA", "--action", "reassign"])
        .assert()
        .code(3)
        .stderr("error: `reassign` does not take `target`\n");
}

/// A misspelt user or environment is answered with the closest name, by
/// `decide` and `impact` alike; a user without an account in the
/// environment, with the environments where they have one.
#[test]
fn decide_and_impact_say_did_you_mean_for_users_and_environments() {
    for command in ["decide", "impact"] {
        let run = |args: &[&str]| on_example(command, "erp").args(args).args(["--action", "delete"]).assert();
        run(&["--actor", "12345.Admn", "--target", "12345.JJansen", "--env", "O12345AA"])
            .code(3)
            .stderr("error: unknown user `12345.Admn`\n  help: did you mean `12345.Admin`?\n");
        run(&["--actor", "12345.Admin", "--target", "12345.JJanssen", "--env", "O12345AA"])
            .code(3)
            .stderr("error: unknown user `12345.JJanssen`\n  help: did you mean `12345.JJansen`?\n");
        run(&["--actor", "12345.Admin", "--target", "12345.JJansen", "--env", "O12345A"])
            .code(3)
            .stderr("error: unknown environment `O12345A`\n  help: did you mean `O12345AA`?\n");
        run(&["--actor", "12345.Admin", "--target", "12345.JJansen", "--env", "O98765AA"]).code(3).stderr(
            "error: `12345.Admin` has no account in `O98765AA`\n  help: `12345.Admin` has accounts in `O12345AA`, `O12345TT`\n",
        );
    }
}

/// A pack whose blocks must be confirmed with a reason, and whose deletes
/// of referenced users fall back to a block.
fn confirmed_blocks() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    file(
        dir.path(),
        "p.policy",
        r#"rule admins { permit block, delete when actor has role "administrator" }
rule confirmed { forbid block when not request.confirm or not (request has reason) because "confirm it" }
lifecycle delete { referenced -> fallback block }
"#,
    );
    dir
}

/// `impact` takes the flags of the request, so that its fallback decision
/// is the one `decide` gives for them.
#[test]
fn impact_decides_the_fallback_for_the_request_decide_would_get() {
    let pack = confirmed_blocks();
    let erp = example_file("erp");
    let fallback = |subcommand: &str, flags: &[&str]| {
        let out = command(subcommand, pack.path(), &erp)
            .args(ADMIN_ON_JANSEN)
            .args(["--action", "delete", "--format", "json", "--now", "2026-12-01"])
            .args(flags)
            .output()
            .unwrap();
        stdout_json(&out)["fallback"]["decision"].clone()
    };
    assert_eq!(fallback("impact", &[]), "deny");
    assert_eq!(fallback("decide", &[]), "deny");
    let confirmed = ["--reason", "left", "--confirm"];
    assert_eq!(fallback("impact", &confirmed), "allow");
    assert_eq!(fallback("decide", &confirmed), "allow");
}

/// A delete that falls back shows the block's impact, and says so: in the
/// JSON `action` is the fallback's and `instead_of` the action asked; in
/// words, the fallback is named before its consequences.
#[test]
fn p3_a_delete_that_falls_back_is_labelled_the_fallbacks_impact() {
    let out = on_example("impact", "erp").args(ADMIN_ON_JANSEN).args(["--format", "json"]).assert().success();
    let json = stdout_json(out.get_output());
    assert_eq!((&json["action"], &json["instead_of"]), (&"block".into(), &"delete".into()));
    assert_eq!(json["fallback"]["action"], "block");
    on_example("impact", "erp")
        .args(ADMIN_ON_JANSEN)
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "`12345.JJansen` in `O12345AA` cannot be deleted: 341 rows in journal_entries refer to it; block instead (allowed for this actor)\nwhat follows is what `block` does, not `delete`\n",
        ));
    on_example("decide", "erp")
        .args(ADMIN_ON_JANSEN)
        .args(["--action", "delete"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "\nwhat the fallback does:\nBlock `12345.JJansen` in `O12345AA`, instead of `delete`\n",
        ))
        .stdout(predicate::str::contains("if allowed").not());
}

/// `--now` takes a date, as its midnight in the configured time zone, in
/// every command that has the flag (#19).
#[test]
fn now_takes_a_date_as_its_midnight_in_the_configured_time_zone() {
    let leaver =
        ["--actor", "12345.Admin", "--target", "12345.Leaver", "--env", "O12345AA", "--action", "block"];
    on_example("decide", "erp").args(leaver).args(["--now", "2026-12-01"]).assert().success();
    on_example("impact", "erp").args(leaver).args(["--now", "2026-12-01"]).assert().success();
    // The leavers' trigger selects who left before `request.now`: Lou left on 2026-10-31.
    let leavers = |now: &str| {
        let out = on_example("plan", "erp")
            .args(["--actor", "12345.Admin", "--trigger", "leavers", "--reason", "left", "--format", "json"])
            .args(["--now", now])
            .output()
            .unwrap();
        stdout_json(&out)["items"].as_array().unwrap().len()
    };
    assert_eq!(leavers("2026-10-30"), 0);
    assert_eq!(leavers("2026-12-01"), 1);
    let users = |now: &str, config: &str| {
        let dir = tempfile::tempdir().unwrap();
        file(dir.path(), "steward.yaml", config);
        let out = steward_in(dir.path())
            .args(["users", "--directory"])
            .arg(example_file("erp"))
            .args([
                "--where",
                r#"target.user has employment_end and target.user.employment_end < request.now"#,
            ])
            .args(["--now", now, "--format", "json"])
            .output()
            .unwrap();
        stdout_json(&out).as_array().unwrap().len()
    };
    // Lou left on 2026-10-31 (a UTC date): the midnight that starts
    // 2026-11-01 is on the next day in UTC, but still on Lou's last day in
    // Kiritimati (UTC+14).
    assert_eq!(users("2026-10-31", "timezone: UTC\n"), 0);
    assert_eq!(users("2026-11-01", "timezone: UTC\n"), 1);
    assert_eq!(users("2026-11-01", "timezone: Pacific/Kiritimati\n"), 0);
    on_example("decide", "erp")
        .args(leaver)
        .args(["--now", "2026-13-01"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`2026-13-01` is not a date"));
}

/// An ERP database with one applied block, so one entry in its audit log.
fn audited_database(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("erp.db");
    import(&example_file("erp"), &db);
    let list = file(dir, "targets.txt", "12345.Fresh\n");
    let args = ["--actor", "12345.Admin", "--action", "block", "--reason", "left", "--now", NOW, "--targets"];
    let plan = saved_plan(dir, &pack_dir("erp"), &db, &[&args[..], &[list.to_str().unwrap()]].concat());
    apply_cmd(&pack_dir("erp"), &db, &plan).arg("--confirm").assert().success();
    assert_eq!(audit(&db).len(), 1);
    db
}

/// Importing over a database is refused unless `--replace` is given: its
/// audit log would otherwise sit beside a directory it no longer describes
/// without anyone having asked (#14, item 7).
#[test]
fn import_over_an_existing_database_needs_replace_and_changes_nothing_without() {
    let dir = tempfile::tempdir().unwrap();
    let db = audited_database(dir.path());
    let before = (stored(&db).into_parts(), audit(&db));
    let other = file(dir.path(), "crm.yaml", &std::fs::read_to_string(example_file("crm")).unwrap());
    steward()
        .arg("import")
        .arg(&other)
        .arg("-o")
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("erp.db` exists: pass --replace to replace its directory"));
    assert_eq!((stored(&db).into_parts(), audit(&db)), before);
}

/// `--replace` replaces the directory tables in one transaction; the audit
/// log stays as it was, its chain intact.
#[test]
fn import_replace_keeps_the_audit_log_and_its_chain() {
    let dir = tempfile::tempdir().unwrap();
    let db = audited_database(dir.path());
    let log = audit(&db);
    steward().arg("import").arg(example_file("crm")).arg("-o").arg(&db).arg("--replace").assert().success();
    assert!(stored(&db).user("crm.Ada").is_some());
    assert!(stored(&db).user("12345.Fresh").is_none());
    assert_eq!(audit(&db), log);
    steward()
        .args(["audit", "verify", "--directory"])
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::contains("1 entry, the chain is intact"));
}

/// The output of an import is a database: `-o new.yaml` would write SQLite
/// into a file named like a directory file.
#[test]
fn import_refuses_an_output_that_is_not_a_database_name() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["new.yaml", "new", "new.json"] {
        let out = dir.path().join(name);
        steward()
            .arg("import")
            .arg(example_file("erp"))
            .arg("-o")
            .arg(&out)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("is not a database name"));
        assert!(!out.exists());
    }
    for name in ["new.db", "new.sqlite", "new.sqlite3"] {
        steward()
            .arg("import")
            .arg(example_file("erp"))
            .arg("-o")
            .arg(dir.path().join(name))
            .assert()
            .success();
    }
}

/// `args`, run with its standard output read for one line and then closed
/// (`| head -1`), its standard error kept or closed at once too: the exit
/// status and standard error.
fn with_output_closed_early(
    args: &[&std::ffi::OsStr],
    close_stderr: bool,
) -> (std::process::ExitStatus, String) {
    use std::io::{BufRead as _, Read as _};
    use std::process::Stdio;
    let mut child =
        steward_process().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // A closed standard error is dropped before anything is written to it.
    let stderr = child.stderr.take().filter(|_| !close_stderr);
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(!first.is_empty());
    // The reader is dropped here: the rest of the output meets a closed pipe.
    let mut text = String::new();
    if let Some(mut stderr) = stderr {
        stderr.read_to_string(&mut text).unwrap();
    }
    (child.wait().unwrap(), text)
}

/// `steward users | head -1` and the like end quietly, with the exit code
/// the command would have had, and no panic (#14, item 9). The directory
/// is large enough that its output cannot fit in a pipe's buffer.
#[test]
fn every_command_ends_quietly_when_its_output_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    // Generated straight into a database: a YAML load of this size in a
    // debug build would cost the test most of its time, eight times.
    let big = dir.path().join("big.db");
    steward().args(["gen", "--accounts", "3000", "-o"]).arg(&big).assert().success();
    let big = big.as_os_str();
    let runs: [&[&str]; 4] = [
        &["users", "--directory"],
        &["users", "--format", "json", "--directory"],
        &["export"],
        &["show", "--directory"],
    ];
    for run in runs {
        let args: Vec<&std::ffi::OsStr> = run.iter().map(std::ffi::OsStr::new).chain([big]).collect();
        for close_stderr in [false, true] {
            let (status, stderr) = with_output_closed_early(&args, close_stderr);
            assert!(!stderr.contains("panicked"), "{run:?}: {stderr}");
            assert_eq!(status.code(), Some(0), "{run:?} (stderr closed: {close_stderr}): {stderr}");
        }
    }
}

/// `gen -o X.db` never replaces a database: it may hold an audit log
/// (#14, item 7). A YAML file is written over, as any output file is.
#[test]
fn gen_never_replaces_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kept.db");
    steward().args(["gen", "--accounts", "20", "-o"]).arg(&db).assert().success();
    let before = std::fs::read(&db).unwrap();
    steward()
        .args(["gen", "--accounts", "30", "-o"])
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("exists: `gen` writes a new database only"));
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let yaml = dir.path().join("g.yaml");
    for _ in 0..2 {
        steward().args(["gen", "--accounts", "20", "-o"]).arg(&yaml).assert().success();
    }
}

/// A plan case in a test file: its items in order, each with the keys it
/// names; a case with both a request and a plan, or expectations of the
/// other kind, is an error of the case, never a pass.
#[test]
fn test_runs_plan_cases_and_refuses_mixed_ones() {
    let dir = pack_with_tests();
    let directory = "directory:\n  environments: [{ id: E, license: L, kind: test }]\n  users:\n    - { id: a, home: E, accounts: [{ env: E, status: active }] }\n    - { id: b, home: E, accounts: [{ env: E, status: blocked }] }\n";
    let cases = [
        (
            "plan: { actor: a, action: block, targets: [a, b], env: E, reason: r }\n    expect: { items: [{ target: a, outcome: block }, { target: b, outcome: denied, rules: [status-transition] }], outcomes: { block: 1, denied: 1 } }",
            true,
            "",
        ),
        (
            "plan: { actor: a, action: block, targets: [a], env: E, reason: r }\n    expect: { items: [] }",
            false,
            "\"target\": \"a\"",
        ),
        (
            "plan: { actor: a, action: block, targets: [a], env: E, reason: r }\n    expect: { decision: allow }",
            false,
            "`decision`, `rules`, `fallback` and `impact` are of a `request`",
        ),
        (
            "request: { actor: a, action: block, target: a, env: E }\n    plan: { actor: a, action: block, targets: [a], reason: r }\n    expect: { decision: allow }",
            false,
            "either `request` or `plan`",
        ),
        (
            "request: { actor: a, action: block, target: a, env: E }\n    expect: { outcomes: { block: 1 } }",
            false,
            "expected of a `plan`",
        ),
    ];
    for (case, passes, shown) in cases {
        file(&dir.path().join("tests"), "t.yaml", &format!("{directory}cases:\n  - name: c\n    {case}\n"));
        let run = steward().args(["test", dir.path().to_str().unwrap()]).assert();
        let output = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
        assert_eq!(run.get_output().status.code(), Some(if passes { 0 } else { 1 }), "{case}\n{output}");
        assert!(output.contains(shown), "{case}\n{output}");
    }
}

/// `export --format json` writes JSON to standard output, `gen -o X.json`
/// a JSON file; both import as the YAML does.
#[test]
fn export_and_gen_write_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = steward().args(["export", "--format", "json"]).arg(example_file("crm")).assert().success();
    let value: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(value["environments"][0]["id"], "CRM1");
    let generated = dir.path().join("g.json");
    steward().args(["gen", "--accounts", "50", "-o"]).arg(&generated).assert().success();
    let text = std::fs::read_to_string(&generated).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "JSON");
    import(&generated, &dir.path().join("g.db"));
}

/// The directory of one environment and one active user `a`, the head of a
/// test file.
const ONE_USER: &str = "directory:\n  environments: [{ id: E, license: L, kind: test }]\n  users:\n    - { id: a, home: E, accounts: [{ env: E, status: active }] }\ncases:\n  - name: c\n    request: { actor: a, action: block, target: a, env: E }\n";

/// Runs `steward test` over `dir` with the test file `t.yaml` given `expect`.
fn test_with_expect(dir: &tempfile::TempDir, expect: &str, json: bool) -> assert_cmd::assert::Assert {
    file(&dir.path().join("tests"), "t.yaml", &format!("{ONE_USER}    expect: {expect}\n"));
    let format = if json { "json" } else { "human" };
    steward().args(["--error-format", format, "test", dir.path().to_str().unwrap()]).assert()
}

#[test]
fn test_file_errors_are_located_in_the_file_as_every_file_error_is() {
    let dir = pack_with_tests();
    let at = format!("{}:8:15", dir.path().join("tests").join("t.yaml").display());
    test_with_expect(&dir, "{ decison: allow }", false)
        .code(3)
        .stderr(predicate::str::contains("error[invalid-yaml]"))
        .stderr(predicate::str::contains(format!("╭─[{at}]")))
        .stderr(predicate::str::contains("unknown key `decison`, expected `decision`, `rules`"))
        .stderr(predicate::str::contains("help: did you mean `decision`?"))
        .stderr(predicate::str::contains("<input>").not());
    let out = test_with_expect(&dir, "{ decison: allow }", true).code(3);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stderr).unwrap();
    assert_eq!(
        (json["code"].as_str(), json["line"].as_u64(), json["column"].as_u64()),
        (Some("invalid-yaml"), Some(8), Some(15))
    );
    assert!(json["file"].as_str().unwrap().ends_with("t.yaml"), "{json}");
}

/// Only `allow` and `deny` are decisions, of a request and of its fallback;
/// a plan item's `outcome` (`denied`) stays free.
#[test]
fn test_refuses_a_decision_that_is_not_allow_or_deny() {
    let dir = pack_with_tests();
    let file_name = dir.path().join("tests").join("t.yaml").display().to_string();
    for (expect, column, closest) in
        [("{ decision: denied }", 25, "deny"), ("{ fallback: { decision: alow } }", 37, "allow")]
    {
        test_with_expect(&dir, expect, false)
            .code(3)
            .stderr(predicate::str::contains(format!("{file_name}:8:{column}")))
            .stderr(predicate::str::contains("expected `allow` or `deny`"))
            .stderr(predicate::str::contains(format!("help: did you mean `{closest}`?")));
    }
    test_with_expect(&dir, "{ decision: deny }", false).code(1).stdout(predicate::str::contains("FAIL"));
}

/// C4: a case that names a rule the pack does not have is an error of the
/// case with the closest name, in a request's `rules` as in a plan item's;
/// built-in rules are rules too.
#[test]
fn test_names_a_misspelt_rule_with_the_closest() {
    let dir = pack_with_tests();
    file(dir.path(), "p.policy", "rule superusers_only { permit block }");
    test_with_expect(&dir, "{ rules: [superusers_onyl] }", false).code(1).stdout(predicate::str::contains(
        "error: `superusers_onyl` is neither a rule of the pack nor a built-in rule; did you mean `superusers_only`?",
    ));
    let plan = ONE_USER.replace(
        "request: { actor: a, action: block, target: a, env: E }",
        "plan: { actor: a, action: block, targets: [a], env: E, reason: r }",
    );
    file(
        &dir.path().join("tests"),
        "t.yaml",
        &format!("{plan}    expect: {{ items: [{{ target: a, rules: [status-transiton] }}] }}\n"),
    );
    steward()
        .args(["test", dir.path().to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`status-transiton` is neither"))
        .stdout(predicate::str::contains("did you mean `status-transition`?"));
    // A built-in rule that did not decide is a difference, not an error.
    test_with_expect(&dir, "{ rules: [default-deny] }", false)
        .code(1)
        .stdout(predicate::str::contains("\"default-deny\" ≠"))
        .stdout(predicate::str::contains("neither").not());
}

/// Lists of different lengths are aligned: the lines after the longer
/// list's extra entry are the same on both sides, and unmarked.
#[test]
fn test_marks_only_the_lines_that_differ() {
    let dir = pack_with_tests();
    file(dir.path(), "p.policy", "rule r { permit block }\nrule s { permit delete }");
    let out = test_with_expect(&dir, "{ decision: allow, rules: [r, s] }", false).code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let marked: Vec<&str> = stdout.lines().filter(|l| l.contains('≠')).collect();
    assert_eq!(marked.len(), 2, "{stdout}");
    assert!(marked[0].contains("\"r\",") && marked[0].ends_with("\"r\""), "{stdout}");
    assert!(marked[1].contains("\"s\"") && marked[1].trim_end().ends_with('≠'), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.trim_start().starts_with(']') && l.trim_end().ends_with(']')),
        "{stdout}"
    );
}

/// A test file reads YAML as a directory file does: `no` is an id, not
/// `false` (YAML 1.2 booleans only).
#[test]
fn test_files_read_no_as_text() {
    let dir = pack_with_tests();
    file(
        &dir.path().join("tests"),
        "t.yaml",
        "directory:\n  environments: [{ id: E, license: L, kind: test }]\n  users:\n    - { id: no, home: E, accounts: [{ env: E, status: active }] }\ncases:\n  - name: c\n    request: { actor: no, action: block, target: no, env: E }\n    expect: { decision: allow }\n",
    );
    steward().args(["test", dir.path().to_str().unwrap()]).assert().success();
}

/// `show` of a user a plan removed with their last account says so, from
/// the audit log, instead of offering someone else's name (D4, #19).
#[test]
fn show_of_a_deleted_user_says_who_deleted_them_and_when() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::database(dir.path(), "analytics", "");
    let targets = file(dir.path(), "t.txt", "acme.Leo\n");
    let mut args: Vec<String> =
        ["--actor", "acme.Olivia", "--action", "delete", "--env", "acme", "--reason", "left in October"]
            .map(String::from)
            .to_vec();
    args.extend(["--targets".to_owned(), targets.to_str().unwrap().to_owned()]);
    for (asset, owner) in crate::support::LEAVER_OWNERS {
        args.extend(["--reassign".to_owned(), format!("{asset}={owner}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let plan = saved_plan(dir.path(), &pack_dir("analytics"), &db, &args);
    apply_cmd(&pack_dir("analytics"), &db, &plan).arg("--confirm").assert().success();
    steward()
        .args(["show", "acme.Leo", "--directory"])
        .arg(&db)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "`acme.Leo` is no longer in the directory: deleted by `acme.Olivia`",
        ))
        .stderr(predicate::str::contains("left in October"))
        .stderr(predicate::str::contains("did you mean").not());
}

/// Coverage names the triggers no plan case ran and the lifecycle blocks no
/// impact read, as well as the rules that decided no case (#19).
#[test]
fn test_coverage_names_triggers_and_lifecycle_blocks_no_case_exercised() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    file(
        dir.path(),
        "p.policy",
        "rule r { permit block }\nlifecycle delete { owns api_key -> revoke }\ntrigger old { block when target.status == \"active\" }\n",
    );
    let directory = "directory:\n  environments: [{ id: E, license: L, kind: test }]\n  users:\n    - { id: a, home: E, accounts: [{ env: E, status: active }] }\n";
    let tests = dir.path().join("tests");
    file(
        &tests,
        "t.yaml",
        &format!(
            "{directory}cases:\n  - name: c\n    request: {{ actor: a, action: block, target: a, env: E }}\n    expect: {{ decision: allow }}\n"
        ),
    );
    steward()
        .args(["test", dir.path().to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("no case exercises trigger old, lifecycle delete"));
    file(
        &tests,
        "u.yaml",
        &format!(
            "{directory}cases:\n  - name: t\n    plan: {{ actor: a, trigger: old, reason: r }}\n    expect: {{ outcomes: {{ block: 1 }} }}\n  - name: d\n    request: {{ actor: a, action: delete, target: a, env: E }}\n    expect: {{ decision: deny }}\n"
        ),
    );
    steward()
        .args(["test", dir.path().to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("coverage").not());
}

/// Human tables have a header row and columns as wide as their longest
/// cell; not on a terminal, no styles (#19).
#[test]
fn human_tables_have_a_header_and_aligned_columns() {
    let out = steward().args(["users", "--directory", "examples/erp.yaml"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("user ") && header.contains("  email"), "{header}");
    assert!(!text.contains('\u{1b}'), "no styles into a pipe");
    let at = header.find("env").unwrap();
    assert!(lines.all(|l| l.get(at..at + 1).is_some_and(|c| c == "O")), "{text}");
}

/// `steward test` without a path runs the packs steward.yaml names; with
/// neither, it says both ways (#19).
#[test]
fn test_without_a_path_runs_the_packs_of_steward_yaml() {
    let dir = tempfile::tempdir().unwrap();
    steward_in(dir.path())
        .arg("test")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no policies: pass PATH... or set `policies` in steward.yaml"));
    file(dir.path(), "steward.yaml", &format!("policies: [{}]\n", pack_dir("crm").display()));
    steward_in(dir.path())
        .arg("test")
        .assert()
        .success()
        .stdout(predicate::str::contains(" passed, 0 failed"));
}

/// A misspelt trigger or directory file is answered with the closest name
/// (#19).
#[test]
fn a_misspelt_trigger_or_directory_file_gets_the_closest_name() {
    on_example("plan", "erp")
        .args(["--actor", "12345.Admin", "--trigger", "leaver", "--reason", "x"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no trigger `leaver` in the policy set: did you mean `leavers`?"));
    steward()
        .args(["users", "--directory", "examples/crm.yml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("help: did you mean `examples/crm.yaml`?"));
}
