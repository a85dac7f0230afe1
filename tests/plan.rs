//! `steward plan`, the dry run: bulk decisions, fallbacks, totals, digests.

use assert_cmd::Command;
use predicates::prelude::*;
use steward::plan::Plan;

use crate::support::{NOW, file, on_example, read_json, stdout_json};

/// The plan `cmd` prints as JSON at [`NOW`], and its exit code.
fn plan_json(cmd: &mut Command) -> (i32, serde_json::Value) {
    let out = cmd.args(["--format", "json", "--now", NOW]).output().unwrap();
    (out.status.code().unwrap(), stdout_json(&out))
}

/// Three ERP accounts to delete: one that can go, one that records keep
/// (P3), and the acting administrator.
const CLEANUP: &str = "user,env\n12345.Fresh,O12345AA\n12345.JJansen,O12345AA\n12345.Admin,O12345AA\n";

/// `steward plan` with the ERP pack over its example.
fn erp() -> Command {
    on_example("plan", "erp")
}

#[test]
fn p5_the_leavers_trigger_blocks_those_whose_employment_ended() {
    let (code, plan) =
        plan_json(erp().args(["--actor", "12345.Admin", "--trigger", "leavers", "--reason", "left"]));
    assert_eq!(code, 0);
    assert_eq!(plan["action"], "block");
    let items = plan["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["target"], "12345.Leaver");
    assert_eq!(items[0]["outcome"], "block");
}

#[test]
fn p4_p3_a_csv_of_targets_with_a_fallback_and_a_denial() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "targets.csv", CLEANUP);
    let (code, plan) = plan_json(erp().args([
        "--actor",
        "12345.Admin",
        "--action",
        "delete",
        "--targets",
        csv.to_str().unwrap(),
        "--reason",
        "cleanup",
    ]));
    assert_eq!(code, 2, "a denied item makes the plan exit 2");
    let outcome = |user: &str| {
        plan["items"].as_array().unwrap().iter().find(|i| i["target"] == user).unwrap()["outcome"].clone()
    };
    assert_eq!(outcome("12345.Fresh"), "delete");
    assert_eq!(outcome("12345.JJansen"), "block");
    assert_eq!(outcome("12345.Admin"), "denied");
    assert_eq!(plan["summary"]["outcomes"], serde_json::json!({"block": 1, "delete": 1, "denied": 1}));
    // P2: only Fresh stops counting; Jan stays active in the test environment.
    assert_eq!(
        plan["summary"]["licenses"],
        serde_json::json!([{"license": "12345", "before": 8, "after": 7}])
    );
}

#[test]
fn c5_superusers_are_blocked_in_a_bulk_plan() {
    let (code, plan) = plan_json(on_example("plan", "crm").args([
        "--actor",
        "crm.Ada",
        "--action",
        "block",
        "--where",
        "target has role \"superuser\" and target.user != \"crm.Ada\" and target.status == \"active\"",
        "--env",
        "CRM1",
        "--reason",
        "restructuring",
    ]));
    assert_eq!(code, 0, "{plan}");
    assert_eq!(plan["items"][0]["target"], "crm.Sam");
    assert_eq!(plan["items"][0]["outcome"], "block");
}

#[test]
fn q7_d8_deletions_are_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let list = file(dir.path(), "targets.txt", "acme.Uma\nacme.Leo\n");
    let (code, plan) = plan_json(on_example("plan", "analytics").args([
        "--actor",
        "acme.Olivia",
        "--action",
        "delete",
        "--targets",
        list.to_str().unwrap(),
        "--env",
        "acme",
        "--reason",
        "leavers",
    ]));
    assert_eq!(code, 2);
    for item in plan["items"].as_array().unwrap() {
        assert_eq!(item["outcome"], "denied");
        assert!(item["rules"].as_array().unwrap().iter().any(|r| r == "delete_one_at_a_time"));
    }
}

#[test]
fn a_saved_plan_carries_digests_that_detect_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    erp()
        .args([
            "--actor",
            "12345.Admin",
            "--trigger",
            "leavers",
            "--reason",
            "left",
            "-o",
            path.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing was changed"));
    let mut plan: Plan = read_json(&path);
    assert_eq!(plan.policy_digest.len(), 64);
    assert_eq!(plan.directory_digest.len(), 64);
    assert_eq!(plan.content_digest(), plan.digest);
    plan.items[0].outcome = "delete".into();
    assert_ne!(plan.content_digest(), plan.digest, "an edited plan no longer matches its digest");
}

#[test]
fn bad_plans_are_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    // JJansen has accounts in two environments: a row without one is not enough.
    let list = file(dir.path(), "targets.txt", "12345.JJansen\n");
    let cases: [(&[&str], &str); 3] = [
        (&["--trigger", "joiners"], "no trigger `joiners`"),
        (
            &["--action", "block", "--targets", list.to_str().unwrap()],
            "has accounts in `O12345AA`, `O12345TT`",
        ),
        (&["--action", "block", "--where", "target.stauts == \"active\""], "did you mean `status`?"),
    ];
    for (args, message) in cases {
        erp()
            .args(["--actor", "12345.Admin", "--reason", "x"])
            .args(args)
            .assert()
            .code(3)
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn the_human_plan_lists_denied_items_first_then_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let csv = file(dir.path(), "targets.csv", CLEANUP);
    let out = erp()
        .args(["--actor", "12345.Admin", "--action", "delete", "--reason", "cleanup", "--now", NOW])
        .arg("--targets")
        .arg(&csv)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("plan_human", text);
}

/// The action's row (src/operation.rs) is read before any target is
/// decided: an action the schema does not know, or one that acts on assets,
/// makes no plan of denied items but an error (exit 3).
#[test]
fn actions_are_checked_against_their_row_before_anything_is_decided() {
    let dir = tempfile::tempdir().unwrap();
    let list = file(dir.path(), "targets.txt", "12345.JJansen\n");
    for (action, message) in [
        ("delet", "unknown action `delet`"),
        ("reassign", "`reassign` acts on assets, not accounts"),
        ("invite", "`invite` takes e-mail addresses (--emails), not existing users"),
    ] {
        erp()
            .args(["--actor", "12345.Admin", "--env", "O12345AA", "--reason", "x", "--action", action])
            .arg("--targets")
            .arg(&list)
            .assert()
            .code(3)
            .stdout("")
            .stderr(predicate::str::contains(message));
    }
    erp()
        .args(["--actor", "12345.Admin", "--env", "O12345AA", "--reason", "x", "--action", "delet"])
        .arg("--targets")
        .arg(&list)
        .assert()
        .stderr(predicate::str::contains("did you mean `delete`?"));
}

/// The human plan, as a user reads it (`--now` fixed).
fn human(args: &[&str], list: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let targets = file(dir.path(), "targets.txt", list);
    let out =
        erp().args(args).args(["--reason", "x", "--now", NOW, "--targets"]).arg(&targets).output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

/// Q3: an invitation lists one or more addresses; none at all is a
/// mistake (exit 3), not an empty plan that succeeds.
#[test]
fn q3_an_invitation_without_an_address_is_refused() {
    for emails in ["", " , "] {
        on_example("plan", "analytics")
            .args(["--actor", "acme.Olivia", "--env", "acme-lab", "--reason", "x", "--emails", emails])
            .assert()
            .code(3)
            .stdout("")
            .stderr(predicate::str::contains("no e-mail address to invite"));
    }
}

/// The last line says what applying would do: a plan of an action apply
/// does not execute (P8) is informational, not one that asks for
/// confirmation; a plan whose items are all denied has nothing to apply.
#[test]
fn the_human_plan_ends_with_what_applying_it_would_do() {
    let admin = ["--actor", "12345.Admin", "--env", "O12345AA"];
    let (code, merge) = human(&[&admin[..], &["--action", "merge"]].concat(), "12345.Fresh\n");
    assert_eq!(code, 0, "{merge}");
    assert!(merge.contains("  1 account to be merged into another user (informational)\n"), "{merge}");
    assert!(
        merge.ends_with("apply does not execute `merge`: this plan is informational, and apply refuses it\n"),
        "{merge}"
    );
    assert!(!merge.contains("confirmation"), "{merge}");

    let (code, denied) = human(&[&admin[..], &["--action", "delete"]].concat(), "12345.Admin\n");
    assert_eq!(code, 2, "{denied}");
    assert!(denied.ends_with("every item is denied, so there is nothing to apply\n"), "{denied}");

    let (code, block) = human(&[&admin[..], &["--action", "block"]].concat(), "12345.Fresh\n");
    assert_eq!(code, 0, "{block}");
    assert!(block.contains("  1 account to be blocked\n"), "{block}");
    assert!(block.ends_with("nothing was changed; applying 1 item asks for confirmation (C2)\n"), "{block}");

    erp()
        .args(["--actor", "12345.Admin", "--trigger", "leavers"])
        .args(["--reason", "x", "--now", "2020-01-01T00:00:00Z"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("no account is selected")
                .and(predicate::str::ends_with("nothing was changed, and there is nothing to apply\n")),
        );
}

/// G10: the target column says which option the guest is added as,
/// `system` (the first the schema declares) when no value says otherwise;
/// `→` is for new e-mails and names.
#[test]
fn g10_a_guest_reads_as_the_kind_of_user_it_is_added_as() {
    let customer = ["--actor", "98765.Admin", "--env", "O98765AA", "--action", "add_guest"];
    let (code, normal) = human(&[&customer[..], &["--value", "normal"]].concat(), "12345.Gwen\n");
    assert_eq!(code, 0, "{normal}");
    assert!(normal.contains("12345.Gwen as normal"), "{normal}");
    assert!(!normal.contains('→'), "{normal}");
    assert!(normal.contains("  1 guest to be added\n"), "{normal}");
    let (_, system) = human(&customer, "12345.Gwen\n");
    assert!(system.contains("12345.Gwen as system"), "{system}");
}

/// Every way plan.rs refuses a request: exit 3, the message on standard
/// error, nothing on standard output.
#[test]
fn every_refused_plan_says_why_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let list = |name: &str, text: &str| file(dir.path(), name, text).to_str().unwrap().to_owned();
    let fresh = list("fresh.txt", "12345.Fresh\n");
    let nobody = list("nobody.txt", "12345.Nobody\n");
    let header_only = list("empty.csv", "user,env\n");
    let admin = ["--actor", "12345.Admin", "--reason", "x"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--targets", &fresh, "--env", "O12345AA"], "a plan needs an action"),
        (
            vec!["--action", "block", "--targets", &fresh, "--env", "O98765AA"],
            "`12345.Fresh` has no account in `O98765AA`",
        ),
        (
            vec!["--action", "add_guest", "--targets", &nobody, "--env", "O98765AA"],
            "unknown user `12345.Nobody`",
        ),
        (vec!["--action", "block", "--targets", &header_only, "--env", "O12345AA"], "names no user"),
        (
            vec!["--action", "block", "--emails", "a@x.example", "--env", "O12345AA"],
            "e-mail addresses are invited, not `block`",
        ),
        (vec!["--emails", "a@x.example"], "`the invitation` has no environment"),
        (vec!["--action", "invite", "--where", "true", "--env", "O12345AA"], "not accounts a selector picks"),
        (
            vec!["--action", "delete", "--trigger", "leavers"],
            "trigger `leavers` is for `block`, not `delete`",
        ),
        (
            vec!["--action", "block", "--targets", &fresh, "--env", "O12345AA", "--value", "x"],
            "`x` is not a valid value for `block`: it takes none",
        ),
        (
            vec!["--action", "block", "--where", "target.status", "--env", "O12345AA"],
            "a condition must be true or false, not a string",
        ),
    ];
    for (args, message) in cases {
        erp().args(admin).args(&args).assert().code(3).stdout("").stderr(predicate::str::contains(message));
    }
}

/// P7 is said of the directory after the whole plan: blocking both of Jan's
/// accounts in one plan leaves him active nowhere, so neither item says he
/// stays active in the other; Nils keeps his customer account (the pack
/// denies blocking it there), and his home item still says so.
#[test]
fn p7_where_a_user_stays_active_is_said_of_the_whole_plan() {
    let warnings_of = |who: &str| {
        let selector = format!("target.user == \"{who}\"");
        let (_, plan) = plan_json(erp().args([
            "--actor",
            "12345.Admin",
            "--action",
            "block",
            "--where",
            &selector,
            "--reason",
            "audit",
        ]));
        plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                let warnings = i["impact"]["warnings"].as_array().cloned().unwrap_or_default();
                let messages: Vec<String> = warnings
                    .iter()
                    .filter(|w| w["code"] == "active_in_other_environments")
                    .map(|w| w["message"].as_str().unwrap().to_owned())
                    .collect();
                (i["env"].as_str().unwrap().to_owned(), i["outcome"].as_str().unwrap().to_owned(), messages)
            })
            .collect::<Vec<_>>()
    };
    let jan = warnings_of("12345.JJansen");
    assert_eq!(jan.len(), 2);
    for (env, outcome, messages) in &jan {
        assert_eq!(outcome, "block", "{env}");
        assert!(messages.is_empty(), "{env}: {messages:?}");
    }
    let nils = warnings_of("12345.NoDesk");
    let home = nils.iter().find(|(env, ..)| env == "O12345AA").unwrap();
    assert_eq!(home.1, "block");
    assert_eq!(home.2.len(), 1);
    assert!(home.2[0].contains("stays active in O98765AA (P7)"), "{:?}", home.2);
}
