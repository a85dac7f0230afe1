//! A pack that declares its own model (#16): directories are read for it,
//! typed attributes decide, the built-in rules and apply follow its
//! actions, and the store is held to it when loaded.

use predicates::prelude::*;
use steward::directory::yaml;
use steward::policy::report::render_human;
use steward::policy::{PolicySet, Request, Sources};
use steward::{Engine, PlanRequest, Targets};

use crate::support::{NOW, file, first_diagnostic, steward};

/// A model no source system has: frozen users still count toward the
/// license but cannot log in, contracts end on a date.
const PACK: &str = r#"
schema {
  environment kind production live
  status active counts login
  status frozen counts
  status gone
  account kind member
  account kind bot counts never
  asset kind record
  attribute user.contract_end: date?
  attribute user.tier: one of "gold", "basic"
  attribute account.seats: integer?
  action freeze on account from active -> frozen as "member" "frozen"
  action thaw on account from frozen -> active as "member" "thawed"
  action retire on account from active, frozen -> gone as "member" "retired"
  action reassign on asset
  action make_bot on account takes one of bot { kind = bot }, member { kind = member }
}

rule admins { permit freeze, thaw, retire, make_bot when actor has role "admin" }
rule no_self { forbid freeze, retire when actor.user == target.user because "not yourself" }
rule takers { permit reassign when request.to.status == "active" }

trigger contract_over {
  freeze when target.user.attrs has contract_end
    and target.user.attrs.contract_end < request.now
    and target.status == "active"
}

lifecycle retire { owns record -> reassign to request.to }
"#;

const DIRECTORY: &str = r#"
environments: [{ id: E, license: L, kind: production }]
users:
  - { id: ann, home: E, attrs: { tier: gold }, accounts: [{ env: E, status: active, roles: [admin] }] }
  - { id: bob, home: E, attrs: { tier: basic, contract_end: "2026-01-31" }, accounts: [{ env: E, status: active }] }
  - { id: cy, home: E, attrs: { tier: basic, contract_end: "2027-01-31" }, accounts: [{ env: E, status: frozen }] }
  - { id: robo, home: E, attrs: { tier: basic }, accounts: [{ env: E, status: active, kind: bot }] }
assets:
  - { id: r1, kind: record, env: E, owner: bob }
"#;

fn pack() -> PolicySet {
    let mut sources = Sources::new();
    sources.add("pack.policy", PACK);
    PolicySet::from_sources(sources).unwrap().set
}

fn engine() -> Engine {
    let set = pack();
    let directory = yaml::parse("d.yaml", DIRECTORY, set.schema()).unwrap();
    Engine::new(set, directory)
}

fn now() -> jiff::Timestamp {
    NOW.parse().unwrap()
}

/// The first diagnostic of a directory read for the pack's schema.
/// The rendered text is given on one line, its frame left out, so that
/// phrases wrapped by the renderer are found whole.
fn directory_error(text: &str) -> (String, String, u64, u64) {
    let set = pack();
    let (sources, diagnostics) = yaml::parse("d.yaml", text, set.schema()).expect_err("an error");
    let first = first_diagnostic(&sources, &diagnostics);
    let rendered = render_human(&sources, &diagnostics);
    let words: Vec<&str> = rendered.split_whitespace().filter(|w| *w != "│").collect();
    (
        words.join(" "),
        first["code"].as_str().unwrap().to_owned(),
        first["line"].as_u64().unwrap(),
        first["column"].as_u64().unwrap(),
    )
}

#[test]
fn a_directory_is_read_for_the_declared_statuses_and_kinds() {
    let (text, code, line, column) = directory_error(&DIRECTORY.replace("status: frozen", "status: blocked"));
    assert_eq!((code.as_str(), line, column), ("unknown-value", 6, 105), "{text}");
    assert!(text.contains("the values are: active, frozen, gone"), "{text}");
    let (text, code, ..) = directory_error(&DIRECTORY.replace("kind: bot", "kind: guest"));
    assert_eq!(code, "unknown-value", "{text}");
    assert!(text.contains("`guest` is not an account kind"), "{text}");
    let (text, ..) = directory_error(&DIRECTORY.replace("kind: record", "kind: app"));
    assert!(text.contains("`app` is not an asset kind"), "{text}");
}

#[test]
fn declared_attributes_are_typed_and_closed_in_the_directory() {
    let (text, code, line, column) = directory_error(&DIRECTORY.replace("2026-01-31", "end of January"));
    let at_key = DIRECTORY.lines().nth(4).unwrap().find("contract_end").unwrap() as u64 + 1;
    assert_eq!((code.as_str(), line, column), ("attribute", 5, at_key), "located at its key: {text}");
    assert!(text.contains("`attrs.contract_end` is `\"end of January\"`, not a date"), "{text}");
    let (text, ..) = directory_error(&DIRECTORY.replace("tier: gold", "tier: platinum"));
    assert!(text.contains("not one of `gold`, `basic`"), "{text}");
    let (text, ..) = directory_error(&DIRECTORY.replace("tier: gold", "tier: gold, contract_ned: x"));
    assert!(text.contains("`attrs.contract_ned` is not an attribute"), "{text}");
    assert!(text.contains("did you mean `contract_end`?"), "{text}");
    let (text, ..) = directory_error(&DIRECTORY.replace("attrs: { tier: gold }, ", ""));
    assert!(text.contains("`attrs.tier` is missing"), "{text}");
}

/// P5 with a date in `attrs`: declared a date, it compares with the clock
/// (free-form, it would be an error item: tests/trust.rs).
#[test]
fn a_trigger_on_a_declared_date_selects_whose_contract_ended() {
    let plan = engine()
        .plan(&PlanRequest {
            actor: "ann".into(),
            action: None,
            targets: Targets::Trigger("contract_over".into()),
            env: None,
            value: None,
            reason: "contract over".into(),
            now: now(),
            reassign: Default::default(),
        })
        .unwrap();
    let items: Vec<(&str, &str)> =
        plan.items.iter().map(|i| (i.target.as_str(), i.outcome.as_str())).collect();
    assert_eq!(items, [("bob", "freeze")]);
}

/// The built-in `status-transition` rule reads `from`; a frozen account
/// counts toward the license, a bot never does.
#[test]
fn moves_follow_the_declared_statuses_and_counting() {
    let engine = engine();
    let decide = |action: &str, target: &str| {
        let mut request = Request::new("ann", action, "E").target(target);
        request.now = Some(now());
        engine.decide(&request).unwrap()
    };
    let thaw_active = decide("thaw", "bob");
    assert_eq!(thaw_active.report.rules[0].id, "status-transition");
    assert_eq!(thaw_active.report.reasons[0], "only a frozen account can be thawed; `bob` is active");
    let freeze = decide("freeze", "bob");
    assert!(freeze.allowed());
    let license = freeze.impact.unwrap().license.unwrap();
    assert_eq!((license.before, license.after), (3, 3), "frozen still counts; the bot never does");
    let retire = decide("retire", "cy").impact.unwrap().license.unwrap();
    assert_eq!((retire.before, retire.after), (3, 2));
    let unknown = engine.decide(&Request::new("ann", "delete", "E").target("bob")).unwrap_err();
    assert!(unknown.to_string().contains("unknown action `delete`"), "{unknown}");
}

/// What apply does is what the declaration says: a move, with the records
/// a lifecycle block hands on given a new owner.
#[test]
fn apply_executes_the_declared_moves() {
    let (_dir, db) = import_plan_apply(
        (PACK, DIRECTORY),
        ["retire", "bob\ncy\n", "2 members to be retired"],
        &["--reassign", "r1=ann"],
    );
    let schema = pack().schema().clone();
    let after = steward::directory::load(&db, &schema).unwrap();
    assert_eq!(after.account("bob", "E").unwrap().status, "gone");
    assert_eq!(after.account("cy", "E").unwrap().status, "gone");
    assert_eq!(after.asset("r1").unwrap().owner.as_deref(), Some("ann"));
}

/// `yaml` imported into `dir/d.db` for the pack at `policy`: the database.
fn imported(dir: &std::path::Path, yaml: &std::path::Path, policy: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("d.db");
    steward().arg("import").arg(yaml).arg("-o").arg(&db).arg("--policy").arg(policy).assert().success();
    db
}

/// Imports `directory` for `policy` into a database, plans `action` by
/// `ann` in `E` on the `targets` (the summary saying `summary`), applies
/// it with `extra` flags: the folder and the database.
fn import_plan_apply(
    (policy, directory): (&str, &str),
    [action, targets, summary]: [&str; 3],
    extra: &[&str],
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let policy = file(dir.path(), "pack.policy", policy);
    let yaml = file(dir.path(), "d.yaml", directory);
    let db = imported(dir.path(), &yaml, &policy);
    let plan = dir.path().join("plan.json");
    let targets = file(dir.path(), "t.txt", targets);
    steward()
        .args(["plan", "--policy"])
        .arg(&policy)
        .arg("--directory")
        .arg(&db)
        .args(["--actor", "ann", "--action", action, "--env", "E", "--reason", "left", "--now", NOW])
        .arg("--targets")
        .arg(&targets)
        .arg("-o")
        .arg(&plan)
        .assert()
        .success()
        .stdout(predicate::str::contains(summary));
    steward()
        .args(["apply", "--policy"])
        .arg(&policy)
        .arg("--directory")
        .arg(&db)
        .arg(&plan)
        .arg("--confirm")
        .args(extra)
        .assert()
        .success();
    (dir, db)
}

/// A database is held to the schema it is read for: one imported for the
/// pack does not pass for the standard schema, and says why.
#[test]
fn a_database_read_for_another_schema_is_refused_naming_what_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let policy = file(dir.path(), "pack.policy", PACK);
    let yaml = file(dir.path(), "d.yaml", DIRECTORY);
    let db = imported(dir.path(), &yaml, &policy);
    steward()
        .arg("licenses")
        .arg("--directory")
        .arg(&db)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("does not fit the policy set's schema"))
        .stderr(predicate::str::contains("`frozen` is not a status"))
        .stderr(predicate::str::contains("note: the directory was read for steward's standard schema"));
    steward()
        .arg("licenses")
        .arg("--policy")
        .arg(&policy)
        .arg("--directory")
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::contains("L").and(predicate::str::contains("3")));
}

/// The standard schema written out in a pack decides as the implicit one:
/// the declarations are the model, nothing else is.
#[test]
fn the_standard_schema_spelled_out_decides_as_the_default() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let standard = std::fs::read_to_string(root.join("schema/standard.policy")).unwrap();
    for pack in ["erp", "crm", "analytics"] {
        let implicit = PolicySet::load(&[root.join(format!("policies/{pack}"))]).unwrap().set;
        let mut sources = Sources::new();
        sources.add("standard.policy", standard.clone());
        for entry in std::fs::read_dir(root.join(format!("policies/{pack}"))).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "policy") {
                sources.add(path.display().to_string(), std::fs::read_to_string(&path).unwrap());
            }
        }
        let explicit = PolicySet::from_sources(sources).unwrap().set;
        assert_eq!(**implicit.schema(), **explicit.schema(), "{pack}");
        let directory =
            steward::directory::load(&root.join(format!("examples/{pack}.yaml")), implicit.schema()).unwrap();
        let accounts: Vec<(String, String)> =
            directory.accounts().iter().map(|a| (a.user.to_string(), a.env.to_string())).collect();
        for action in implicit.schema().action_names() {
            for (actor, env) in &accounts {
                for (target, _) in accounts.iter().filter(|(_, e)| e == env) {
                    let mut request = Request::new(actor, action, env).target(target);
                    request.now = Some(now());
                    let a = implicit.decide(&request, &directory);
                    let b = explicit.decide(&request, &directory);
                    assert_eq!(
                        a.as_ref().map(|d| implicit.report(&request, d)).map_err(|e| e.to_string()),
                        b.as_ref().map(|d| explicit.report(&request, d)).map_err(|e| e.to_string()),
                        "{pack}: {actor} {action} {target} in {env}"
                    );
                }
            }
        }
    }
}

#[test]
fn fmt_keeps_a_schema_block_and_its_comments() {
    let text = "// the model\nschema extends standard {\n  // frozen still counts\n  status frozen counts\n  action freeze on account from active -> frozen as \"account\" \"frozen\"\n  attribute user.tier: one of \"gold\", \"basic\"\n}\n";
    let mut sources = Sources::new();
    let id = sources.add("s.policy", text);
    let file = steward::policy::parse::parse_file(&sources, id).unwrap();
    assert_eq!(steward::policy::fmt::format_file(&file), text);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    steward().arg("fmt").arg("--check").arg(root.join("schema/standard.policy")).assert().success();
}

/// A value is held to what the action takes in a decision as in a plan:
/// an address that is none, a value for an action that takes none.
#[test]
fn decide_refuses_a_value_the_action_does_not_take() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine = Engine::load_paths(&[root.join("policies/erp")], &root.join("examples/erp.yaml")).unwrap();
    let mut request = Request::new("12345.Admin", "edit_email", "O12345AA").target("12345.JJansen");
    request.value = Some("not an address".into());
    let err = engine.decide(&request).unwrap_err();
    assert!(err.to_string().contains("is not a valid value for `edit_email`"), "{err}");
    request.action = "block".into();
    let err = engine.decide(&request).unwrap_err();
    assert_eq!(err.to_string(), "`block` does not take `value`");
    let own = self::engine();
    let mut request = Request::new("ann", "make_bot", "E").target("bob");
    request.value = Some("robot".into());
    let err = own.decide(&request).unwrap_err();
    assert!(err.to_string().ends_with("`bot` (the default) or `member`"), "{err}");
}

/// An action apply does not execute changes nothing in the dry run
/// either: its option's settings move no license count.
#[test]
fn an_informational_action_moves_no_license_count() {
    let plan = engine()
        .plan(&PlanRequest {
            actor: "ann".into(),
            action: Some("make_bot".into()),
            targets: Targets::List(vec![steward::Target::user("bob")]),
            env: Some("E".into()),
            value: Some("bot".into()),
            reason: "automation".into(),
            now: now(),
            reassign: Default::default(),
        })
        .unwrap();
    assert_eq!(plan.items[0].outcome, "make_bot");
    assert!(plan.summary.licenses.is_empty(), "{:?}", plan.summary.licenses);
}

/// A kind that counts toward no license is still a member (it may take
/// assets, it is not warned about as anonymous access is).
#[test]
fn a_kind_that_counts_never_is_still_a_member_unless_declared_nonmember() {
    let engine = engine();
    let mut request = Request::new("ann", "freeze", "E").target("robo");
    request.now = Some(now());
    let verdict = engine.decide(&request).unwrap();
    let impact = verdict.impact.unwrap();
    assert!(impact.warnings.iter().all(|w| w.code != "anonymous_not_member"), "{:?}", impact.warnings);
}

/// `reassign to request.to`: the new owner the request names.
#[test]
fn the_default_owner_can_be_the_one_the_request_names() {
    let engine = engine();
    let mut request = Request::new("ann", "retire", "E").target("bob");
    request.now = Some(now());
    request.to = Some("ann".into());
    let impact = engine.decide(&request).unwrap().impact.unwrap();
    assert_eq!(impact.reassign[0].default_owner.as_deref(), Some("ann"), "{:?}", impact.reassign);
}

/// The same over generated directories: every action, between accounts of
/// one environment, decided by the packs on the implicit standard schema
/// and on it spelled out.
mod generated {
    use proptest::prelude::*;
    use steward::directory::generate::{GenerateOptions, generate};
    use steward::policy::{PolicySet, Request, Sources};

    fn spelled_out(pack: &str) -> (PolicySet, PolicySet) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let implicit = PolicySet::load(&[root.join(format!("policies/{pack}"))]).unwrap().set;
        let mut sources = Sources::new();
        sources.add("standard.policy", std::fs::read_to_string(root.join("schema/standard.policy")).unwrap());
        for entry in std::fs::read_dir(root.join(format!("policies/{pack}"))).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "policy") {
                sources.add(path.display().to_string(), std::fs::read_to_string(&path).unwrap());
            }
        }
        (implicit, PolicySet::from_sources(sources).unwrap().set)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]
        #[test]
        fn the_standard_schema_spelled_out_decides_as_the_default_on_generated_directories(
            seed in 0u64..10_000,
            pack in prop::sample::select(vec!["erp", "crm", "analytics"]),
        ) {
            let (implicit, explicit) = spelled_out(pack);
            let directory = generate(GenerateOptions { accounts: 40, seed });
            let now: jiff::Timestamp = crate::support::NOW.parse().unwrap();
            for env in directory.environments().iter().take(2) {
                let accounts: Vec<_> = directory.accounts_in(&env.id).take(6).collect();
                for action in implicit.schema().action_names() {
                    for actor in &accounts {
                        for target in &accounts {
                            let mut request = Request::new(actor.user.as_str(), action, &env.id).target(target.user.as_str());
                            request.now = Some(now);
                            let a = implicit.decide(&request, &directory).map(|d| implicit.report(&request, &d));
                            let b = explicit.decide(&request, &directory).map(|d| explicit.report(&request, &d));
                            prop_assert_eq!(
                                a.map_err(|e| e.to_string()),
                                b.map_err(|e| e.to_string()),
                                "{} {} {} in {}", actor.user, action, target.user, env.id
                            );
                        }
                    }
                }
            }
        }
    }
}

/// A test case can expect a refusal: a pack without `delete` says so in
/// its tests, and a case that expects an error fails when it is decided.
#[test]
fn a_test_case_expects_an_error_and_fails_when_decided() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    file(dir.path(), "p.policy", PACK);
    file(
        &dir.path().join("tests"),
        "t.yaml",
        &format!(
            "directory:\n{}\ncases:\n  - name: no delete\n    request: {{ actor: ann, action: delete, target: bob, env: E }}\n    expect: {{ error: \"unknown action `delete`\" }}\n  - name: decided\n    request: {{ actor: ann, action: freeze, target: bob, env: E }}\n    expect: {{ error: \"unknown action\" }}\n",
            DIRECTORY.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
        ),
    );
    let out = steward().arg("test").arg(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("1 passed, 1 failed"), "{text}");
    assert!(text.contains("expected an error, and the case was decided"), "{text}");
}

/// A `one of` attribute is a vocabulary: a string compared with it must be
/// one of its options, and one that is decides.
#[test]
fn a_one_of_attribute_compares_with_its_options_only() {
    let with = |condition: &str| {
        let mut sources = Sources::new();
        sources.add(
            "pack.policy",
            format!("{PACK}\nrule stays {{ forbid thaw when target.user.attrs.tier == \"{condition}\" because \"basic stays\" }}\n"),
        );
        PolicySet::from_sources(sources)
    };
    let err = with("platinum").expect_err("refused");
    let (_, diagnostics) = err.diagnostics().unwrap();
    let first = &diagnostics[0];
    assert_eq!(first.code, "unknown-value");
    assert_eq!(first.message, "`platinum` is not an option of the attribute");
    assert_eq!(first.help.as_deref(), Some("the values are: gold, basic"));
    let set = with("basic").unwrap().set;
    let directory = yaml::parse("d.yaml", DIRECTORY, set.schema()).unwrap();
    let mut request = Request::new("ann", "thaw", "E").target("cy");
    request.now = Some(now());
    let decision = set.decide(&request, &directory).unwrap();
    assert!(!decision.allowed());
    assert_eq!(set.report(&request, &decision).rules[0].id, "stays");
}

/// A database loaded for a schema is refused for what a file would be:
/// an invitation on a status that does not expire, an asset in one that
/// holds none.
#[test]
fn a_database_is_refused_what_a_file_would_be_refused() {
    let dir = tempfile::tempdir().unwrap();
    let with_invitations = PACK.replace("  status gone\n", "  status gone\n  status pending expires\n");
    let policy = file(dir.path(), "pack.policy", &with_invitations);
    let text = DIRECTORY.replace(
        "  - { id: robo,",
        "  - { id: pia, home: E, attrs: { tier: basic }, accounts: [{ env: E, status: pending, invited_until: \"2027-01-01T00:00:00Z\" }] }\n  - { id: robo,",
    );
    let yaml = file(dir.path(), "d.yaml", &text);
    let db = imported(dir.path(), &yaml, &policy);
    let no_expiry = with_invitations.replace("status pending expires", "status pending");
    let mut sources = Sources::new();
    sources.add("other.policy", no_expiry);
    let other = PolicySet::from_sources(sources).unwrap().set;
    let err = steward::directory::load(&db, other.schema()).unwrap_err().to_string();
    assert!(err.contains("`invited_until` is set, but `pending` is not a status that expires"), "{err}");
}

/// A `user` attribute is a relation: it names a user of the directory
/// (checked, with did-you-mean) and compares with users in conditions.
#[test]
fn a_user_attribute_relates_two_users() {
    let pack = PACK.replace(
        "  attribute account.seats: integer?\n",
        "  attribute account.seats: integer?\n  attribute user.manager: user?\n",
    ) + "\nrule managers { permit thaw when target.user.attrs has manager and target.user.attrs.manager == actor.user }\n";
    let mut sources = Sources::new();
    sources.add("pack.policy", pack);
    let set = PolicySet::from_sources(sources).unwrap().set;
    let text = DIRECTORY.replace(
        "attrs: { tier: basic, contract_end: \"2027-01-31\" }",
        "attrs: { tier: basic, contract_end: \"2027-01-31\", manager: bob }",
    );
    let directory = yaml::parse("d.yaml", &text, set.schema()).unwrap();
    let mut request = Request::new("bob", "thaw", "E").target("cy");
    request.now = Some(now());
    let decision = set.decide(&request, &directory).unwrap();
    assert_eq!(set.report(&request, &decision).rules[0].id, "managers");
    let (sources, diagnostics) =
        yaml::parse("d.yaml", &text.replace("manager: bob", "manager: bobb"), set.schema()).unwrap_err();
    let first = first_diagnostic(&sources, &diagnostics);
    assert_eq!(first["code"], "unknown-user");
    assert_eq!(first["help"], "did you mean `bob`?");
}

/// `impact` without `--action` means `delete` only where the schema has one.
#[test]
fn impact_without_an_action_asks_for_one_where_there_is_no_delete() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    steward()
        .args(["impact", "--target", "acme.Rita", "--env", "acme", "--policy"])
        .arg(root.join("policies/sales"))
        .arg("--directory")
        .arg(root.join("examples/sales.yaml"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("give --action: the schema declares no `delete`"));
}

/// The plan's summary says which assets still need a new owner, not those
/// given one, and every item keeps its place in the plan beside it.
#[test]
fn a_plan_says_what_still_needs_an_owner_and_where_each_item_stands() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let targets = file(dir.path(), "t.txt", "acme.Rita\nacme.Leo\n");
    let out = steward()
        .args(["plan", "--policy"])
        .arg(root.join("policies/sales"))
        .arg("--directory")
        .arg(root.join("examples/sales.yaml"))
        .args(["--actor", "acme.Sofia", "--action", "deactivate", "--env", "acme", "--reason", "left"])
        .args(["--reassign", "lead-hooli=acme.Omar", "--now", NOW])
        .arg("--targets")
        .arg(&targets)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\n# outcome"), "{text}");
    assert!(text.contains("\n1 deactivate acme.Rita"), "{text}");
    assert!(text.contains("  1 asset to a new owner\n"), "{text}");
    let open = text.lines().find(|l| l.starts_with("  needs a new owner")).unwrap();
    assert!(!open.contains("lead-hooli") && open.contains("lead-initech"), "{open}");
}

/// Commands that only read a directory read it for the pack `--policy`
/// names; sync says when no environment kind is a source.
#[test]
fn reading_commands_take_the_pack_schema_and_sync_says_when_nothing_is_a_source() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sales = root.join("policies/sales");
    let example = root.join("examples/sales.yaml");
    for command in [&["export"][..], &["users", "--directory"], &["show", "acme.Rita", "--directory"]] {
        steward().args(command).arg(&example).arg("--policy").arg(&sales).assert().success();
        steward().args(command).arg(&example).assert().code(3);
    }
    let dir = tempfile::tempdir().unwrap();
    let no_source = file(
        dir.path(),
        "p.policy",
        &PACK.replace("environment kind production live", "environment kind production"),
    );
    let yaml = file(dir.path(), "d.yaml", DIRECTORY);
    steward()
        .args(["sync", "--directory"])
        .arg(&yaml)
        .arg("--policy")
        .arg(&no_source)
        .assert()
        .success()
        .stderr(predicate::str::contains("no environment kind of the schema is `live`"));
}

/// A plan made under one model is never applied under another: the policy
/// digest the plan carries covers the schema, a status added included.
#[test]
fn a_plan_made_under_one_schema_is_refused_under_another() {
    let dir = tempfile::tempdir().unwrap();
    let policy = file(dir.path(), "pack.policy", PACK);
    let yaml = file(dir.path(), "d.yaml", DIRECTORY);
    let db = imported(dir.path(), &yaml, &policy);
    let plan = dir.path().join("plan.json");
    let targets = file(dir.path(), "t.txt", "bob\n");
    steward()
        .args(["plan", "--policy"])
        .arg(&policy)
        .arg("--directory")
        .arg(&db)
        .args([
            "--actor",
            "ann",
            "--action",
            "freeze",
            "--env",
            "E",
            "--reason",
            "x",
            "--now",
            NOW,
            "--targets",
        ])
        .arg(&targets)
        .arg("-o")
        .arg(&plan)
        .assert()
        .success();
    file(dir.path(), "pack.policy", &PACK.replace("  status gone\n", "  status gone\n  status archived\n"));
    steward()
        .args(["apply", "--policy"])
        .arg(&policy)
        .arg("--directory")
        .arg(&db)
        .arg(&plan)
        .arg("--confirm")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("the policy set changed"));
    let schema = pack().schema().clone();
    assert_eq!(steward::directory::load(&db, &schema).unwrap().account("bob", "E").unwrap().status, "active");
}

/// A pack of its own with a `portal`-like flag (G3, G12) and a user
/// attribute an action sets (G4): both declared, defaulted, read by name.
const FLAGGED: &str = r#"
schema {
  environment kind production live
  status active counts login
  account kind member
  attribute account.vip: boolean = false
  attribute user.badge: one of "none", "gold" = "none"
  action promote on account sets vip = true, user.badge = "gold" as "member" "promoted"
}

rule admins { permit promote when actor has role "admin" and not target.vip }
rule gold_stays { forbid promote when target.user.badge == "gold" because "promoted already" }
"#;

const FLAGGED_DIRECTORY: &str = r#"
environments: [{ id: E, license: L, kind: production }]
users:
  - { id: ann, home: E, accounts: [{ env: E, status: active, roles: [admin] }] }
  - { id: bob, home: E, accounts: [{ env: E, status: active }] }
  - { id: cy, home: E, accounts: [{ env: E, status: active, vip: true }] }
  - { id: dee, home: E, attrs: { badge: gold }, accounts: [{ env: E, status: active }] }
"#;

fn flagged() -> PolicySet {
    let mut sources = Sources::new();
    sources.add("flagged.policy", FLAGGED);
    PolicySet::from_sources(sources).unwrap().set
}

/// G3: a flag left out is its default; given at the top level or under
/// `attrs`, it is the entity's attribute, read by its name.
#[test]
fn g3_a_declared_flag_reads_by_name_with_its_default() {
    let set = flagged();
    let directory = yaml::parse("d.yaml", FLAGGED_DIRECTORY, set.schema()).unwrap();
    let engine = Engine::new(set, directory);
    let ask = |target: &str| {
        let mut request = Request::new("ann", "promote", "E").target(target);
        request.now = Some(now());
        engine.decide(&request).unwrap()
    };
    assert!(ask("bob").allowed(), "vip defaults to false");
    assert!(!ask("cy").allowed(), "vip: true at the account's top level");
    assert_eq!(ask("dee").report.rules[0].id, "gold_stays", "badge under attrs");
}

/// G3, G4: apply writes what `sets` names, the account's flag and the
/// user's attribute, and export writes them at the top level.
#[test]
fn g4_apply_sets_declared_attributes_and_export_writes_them_at_the_top_level() {
    let (dir, db) =
        import_plan_apply((FLAGGED, FLAGGED_DIRECTORY), ["promote", "bob\n", "1 member to be promoted"], &[]);
    let policy = dir.path().join("pack.policy");
    let after = steward::directory::load(&db, flagged().schema()).unwrap();
    let bob = after.account("bob", "E").unwrap();
    assert!(crate::support::flag(&bob.attrs, "vip"));
    assert_eq!(
        after.user("bob").unwrap().attrs.get("badge"),
        Some(&steward::directory::model::AttrValue::Str("gold".into()))
    );
    let exported = steward().arg("export").arg(&db).arg("--policy").arg(&policy).assert().success();
    let text = String::from_utf8(exported.get_output().stdout.clone()).unwrap();
    assert!(text.contains("badge: gold") && text.contains("vip: true"), "{text}");
    assert!(!text.contains("attrs:"), "declared attributes are written at the top level:\n{text}");
}

/// An attribute given at the top level and under `attrs` is an error at
/// the top-level key; an unknown key gets did-you-mean among the declared
/// attributes too.
#[test]
fn a_declared_attribute_given_twice_is_an_error_and_a_misspelt_one_is_found() {
    let set = flagged();
    let twice = "environments: [{ id: E, license: L, kind: production }]\nusers:\n  - { id: bob, home: E, accounts: [{ env: E, status: active, vip: true, attrs: { vip: false } }] }\n";
    let (sources, diagnostics) = yaml::parse("d.yaml", twice, set.schema()).expect_err("an error");
    let first = first_diagnostic(&sources, &diagnostics);
    assert_eq!(first["code"], "duplicate-attribute", "{first}");
    assert_eq!((first["line"].as_u64(), first["column"].as_u64()), (Some(3), Some(62)), "{first}");
    let misspelt = "environments: [{ id: E, license: L, kind: production }]\nusers:\n  - { id: bob, home: E, badg: gold }\n";
    let (sources, diagnostics) = yaml::parse("d.yaml", misspelt, set.schema()).expect_err("an error");
    let rendered = render_human(&sources, &diagnostics);
    assert!(rendered.contains("did you mean `badge`?"), "{rendered}");
}

/// The new declarations keep their layout through `fmt`.
#[test]
fn fmt_keeps_defaults_open_attributes_and_the_identity_provider() {
    let text = "schema extends standard {\n  attribute account.seats: integer = 0\n  attribute asset.*\n  attribute user.tier: one of \"gold\", \"basic\" = \"basic\"\n  action upgrade on account sets seats = 5, user.tier = \"gold\"\n}\n";
    let mut sources = Sources::new();
    let id = sources.add("s.policy", text);
    let file = steward::policy::parse::parse_file(&sources, id).unwrap();
    assert_eq!(steward::policy::fmt::format_file(&file), text);
    let own = "schema {\n  environment kind main live\n  status on counts login\n  account kind staff\n  attribute environment.sso: boolean = false\n  attribute environment.mode: one of \"local\", \"sso\" = \"local\"\n  identity provider when environment.mode == \"sso\" and environment.sso\n}\n";
    let id = sources.add("o.policy", own);
    let file = steward::policy::parse::parse_file(&sources, id).unwrap();
    assert_eq!(steward::policy::fmt::format_file(&file), own);
}

/// Q2, D5 in a pack of its own: `identity provider when` names its own
/// attribute; there an invitation is refused by `invitations-or-idp` and a
/// removal warns `idp_recreates_user`, elsewhere neither.
#[test]
fn q2_d5_a_pack_says_when_an_environment_is_on_an_identity_provider() {
    let text = r#"
schema {
  environment kind production live
  status waiting expires
  status active counts login
  account kind member
  attribute environment.sso: boolean = false
  identity provider when environment.sso
  action invite on addresses creates waiting
  action provision on addresses creates active
  action remove on account removes
}
rule admins { permit invite, provision, remove when actor has role "admin" }
"#;
    let directory = r#"
environments: [{ id: S, license: L, kind: production, sso: true }, { id: M, license: L, kind: production }]
users:
  - { id: ann, home: S, accounts: [{ env: S, status: active, roles: [admin] }, { env: M, status: active, roles: [admin] }] }
  - { id: bob, home: S, accounts: [{ env: S, status: active }, { env: M, status: active }] }
"#;
    let mut sources = Sources::new();
    sources.add("sso.policy", text);
    let set = PolicySet::from_sources(sources).unwrap().set;
    let directory = yaml::parse("d.yaml", directory, set.schema()).unwrap();
    let engine = Engine::new(set, directory);
    let invite = |env: &str| {
        let mut request = Request::new("ann", "invite", env);
        request.emails = vec!["new@example.com".into()];
        request.now = Some(now());
        engine.decide(&request).unwrap()
    };
    let refused = invite("S");
    assert_eq!(refused.report.rules[0].id, "invitations-or-idp", "Q2");
    // The identity provider's own provisioning (an account that may log in
    // at once, no invitation) is no invitation: the policy decides it.
    let mut provision = Request::new("ann", "provision", "S");
    provision.emails = vec!["new@example.com".into()];
    provision.now = Some(now());
    assert!(engine.decide(&provision).unwrap().allowed(), "Q2: provisioning is not an invitation");
    assert!(invite("M").allowed(), "no identity provider where `sso` defaults to false");
    let remove = |env: &str| {
        let mut request = Request::new("ann", "remove", env).target("bob");
        request.now = Some(now());
        let warnings = engine.decide(&request).unwrap().impact.unwrap().warnings;
        warnings.iter().any(|w| w.code == "idp_recreates_user")
    };
    assert!(remove("S"), "D5");
    assert!(!remove("M"));
}
